import type { App, BlockAction } from "@slack/bolt";
import type { FeatureDeps } from "../../kit/deps.js";
import { SNOOZE, WONT_RENEW } from "./blocks.js";
import { warningHandlers } from "./handlers.js";

export function register(app: App, deps: FeatureDeps): void {
  const h = warningHandlers(deps);
  app.action<BlockAction>(SNOOZE, h.snooze);
  app.action<BlockAction>(WONT_RENEW, h.wontRenew);
}
