import type { Interactions } from "../../interactions.js";
import { OPEN_UNSUBSCRIBE } from "../../kit/buttons.js";
import type { FeatureDeps } from "../../kit/deps.js";
import { UNSUB_INSTANCE, UNSUB_VIEW } from "./blocks.js";
import { unsubscribeHandlers } from "./handlers.js";

export { buildUnsubscribeModal } from "./handlers.js";

export function register(app: Interactions, deps: FeatureDeps): void {
  const h = unsubscribeHandlers(deps);
  app.action(OPEN_UNSUBSCRIBE, h.openFromButton);
  app.action(UNSUB_INSTANCE.action, h.refresh);
  app.view(UNSUB_VIEW, h.submit);
}
