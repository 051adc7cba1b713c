import type { Interactions } from "../../interactions.js";
import type { FeatureDeps } from "../../kit/deps.js";
import { BUY_PERIOD, BUY_SITE, BUY_VIEW } from "./blocks.js";
import { buyHandlers } from "./handlers.js";

export { buildBuyModal } from "./handlers.js";

export function register(app: Interactions, deps: FeatureDeps): void {
  const h = buyHandlers(deps);
  app.action(BUY_SITE.action, h.refresh);
  app.action(BUY_PERIOD.action, h.refresh);
  app.view(BUY_VIEW, h.submit);
}
