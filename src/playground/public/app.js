// The playground page: who you are, the conversations, the composer, modals, App Home and the
// clock. It shows the workspace as the server describes it and sends what you do to the server.
import { renderBlocks, stateValues } from "./blocks.js";
import { api, h } from "./dom.js";
import { renderMessages } from "./messages.js";
import { renderModal } from "./modal.js";
import { formatDate } from "./mrkdwn.js";

const $ = (id) => document.getElementById(id);
const app = {
  state: undefined,
  me: localStorage.getItem("kms-playground-user") ?? "U0ADA",
  current: "C0KMSALERTS",
  tab: "messages",
  seen: {},
  dialog: undefined,
  userName: (id) =>
    app.state?.users.find((u) => u.id === id)?.name ??
    (id === app.state?.bot.userId ? app.state.bot.name : undefined),
  async post(path, body) {
    try {
      const answer = await api(path, body);
      app.notice = undefined;
      await refresh();
      return answer;
    } catch (error) {
      showProblem(`The playground could not do that: ${error.message}`);
      return undefined;
    }
  },
};

/** Says what went wrong until the next thing done works. */
function showProblem(text) {
  app.notice = text;
  renderProblems();
}

function renderProblems() {
  const problems = app.state?.problems ?? [];
  const box = $("problems");
  box.hidden = problems.length === 0 && !app.notice;
  box.replaceChildren(
    app.notice ? h("p", {}, app.notice) : "",
    problems.length ? h("p", {}, "Slack would refuse what the bot sent:") : "",
    problems.length
      ? h(
          "ul",
          {},
          problems.map((p) => h("li", {}, p)),
        )
      : "",
  );
}

const conversation = () =>
  app.state.channels.find((c) => c.id === app.current) ?? app.state.channels[0];
const counts = () => {
  const out = {};
  for (const m of app.state.messages) out[m.channel] = (out[m.channel] ?? 0) + 1;
  return out;
};

function context() {
  return {
    app,
    me: app.me,
    users: app.state.users,
    channels: app.state.channels,
    md: {
      now: app.state.now,
      userName: (id) => app.userName(id) ?? id,
      channelName: (id) => app.state.channels.find((c) => c.id === id)?.name ?? id.toLowerCase(),
      openChannel: (id) => open(id),
    },
  };
}

function renderSidebar() {
  const total = counts();
  app.seen[app.me] ??= { ...total };
  const seen = app.seen[app.me];
  seen[app.current] = total[app.current] ?? 0;
  const item = (c) => {
    const unread = (total[c.id] ?? 0) > (seen[c.id] ?? 0);
    const label = c.kind === "dm" ? c.name : `# ${c.name}`;
    return h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: `conv${unread ? " unread" : ""}`,
          "aria-current": c.id === app.current ? "page" : undefined,
          onclick: () => open(c.id),
        },
        label,
        unread
          ? h("span", { class: "badge" }, h("span", { class: "visually-hidden" }, " (unread)"))
          : null,
      ),
    );
  };
  $("channels").replaceChildren(...app.state.channels.filter((c) => c.kind !== "dm").map(item));
  $("dms").replaceChildren(...app.state.channels.filter((c) => c.kind === "dm").map(item));
}

function renderHome(ctx) {
  const home = app.state.home;
  const inputs = new Map();
  const sc = {
    ...ctx,
    inputs,
    act: (action) =>
      app.post("/play/action", {
        user: app.me,
        source: { type: "view", viewId: home.id },
        action,
        values: stateValues(inputs),
      }),
    suggest: (actionId, blockId, value) =>
      api("/play/suggest", { user: app.me, viewId: home.id, actionId, blockId, value }),
  };
  $("home").replaceChildren(
    ...(home ? renderBlocks(home.blocks, sc) : [h("p", { class: "muted" }, "Opening Home…")]),
  );
}

function renderConversation(ctx) {
  const c = conversation();
  app.current = c.id;
  const isDm = c.kind === "dm";
  $("conversation-title").textContent = isDm ? c.name : `# ${c.name}`;
  $("tabs").hidden = !isDm;
  const showHome = isDm && app.tab === "home";
  $("tab-home").setAttribute("aria-selected", String(showHome));
  $("tab-messages").setAttribute("aria-selected", String(!showHome));
  $("home").hidden = !showHome;
  $("messages").hidden = showHome;
  $("composer").hidden = showHome;
  $("message").placeholder = isDm ? "Message kms-bot" : `Message #${c.name}`;
  if (showHome) return renderHome(ctx);
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...renderMessages(app.state.messages, c.id, ctx));
  if (atBottom || app.jump) list.scrollTop = list.scrollHeight;
  app.jump = false;
}

function renderModals(ctx) {
  const top = app.state.modals.at(-1);
  const shown = app.dialog;
  if (shown && top && shown.key === `${top.id}:${top.hash}`) return;
  const same = shown && top && shown.viewId === top.id;
  const carry = same ? shown.values() : {};
  const fields = (d) => [
    ...d.querySelectorAll(".modal-body select, .modal-body input, .modal-body textarea"),
  ];
  const focused = same ? fields(shown).indexOf(document.activeElement) : -1;
  if (shown) {
    shown.close();
    shown.remove();
    app.dialog = undefined;
  }
  if (!top) return;
  const sc = {
    ...ctx,
    act: (action) =>
      app.post("/play/action", {
        user: app.me,
        source: { type: "view", viewId: top.id },
        action,
        values: dialog.values(),
      }),
    suggest: (actionId, blockId, value) =>
      api("/play/suggest", { user: app.me, viewId: top.id, actionId, blockId, value }),
  };
  const dialog = renderModal(
    top,
    sc,
    {
      submit: (values) => app.post("/play/submit", { user: app.me, viewId: top.id, values }),
      close: () => app.post("/play/close", { user: app.me }),
    },
    carry,
  );
  dialog.key = `${top.id}:${top.hash}`;
  dialog.viewId = top.id;
  document.body.append(dialog);
  dialog.showModal();
  fields(dialog)[Math.max(focused, 0)]?.focus();
  app.dialog = dialog;
}

function renderTop() {
  const select = $("user");
  if (select.options.length === 0) {
    select.append(
      ...app.state.users.map((u) => h("option", { value: u.id }, `${u.name} (${u.title})`)),
    );
  }
  select.value = app.me;
  $("now").textContent = formatDate(app.state.now / 1000, "{date_short} {time}", app.state.now);
  $("now").dateTime = new Date(app.state.now).toISOString();
  $("sweep-result").textContent = app.state.lastSweep ?? "";
  if (!$("sweep-date").value) {
    // A week ahead of the playground's time, as the browser writes local date-times.
    const week = new Date(app.state.now + 7 * 86_400_000 - new Date().getTimezoneOffset() * 60_000);
    $("sweep-date").value = week.toISOString().slice(0, 16);
  }
  renderProblems();
}

function render() {
  const ctx = context();
  renderTop();
  renderConversation(ctx);
  renderSidebar();
  renderModals(ctx);
}

async function refresh() {
  app.state = await api(`/play/state?user=${encodeURIComponent(app.me)}`);
  render();
}

function open(id) {
  app.current = id;
  app.tab = "messages";
  app.jump = true;
  render();
}

function wire() {
  $("user").addEventListener("change", async (e) => {
    app.me = e.target.value;
    localStorage.setItem("kms-playground-user", app.me);
    if (app.dialog) {
      app.dialog.close();
      app.dialog.remove();
      app.dialog = undefined;
    }
    await refresh();
  });
  $("composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("message").value.trim();
    if (!text) return;
    $("message").value = "";
    app.jump = true;
    await app.post("/play/send", { user: app.me, channel: app.current, text });
  });
  $("message").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("tab-home").addEventListener("click", async () => {
    app.tab = "home";
    render();
    await app.post("/play/home", { user: app.me });
  });
  $("tab-messages").addEventListener("click", () => open(app.current));
  const sweep = async (button, body) => {
    button.disabled = true;
    $("sweep-result").textContent = "Sweeping…";
    try {
      await app.post("/play/sweep", body);
    } finally {
      button.disabled = false;
      $("sweep-result").textContent = app.state.lastSweep ?? "";
    }
  };
  $("sweep-now").addEventListener("click", (e) => sweep(e.currentTarget, {}));
  $("sweep-at").addEventListener("click", (e) => {
    const value = $("sweep-date").value;
    if (!value) return showProblem("Pick a date to run the sweep at.");
    return sweep(e.currentTarget, { at: new Date(value).toISOString() });
  });
  new EventSource("/play/events").addEventListener("message", () => refresh());
}

wire();
refresh();
