import type { Interactions } from "../../interactions.js";
import { EXPORT_BILLS } from "../../kit/buttons.js";
import type { FeatureDeps } from "../../kit/deps.js";
import { billsHandlers } from "./handlers.js";

export function register(app: Interactions, deps: FeatureDeps): void {
  app.action(EXPORT_BILLS, billsHandlers(deps).exportButton);
}
