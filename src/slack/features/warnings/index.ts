import type { Interactions } from "../../interactions.js";
import type { FeatureDeps } from "../../kit/deps.js";
import { SNOOZE, WONT_RENEW } from "./blocks.js";
import { warningHandlers } from "./handlers.js";

export function register(app: Interactions, deps: FeatureDeps): void {
  const h = warningHandlers(deps);
  app.action(SNOOZE, h.snooze);
  app.action(WONT_RENEW, h.wontRenew);
}
