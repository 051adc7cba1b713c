// Action ids shared by several surfaces (status, App Home, warnings), with the builders that
// create the buttons. Listeners in src/actions use the same constants.
import type { Button } from "@slack/types";
import { plain } from "./common.js";

/** Opens the renew modal for the instance in the button's value. */
export const OPEN_RENEW = "open_renew";
/** Uploads the CSV of the month in the button's value to the clicker's DM. */
export const EXPORT_BILLS = "export_bills";

export function renewButton(instanceId: string): Button {
  return {
    type: "button",
    action_id: OPEN_RENEW,
    text: plain("Renew", 75),
    value: instanceId,
    style: "primary",
  };
}

export function exportBillsButton(month: string): Button {
  return { type: "button", action_id: EXPORT_BILLS, text: plain("Export CSV", 75), value: month };
}
