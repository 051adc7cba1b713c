import type { App } from "@slack/bolt";
import type { BillingContext } from "../billing/context.js";
import type { BillingProvider } from "../billing/provider.js";
import type { BotConfig } from "../config.js";
import * as bills from "./features/bills/index.js";
import * as buy from "./features/buy/index.js";
import * as faq from "./features/faq/index.js";
import * as home from "./features/home/index.js";
import * as renew from "./features/renew/index.js";
import * as tickets from "./features/tickets/index.js";
import * as unsubscribe from "./features/unsubscribe/index.js";
import * as warnings from "./features/warnings/index.js";
import { Interactions } from "./interactions.js";
import type { FeatureDeps } from "./kit/deps.js";
import { registerCommands } from "./router.js";

/** Registers the `/kms` command and every feature's buttons, modals and events. */
export function registerFeatures(
  app: App,
  {
    billing,
    config,
    provider,
    slackError,
  }: {
    billing: BillingContext;
    config: BotConfig;
    provider: BillingProvider;
    slackError: FeatureDeps["slackError"];
  },
): void {
  const deps: FeatureDeps = {
    billing,
    config,
    provider,
    slackError,
    refreshHome: home.homeRefresher({ billing, provider }),
  };
  registerCommands(app, deps);
  const interactions = new Interactions();
  for (const feature of [renew, buy, bills, unsubscribe, tickets, faq, warnings, home]) {
    feature.register(interactions, deps);
  }
  interactions.install(app);
}
