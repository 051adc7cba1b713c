import type { App } from "@slack/bolt";
import * as actions from "./actions/index.js";
import type { BillingContext } from "./billing/context.js";
import * as commands from "./commands/index.js";
import type { BotConfig } from "./config.js";
import * as events from "./events/index.js";
import * as views from "./views/index.js";

/** What every listener module receives besides the app. */
export interface ListenerDeps {
  billing: BillingContext;
  config: BotConfig;
}

/** Registers every listener: one `register(app, deps)` per folder. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  commands.register(app, deps);
  actions.register(app, deps);
  views.register(app, deps);
  events.register(app, deps);
}
