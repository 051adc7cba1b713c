import type { Interactions } from "../../interactions.js";
import { OPEN_RENEW } from "../../kit/buttons.js";
import type { FeatureDeps } from "../../kit/deps.js";
import { RENEW_INSTANCE, RENEW_PERIOD, RENEW_VIEW } from "./blocks.js";
import { renewHandlers } from "./handlers.js";

export { buildRenewModal } from "./handlers.js";

export function register(app: Interactions, deps: FeatureDeps): void {
  const h = renewHandlers(deps);
  app.action(OPEN_RENEW, h.openFromButton);
  app.action(RENEW_INSTANCE.action, h.refresh);
  app.action(RENEW_PERIOD.action, h.refresh);
  app.view(RENEW_VIEW, h.submit);
}
