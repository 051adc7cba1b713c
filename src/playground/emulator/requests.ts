/**
 * Requests as Slack sends them to an app (slash commands, interactivity, events), built with the
 * same fields Slack sends. Sign and send them with `postToApp` (signing.ts).
 */
import type { SlackRequest } from "./signing.js";

type JsonObject = Record<string, unknown>;

/** Ids used by default in built payloads and by the fake Slack. */
export const SLACK_TEST_IDS = {
  teamId: "T0TEST",
  teamDomain: "kms-test",
  appId: "A0TEST",
  userId: "U0MEMBER1",
  userName: "member1",
  channelId: "C0GENERAL",
  channelName: "general",
  botUserId: "U0KMSBOT",
  botId: "B0KMSBOT",
  /** The deprecated verification token Slack still sends in payloads. */
  verificationToken: "legacy-verification-token",
  /** Not issued by any fake: views.open with it answers `invalid_trigger_id`. */
  triggerId: "0000000000.0000000000000.unissued",
  /** Nothing listens there: pass `fake.newResponseUrl()` when the app should respond. */
  responseUrl: "http://127.0.0.1:9/response/unset",
} as const;

const nowSec = (): number => Math.floor(Date.now() / 1000);

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";

const form = (fields: Record<string, string>): SlackRequest => ({
  body: new URLSearchParams(fields).toString(),
  contentType: FORM,
});

/** Interactivity payloads arrive as a form with one field, `payload`, holding JSON. */
const interactive = (payload: JsonObject): SlackRequest =>
  form({ payload: JSON.stringify(payload) });

/** "1712345678.123456"-style timestamp for action_ts/event_ts/message ts. */
const slackTs = (): string => `${nowSec()}.${String(Date.now() % 1_000_000).padStart(6, "0")}`;

function userOf(userId: string, teamId: string): JsonObject {
  return {
    id: userId,
    username: `user-${userId.toLowerCase()}`,
    name: `user-${userId.toLowerCase()}`,
    team_id: teamId,
  };
}

function teamOf(teamId: string): JsonObject {
  return { id: teamId, domain: SLACK_TEST_IDS.teamDomain };
}

export interface SlashCommandOptions {
  text?: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  command?: string;
  triggerId?: string;
  responseUrl?: string;
  teamId?: string;
}

export function slashCommand(options: SlashCommandOptions = {}): SlackRequest {
  const userId = options.userId ?? SLACK_TEST_IDS.userId;
  return form({
    token: SLACK_TEST_IDS.verificationToken,
    team_id: options.teamId ?? SLACK_TEST_IDS.teamId,
    team_domain: SLACK_TEST_IDS.teamDomain,
    channel_id: options.channelId ?? SLACK_TEST_IDS.channelId,
    channel_name: options.channelName ?? SLACK_TEST_IDS.channelName,
    user_id: userId,
    user_name: options.userName ?? `user-${userId.toLowerCase()}`,
    command: options.command ?? "/kms",
    text: options.text ?? "",
    api_app_id: SLACK_TEST_IDS.appId,
    is_enterprise_install: "false",
    response_url: options.responseUrl ?? SLACK_TEST_IDS.responseUrl,
    trigger_id: options.triggerId ?? SLACK_TEST_IDS.triggerId,
  });
}

/** The block and element in `blocks` with this action_id, if any. */
function findAction(
  blocks: unknown,
  actionId: string,
): { block: JsonObject; element: JsonObject } | undefined {
  if (!Array.isArray(blocks)) return undefined;
  for (const block of blocks as JsonObject[]) {
    const candidates = [
      ...(Array.isArray(block?.elements) ? (block.elements as JsonObject[]) : []),
      block?.accessory,
      block?.element,
    ];
    for (const element of candidates) {
      if (typeof element === "object" && element !== null) {
        const found = element as JsonObject;
        if (found.action_id === actionId) return { block, element: found };
      }
    }
  }
  return undefined;
}

export interface BlockActionOptions {
  actionId: string;
  /** Button value (default: the value of the element with this action_id in the message/view). */
  value?: string;
  /** Default: the block_id of the block holding the element with this action_id. */
  blockId?: string;
  /** Element type (default: found in the message/view; `static_select` with selectedOption; else `button`). */
  actionType?: string;
  /** For selects: `{ value }` is enough when the option is in the message/view. */
  selectedOption?: { value: string; text?: string };
  userId?: string;
  teamId?: string;
  channelId?: string;
  triggerId?: string;
  /** Sent for message actions (default: an unusable URL); for view actions only when given. */
  responseUrl?: string;
  /** The view the action happened in (e.g. `fake.findView("renew")`): a `view` container. */
  view?: JsonObject;
  /** The message the action happened in (default: a bot message with no blocks). */
  message?: JsonObject;
  container?: JsonObject;
  /** `state.values` of the message/view. */
  stateValues?: JsonObject;
  /** Fields merged into the action, e.g. `selected_options` of checkboxes, `selected_user`. */
  action?: JsonObject;
}

export function blockAction(options: BlockActionOptions): SlackRequest {
  const teamId = options.teamId ?? SLACK_TEST_IDS.teamId;
  const channelId = options.channelId ?? SLACK_TEST_IDS.channelId;
  const { view } = options;
  const message =
    options.message ??
    (view
      ? undefined
      : {
          type: "message",
          user: SLACK_TEST_IDS.botUserId,
          bot_id: SLACK_TEST_IDS.botId,
          text: "",
          ts: slackTs(),
          blocks: [],
        });
  const found = findAction(view?.blocks ?? message?.blocks, options.actionId);
  const actionType =
    options.actionType ??
    (typeof found?.element.type === "string" ? found.element.type : undefined) ??
    (options.selectedOption ? "static_select" : "button");
  const action: JsonObject = {
    action_id: options.actionId,
    block_id: options.blockId ?? found?.block.block_id ?? "fake_block",
    type: actionType,
    action_ts: slackTs(),
  };
  if (actionType === "button") {
    action.text = found?.element.text ?? { type: "plain_text", text: "Button", emoji: true };
    const value = options.value ?? found?.element.value;
    if (value !== undefined) action.value = value;
  }
  if (options.selectedOption) {
    const options_ = Array.isArray(found?.element.options)
      ? (found.element.options as JsonObject[])
      : [];
    const listed = options_.find((option) => option.value === options.selectedOption?.value);
    action.selected_option = listed ?? {
      text: {
        type: "plain_text",
        text: options.selectedOption.text ?? options.selectedOption.value,
        emoji: true,
      },
      value: options.selectedOption.value,
    };
  }
  Object.assign(action, options.action);
  const container =
    options.container ??
    (view
      ? { type: "view", view_id: view.id }
      : { type: "message", message_ts: message?.ts, channel_id: channelId, is_ephemeral: false });
  const payload: JsonObject = {
    type: "block_actions",
    user: userOf(options.userId ?? SLACK_TEST_IDS.userId, teamId),
    api_app_id: SLACK_TEST_IDS.appId,
    token: SLACK_TEST_IDS.verificationToken,
    container,
    trigger_id: options.triggerId ?? SLACK_TEST_IDS.triggerId,
    team: teamOf(teamId),
    enterprise: null,
    is_enterprise_install: false,
    state: { values: options.stateValues ?? {} },
    actions: [action],
  };
  if (view) {
    payload.view = { ...view, state: { values: options.stateValues ?? {} } };
    if (options.responseUrl) payload.response_url = options.responseUrl;
  } else {
    payload.channel = { id: channelId, name: SLACK_TEST_IDS.channelName };
    payload.message = message;
    payload.response_url = options.responseUrl ?? SLACK_TEST_IDS.responseUrl;
  }
  return interactive(payload);
}

export interface ViewSubmissionOptions {
  /** Default: the base view's callback_id. */
  callbackId?: string;
  /** `view.state.values`: `{ [blockId]: { [actionId]: { type, value | selected_option | ... } } }`. */
  values?: JsonObject;
  privateMetadata?: string;
  userId?: string;
  teamId?: string;
  viewId?: string;
  hash?: string;
  triggerId?: string;
  /** The view being submitted (e.g. `fake.findView("renew")`); its fields are kept. */
  view?: JsonObject;
  responseUrls?: JsonObject[];
}

export function viewSubmission(options: ViewSubmissionOptions = {}): SlackRequest {
  const teamId = options.teamId ?? SLACK_TEST_IDS.teamId;
  const base = options.view ?? {};
  const viewId = options.viewId ?? (typeof base.id === "string" ? base.id : "V0SUBMITTED");
  const view: JsonObject = {
    id: viewId,
    team_id: teamId,
    type: "modal",
    blocks: [],
    title: { type: "plain_text", text: "Modal", emoji: true },
    close: null,
    submit: null,
    clear_on_close: false,
    notify_on_close: false,
    previous_view_id: null,
    root_view_id: viewId,
    app_id: SLACK_TEST_IDS.appId,
    external_id: "",
    app_installed_team_id: teamId,
    bot_id: SLACK_TEST_IDS.botId,
    ...base,
    private_metadata: options.privateMetadata ?? base.private_metadata ?? "",
    callback_id: options.callbackId ?? base.callback_id ?? "",
    hash: options.hash ?? base.hash ?? `${nowSec()}.fakehash`,
    state: { values: options.values ?? {} },
  };
  return interactive({
    type: "view_submission",
    team: teamOf(teamId),
    user: userOf(options.userId ?? SLACK_TEST_IDS.userId, teamId),
    api_app_id: SLACK_TEST_IDS.appId,
    token: SLACK_TEST_IDS.verificationToken,
    trigger_id: options.triggerId ?? SLACK_TEST_IDS.triggerId,
    view,
    response_urls: options.responseUrls ?? [],
    is_enterprise_install: false,
    enterprise: null,
  });
}

export interface BlockSuggestionOptions {
  actionId: string;
  blockId: string;
  /** What the person typed so far. */
  value: string;
  userId?: string;
  teamId?: string;
  /** The view the select is in (external selects in messages send a message container). */
  view?: JsonObject;
  container?: JsonObject;
}

/** What Slack sends to load an external select's options as a person types. */
export function blockSuggestion(options: BlockSuggestionOptions): SlackRequest {
  const teamId = options.teamId ?? SLACK_TEST_IDS.teamId;
  const { view } = options;
  return interactive({
    type: "block_suggestion",
    user: userOf(options.userId ?? SLACK_TEST_IDS.userId, teamId),
    container: options.container ?? (view ? { type: "view", view_id: view.id } : {}),
    api_app_id: SLACK_TEST_IDS.appId,
    token: SLACK_TEST_IDS.verificationToken,
    action_id: options.actionId,
    block_id: options.blockId,
    value: options.value,
    team: teamOf(teamId),
    ...(view ? { view } : {}),
    is_enterprise_install: false,
    enterprise: null,
  });
}

export interface EventCallbackOptions {
  /** The inner event, e.g. `{ type: "app_home_opened", user, tab: "home" }`; event_ts is added if missing. */
  event: JsonObject;
  eventId?: string;
  teamId?: string;
  eventTime?: number;
  botUserId?: string;
}

let eventSeq = 0;

export function eventCallback(options: EventCallbackOptions): SlackRequest {
  const teamId = options.teamId ?? SLACK_TEST_IDS.teamId;
  eventSeq += 1;
  const body = {
    token: SLACK_TEST_IDS.verificationToken,
    team_id: teamId,
    api_app_id: SLACK_TEST_IDS.appId,
    event: { event_ts: slackTs(), ...options.event },
    type: "event_callback",
    event_id: options.eventId ?? `Ev0TEST${String(eventSeq).padStart(6, "0")}`,
    event_time: options.eventTime ?? nowSec(),
    authorizations: [
      {
        enterprise_id: null,
        team_id: teamId,
        user_id: options.botUserId ?? SLACK_TEST_IDS.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-fake-${eventSeq}`,
  };
  return { body: JSON.stringify(body), contentType: JSON_TYPE };
}

export function urlVerification(challenge: string): SlackRequest {
  const body = { token: SLACK_TEST_IDS.verificationToken, challenge, type: "url_verification" };
  return { body: JSON.stringify(body), contentType: JSON_TYPE };
}

/** Slack's SSL check: a form POST, unsigned on Slack's side but harmless to sign. */
export function sslCheck(): SlackRequest {
  return form({ ssl_check: "1", token: SLACK_TEST_IDS.verificationToken });
}
