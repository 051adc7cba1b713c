/**
 * `npm run playground`: kms-bot and a stand-in for Slack in the browser, no workspace needed.
 * Prints one line, `Playground: http://127.0.0.1:<PORT>/`. `--fresh` starts the sample over.
 */
import { startPlayground } from "./playground.js";

const fail = (message: string): never => {
  console.error(`playground: ${message}`);
  process.exit(2);
};

if (process.env.NODE_ENV === "production") {
  fail(
    "refusing to start with NODE_ENV=production: the playground is a development and demo tool.",
  );
}
const unknown = process.argv.slice(2).filter((arg) => arg !== "--fresh");
if (unknown.length > 0) fail(`unknown argument ${unknown.join(" ")} (only --fresh)`);
const portText = process.env.PORT?.trim() || "3000";
const port = Number(portText);
if (!/^\d+$/.test(portText) || port > 65535) fail(`PORT must be a port number, got "${portText}"`);

const playground = await startPlayground({ port, fresh: process.argv.includes("--fresh") }).catch(
  (error: unknown) => fail(error instanceof Error ? error.message : String(error)),
);
console.log(`Playground: ${playground.url}`);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), 10_000).unref();
    await playground.stop();
    process.exit(0);
  });
}
