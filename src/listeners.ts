import type { App } from "@slack/bolt";
import type { BillingContext } from "./billing/context.js";
import * as commands from "./commands/index.js";
import type { BotConfig } from "./config.js";

/** What every listener module receives besides the app. */
export interface ListenerDeps {
  billing: BillingContext;
  config: BotConfig;
}

/** Registers every listener: one `register(app, deps)` per folder. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  commands.register(app, deps);
}
