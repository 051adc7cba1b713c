import type { App, BlockAction } from "@slack/bolt";
import { EXPORT_BILLS } from "../../kit/buttons.js";
import type { FeatureDeps } from "../../kit/deps.js";
import { billsHandlers } from "./handlers.js";

export function register(app: App, deps: FeatureDeps): void {
  app.action<BlockAction>(EXPORT_BILLS, billsHandlers(deps).exportButton);
}
