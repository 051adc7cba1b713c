import type {
  AllMiddlewareArgs,
  BlockAction,
  Logger,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { BillingContext } from "../../billing/context.js";
import type { BillingProvider } from "../../billing/provider.js";
import type { BotConfig } from "../../config.js";

/** The billing core and where money and the fleet live (KMS_PROVIDER). */
export interface Billing {
  billing: BillingContext;
  provider: BillingProvider;
}

/** What every feature receives when it registers. */
export interface FeatureDeps extends Billing {
  config: BotConfig;
  /** Re-publishes a person's App Home after a change they made; failures are logged. */
  refreshHome(client: WebClient, userId: string, logger: Logger): Promise<void>;
  /** Counts a failed call to Slack made outside the Web API client (kms_slack_api_errors_total). */
  slackError(method: string, error: string): void;
}

/** What a block action listener receives. */
export type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;
/** What a view submission listener receives. */
export type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;
