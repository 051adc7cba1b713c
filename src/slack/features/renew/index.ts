import type { App, BlockAction } from "@slack/bolt";
import { OPEN_RENEW } from "../../kit/buttons.js";
import type { FeatureDeps } from "../../kit/deps.js";
import { RENEW_INSTANCE, RENEW_PERIOD, RENEW_VIEW } from "./blocks.js";
import { renewHandlers } from "./handlers.js";

export { buildRenewModal } from "./handlers.js";

export function register(app: App, deps: FeatureDeps): void {
  const h = renewHandlers(deps);
  app.action<BlockAction>(OPEN_RENEW, h.openFromButton);
  app.action<BlockAction>(RENEW_INSTANCE.action, h.refresh);
  app.action<BlockAction>(RENEW_PERIOD.action, h.refresh);
  app.view(RENEW_VIEW, h.submit);
}
