import type { App, BlockAction } from "@slack/bolt";
import type { FeatureDeps } from "../../kit/deps.js";
import {
  APPROVE_TICKET,
  MARK_REFUNDED,
  REJECT_TICKET,
  REJECT_VIEW,
  WITHDRAW_TICKET,
} from "./blocks.js";
import { markRefundedHandler, rejectSubmitHandler, ticketHandlers } from "./handlers.js";

export function register(app: App, deps: FeatureDeps): void {
  const h = ticketHandlers(deps);
  app.action<BlockAction>(APPROVE_TICKET, h.approve);
  app.action<BlockAction>(REJECT_TICKET, h.rejectButton);
  app.action<BlockAction>(WITHDRAW_TICKET, h.withdraw);
  app.action<BlockAction>(MARK_REFUNDED, markRefundedHandler(deps));
  app.view(REJECT_VIEW, rejectSubmitHandler(deps));
}
