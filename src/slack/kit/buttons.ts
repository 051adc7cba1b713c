// Buttons that several surfaces show (status, App Home, warnings, bills, tickets), with the
// action ids their features listen to.
import type { Button } from "@slack/types";
import { plain } from "./blocks.js";

/** Opens the renew modal for the instance in the button's value. */
export const OPEN_RENEW = "open_renew";
/** Uploads the CSV of the month in the button's value to the clicker's DM. */
export const EXPORT_BILLS = "export_bills";
/** Opens the unsubscribe modal for the instance in the value. */
export const OPEN_UNSUBSCRIBE = "open_unsubscribe";
/** The Unsubscribe button's value when no instance is chosen yet (App Home). */
export const ANY_INSTANCE = "*";

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

export function unsubscribeButton(instanceId: string = ANY_INSTANCE): Button {
  return {
    type: "button",
    action_id: OPEN_UNSUBSCRIBE,
    text: plain(instanceId === ANY_INSTANCE ? "Unsubscribe an instance" : "Unsubscribe", 75),
    value: instanceId,
  };
}
