/**
 * The baseline: a Bolt app configured like kms-bot (HTTP receiver, same signing secret, same
 * Web API URL) whose only listener acknowledges `/kms` with an empty body. Run as
 * `node dist-bench/bench/servers/bare-bolt.js` with PORT, SLACK_BOT_TOKEN,
 * SLACK_SIGNING_SECRET and SLACK_API_URL set.
 */
import { App, HTTPReceiver, LogLevel } from "@slack/bolt";

const port = Number(process.env.PORT ?? 3000);
const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  receiver: new HTTPReceiver({
    signingSecret: process.env.SLACK_SIGNING_SECRET ?? "",
    customRoutes: [
      {
        path: "/healthz",
        method: ["GET"],
        handler: (_req, res) => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end('{"ok":true}');
        },
      },
    ],
  }),
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  logLevel: LogLevel.INFO,
});
app.command("/kms", async ({ ack }) => {
  await ack();
});
await app.start(port);
console.log(`bare-bolt: listening on http://localhost:${port}`);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, async () => {
    await app.stop();
    process.exit(0);
  });
}
