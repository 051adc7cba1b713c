import type { App } from "@slack/bolt";
import type { ListenerDeps } from "../listeners.js";

export const USAGE = [
  "*kms-bot*: Dedicated KMS subscriptions from Slack.",
  "`/kms status [<instance>]`, `/kms renew [<instance>]`, `/kms balance`, `/kms bills [YYYY-MM]`, `/kms help`",
].join("\n");

export function register(app: App, _deps: ListenerDeps): void {
  app.command("/kms", async ({ ack }) => {
    await ack({ response_type: "ephemeral", text: USAGE });
  });
}
