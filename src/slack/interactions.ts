import type {
  AllMiddlewareArgs,
  App,
  SlackActionMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackViewMiddlewareArgs,
} from "@slack/bolt";
import type { ModalView } from "@slack/types";
import type { Stage } from "../ops/stages.js";
import { plain, section } from "./kit/blocks.js";
import type { ActionArgs, SubmitArgs } from "./kit/deps.js";

type EventType = "app_home_opened" | "app_mention" | "message";
type EventArgs<T extends EventType> = SlackEventMiddlewareArgs<T> & AllMiddlewareArgs;
type Handler<A> = (args: A) => Promise<void>;

/**
 * Every feature's buttons, modal submissions and events, found by id in one table.
 *
 * Bolt runs each listener's matchers for every request, one middleware chain per listener,
 * so two dozen listeners cost about as much as the rest of a request. Here Bolt holds one
 * listener per kind of payload and the id picks the handler: a request costs the same
 * whatever the number of buttons.
 */
export class Interactions {
  readonly #actions = new Map<string, Handler<ActionArgs>>();
  readonly #views = new Map<string, Handler<SubmitArgs>>();
  readonly #events = new Map<string, Handler<never>>();

  /** A block action (button, select) by its `action_id`. */
  action(actionId: string, handler: Handler<ActionArgs>): void {
    add(this.#actions, "action", actionId, handler);
  }

  /** A modal submission by the view's `callback_id`. */
  view(callbackId: string, handler: Handler<SubmitArgs>): void {
    add(this.#views, "view", callbackId, handler);
  }

  /** An Events API event by its type. */
  event<T extends EventType>(type: T, handler: Handler<EventArgs<T>>): void {
    add(this.#events, "event", type, handler as Handler<never>);
  }

  /**
   * Installs the table in Bolt. A button nothing handles (a link button, or one from a
   * message an older version posted) is acknowledged and logged, so Slack shows no error.
   */
  install(app: App): void {
    app.action(
      { type: "block_actions" },
      async (args: SlackActionMiddlewareArgs & AllMiddlewareArgs) => {
        const a = args as ActionArgs;
        const handler = this.#actions.get(a.action.action_id);
        if (handler) return handler(a);
        await args.ack();
        args.logger.debug(`kms-bot: no handler for action ${a.action.action_id}; acknowledged`);
      },
    );
    app.view(
      { type: "view_submission" },
      async (args: SlackViewMiddlewareArgs & AllMiddlewareArgs) => {
        const handler = this.#views.get(args.view.callback_id);
        if (handler) return handler(args as SubmitArgs);
        // A form from an older version (its id renamed since): say so instead of closing it
        // as if it had been done.
        await args.ack({ response_action: "update", view: OUT_OF_DATE });
        args.logger.warn(
          `kms-bot: no handler for view ${args.view.callback_id}; told it is out of date`,
        );
      },
    );
    const events = [...this.#events.keys()].join("|");
    app.event(new RegExp(`^(?:${events})$`), async (args) => {
      await this.#events.get(args.event.type)?.(args as never);
    });
  }
}

/** What a submitted form that no feature owns is replaced with. */
const OUT_OF_DATE: ModalView = {
  type: "modal",
  title: plain("kms-bot", 24),
  close: plain("Close", 24),
  blocks: [
    section(
      ":warning: This form is from an older version of kms-bot and nothing was done with it. Close it and start again (for example with `/kms help`).",
    ),
  ],
};

function add<H>(table: Map<string, H>, kind: string, id: string, handler: H): void {
  if (table.has(id)) throw new Error(`kms-bot: two handlers for the ${kind} "${id}"`);
  table.set(id, handler);
}

/**
 * The first request stage: the bot's own events (the DMs and answers it posts come back as
 * `message.im`) end here, before they are logged, counted or admitted. This is Bolt's
 * `ignoreSelf` check, which is off because Bolt ran it as a middleware of its own.
 */
export const ignoreOwnEvents: Stage = async ({ body, context }, next) => {
  const event = (body as { type?: unknown; event?: { user?: unknown; bot_id?: unknown } }).event;
  const own = (id: unknown, ours: string | undefined) => typeof id === "string" && id === ours;
  if (
    (body as { type?: unknown }).type === "event_callback" &&
    (own(event?.user, context.botUserId) || own(event?.bot_id, context.botId))
  )
    return;
  await next();
};
