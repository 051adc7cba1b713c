import type { App, BlockAction } from "@slack/bolt";
import { OPEN_UNSUBSCRIBE } from "../../kit/buttons.js";
import type { FeatureDeps } from "../../kit/deps.js";
import { UNSUB_INSTANCE, UNSUB_VIEW } from "./blocks.js";
import { unsubscribeHandlers } from "./handlers.js";

export { buildUnsubscribeModal } from "./handlers.js";

export function register(app: App, deps: FeatureDeps): void {
  const h = unsubscribeHandlers(deps);
  app.action<BlockAction>(OPEN_UNSUBSCRIBE, h.openFromButton);
  app.action<BlockAction>(UNSUB_INSTANCE.action, h.refresh);
  app.view(UNSUB_VIEW, h.submit);
}
