/**
 * The emulator's `views.*` methods, and the modal stack a person sees: views opened with a trigger
 * id issued for them stack up; a submission's `response_action` updates, pushes or clears.
 */
import { randomBytes } from "node:crypto";
import { isObject } from "./blockkit-rules.js";
import { fail, type Handler, matches, str } from "./http.js";
import type { JsonObject } from "./types.js";
import type { Workspace } from "./workspace.js";

function viewObject(
  ws: Workspace,
  input: JsonObject,
  id: string,
  previous?: JsonObject,
): JsonObject {
  return {
    id,
    team_id: ws.ids.teamId,
    type: input.type,
    blocks: input.blocks,
    private_metadata: input.private_metadata ?? "",
    callback_id: input.callback_id ?? "",
    state: { values: {} },
    hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString("hex")}`,
    title: input.title ?? null,
    close: input.close ?? null,
    submit: input.submit ?? null,
    clear_on_close: input.clear_on_close === true || input.clear_on_close === "true",
    notify_on_close: input.notify_on_close === true || input.notify_on_close === "true",
    previous_view_id: previous?.previous_view_id ?? null,
    root_view_id: previous?.root_view_id ?? id,
    app_id: ws.ids.appId,
    external_id: input.external_id ?? "",
    app_installed_team_id: ws.ids.teamId,
    bot_id: ws.ids.botId,
  };
}

/** Adds a new modal on top of `user`'s stack (views.open starts a new stack). */
function stackUp(ws: Workspace, user: string, id: string, fresh: boolean): void {
  const stack = fresh ? [] : (ws.stacks.get(user) ?? []);
  ws.stacks.set(user, [...stack, id]);
}

function openView(ws: Workspace, method: "views.open" | "views.push", args: JsonObject) {
  const triggerError = ws.triggerError(args.trigger_id);
  if (triggerError) return triggerError;
  const failure = ws.viewFailure(method, args.view, "modal");
  if (failure || !isObject(args.view)) return failure ?? fail("invalid_arguments");
  const trigger = ws.triggers.get(String(args.trigger_id));
  if (trigger) trigger.used = true;
  const id = ws.newId("V");
  const view = viewObject(ws, args.view, id);
  ws.storedViews.set(id, view);
  if (trigger?.user) stackUp(ws, trigger.user, id, method === "views.open");
  return { ok: true, view };
}

function updateView(ws: Workspace, args: JsonObject): JsonObject {
  const viewId = str(args.view_id);
  const externalId = str(args.external_id);
  if (!viewId && !externalId) return fail("invalid_arguments");
  const current = viewId
    ? ws.storedViews.get(viewId)
    : [...ws.storedViews.values()].find((view) => view.external_id === externalId);
  if (!current) return fail("not_found");
  if (str(args.hash) && args.hash !== current.hash) return fail("hash_conflict");
  const failure = ws.viewFailure("views.update", args.view);
  if (failure || !isObject(args.view)) return failure ?? fail("invalid_arguments");
  const id = String(current.id);
  const view = viewObject(ws, args.view, id, current);
  ws.storedViews.set(id, view);
  return { ok: true, view };
}

function publishView(ws: Workspace, args: JsonObject): JsonObject {
  const user = str(args.user_id);
  if (!user) return fail("invalid_arguments");
  if (matches(ws.options.missingUsers, user)) return fail("user_not_found");
  const existingId = ws.homeViews.get(user);
  const current = existingId ? ws.storedViews.get(existingId) : undefined;
  if (current && str(args.hash) && args.hash !== current.hash) return fail("hash_conflict");
  const failure = ws.viewFailure("views.publish", args.view, "home");
  if (failure || !isObject(args.view)) return failure ?? fail("invalid_arguments");
  const id = existingId ?? ws.newId("V");
  const view = viewObject(ws, args.view, id, current);
  ws.storedViews.set(id, view);
  ws.homeViews.set(user, id);
  return { ok: true, view };
}

export function viewMethods(ws: Workspace): Record<string, Handler> {
  return {
    "views.open": (args) => openView(ws, "views.open", args),
    "views.push": (args) => openView(ws, "views.push", args),
    "views.update": (args) => updateView(ws, args),
    "views.publish": (args) => publishView(ws, args),
  };
}

export function modalStack(ws: Workspace, user: string): JsonObject[] {
  const views = (ws.stacks.get(user) ?? []).map((id) => ws.storedViews.get(id));
  return views.filter((view): view is JsonObject => view !== undefined);
}

export function closeModal(ws: Workspace, user: string, all = false): void {
  const stack = ws.stacks.get(user) ?? [];
  ws.stacks.set(user, all ? [] : stack.slice(0, -1));
}

/**
 * A view_submission answered `response_action: update` (replaces the top modal) or `push`.
 * Checked like views.update / views.push; throws with Slack's error when the view is refused.
 */
export function applyResponseAction(
  ws: Workspace,
  user: string,
  action: "update" | "push",
  input: unknown,
): JsonObject {
  const method = action === "update" ? "views.update" : "views.push";
  const failure = ws.viewFailure(`response_action ${action}`, input, "modal");
  if (failure || !isObject(input)) throw new Error(`${method} refused: ${JSON.stringify(failure)}`);
  const stack = ws.stacks.get(user) ?? [];
  const top = stack.at(-1);
  const current = top ? ws.storedViews.get(top) : undefined;
  if (action === "update" && top && current) {
    const view = viewObject(ws, input, top, current);
    ws.storedViews.set(top, view);
    return view;
  }
  const id = ws.newId("V");
  const view = viewObject(ws, input, id);
  ws.storedViews.set(id, view);
  stackUp(ws, user, id, false);
  return view;
}
