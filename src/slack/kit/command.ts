import type { Logger } from "@slack/bolt";
import type { KnownBlock } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import type { Actor, BillingContext } from "../../billing/context.js";
import type { BillingProvider } from "../../billing/provider.js";

/** Who ran a `/kms` command, and what a command handler may use. */
export interface Invocation {
  billing: BillingContext;
  provider: BillingProvider;
  actor: Actor;
  userId: string;
  triggerId: string;
  client: WebClient;
  logger: Logger;
}

/** An ephemeral answer to a command. */
export interface Reply {
  text: string;
  blocks?: KnownBlock[];
}

export function text(t: string): Reply {
  return { text: t };
}
