// The row types and constants the Slack edge shows, re-exported so that only the core
// imports the store.
export type {
  FaqRow,
  InstanceRow,
  Site,
  TicketRow,
  WarningKind,
  WarningRow,
} from "../store/rows.js";
export { SITES } from "../store/rows.js";
