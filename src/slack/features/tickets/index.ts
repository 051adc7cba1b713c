import type { Interactions } from "../../interactions.js";
import type { FeatureDeps } from "../../kit/deps.js";
import {
  APPROVE_TICKET,
  MARK_REFUNDED,
  REJECT_TICKET,
  REJECT_VIEW,
  WITHDRAW_TICKET,
} from "./blocks.js";
import { markRefundedHandler, rejectSubmitHandler, ticketHandlers } from "./handlers.js";

export function register(app: Interactions, deps: FeatureDeps): void {
  const h = ticketHandlers(deps);
  app.action(APPROVE_TICKET, h.approve);
  app.action(REJECT_TICKET, h.rejectButton);
  app.action(WITHDRAW_TICKET, h.withdraw);
  app.action(MARK_REFUNDED, markRefundedHandler(deps));
  app.view(REJECT_VIEW, rejectSubmitHandler(deps));
}
