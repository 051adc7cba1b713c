/**
 * The Slack emulator: a stand-in Web API (the tests' fake Slack and the playground's workspace),
 * Block Kit validation, and requests built and signed as Slack sends them to an app.
 */
export * from "./blockkit.js";
export * from "./requests.js";
export { startFakeSlack } from "./server.js";
export * from "./signing.js";
export * from "./types.js";
