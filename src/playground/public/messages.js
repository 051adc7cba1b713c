// The message list of one conversation: bot and people's messages, ephemeral ones marked
// "Only visible to you", thread replies under their parent, files offered as downloads.
import { renderBlocks, stateValues } from "./blocks.js";
import { h } from "./dom.js";
import { mrkdwn } from "./mrkdwn.js";

const clockTime = (ts) => {
  const date = new Date(Number(ts) * 1000);
  return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
};

const kib = (bytes) => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`);

function fileCard(file) {
  return h(
    "div",
    { class: "file" },
    h("span", { class: "file-icon", "aria-hidden": "true" }, "CSV"),
    h(
      "span",
      { class: "file-name" },
      h("strong", {}, file.title),
      h("small", {}, `${file.name} · ${kib(file.size)}`),
    ),
    h(
      "a",
      { class: "btn", href: `/play/files/${encodeURIComponent(file.id)}`, download: file.name },
      "Download",
    ),
  );
}

/** One message; `ctx` = { app, md, me, users, channels } from app.js. */
function message(m, ctx) {
  const isBot = m.user === ctx.app.state.bot.userId;
  const author = isBot ? ctx.app.state.bot.name : (ctx.app.userName(m.user) ?? m.user);
  const inputs = new Map();
  const sc = {
    ...ctx,
    inputs,
    act: (action) =>
      ctx.app.post("/play/action", {
        user: ctx.me,
        source: { type: "message", channel: m.channel, ts: m.ts, ephemeral: m.ephemeral === true },
        action,
        values: stateValues(inputs),
      }),
    suggest: async () => ({ options: [] }),
  };
  const body = m.blocks?.length
    ? renderBlocks(m.blocks, sc)
    : [h("div", { class: "msg-text" }, mrkdwn(m.text, ctx.md))];
  if (m.file && m.text) body.unshift(h("div", { class: "msg-text" }, mrkdwn(m.text, ctx.md)));
  return h(
    "article",
    {
      class: `message${m.ephemeral ? " ephemeral" : ""}`,
      "aria-label": `${author} at ${clockTime(m.ts)}`,
    },
    h(
      "div",
      { class: `avatar${isBot ? " bot" : ""}`, "aria-hidden": "true" },
      author.slice(0, 1).toUpperCase(),
    ),
    h(
      "div",
      { class: "msg-main" },
      h(
        "p",
        { class: "msg-meta" },
        h("strong", {}, author),
        isBot ? h("span", { class: "app-tag" }, "APP") : null,
        h("time", { datetime: new Date(Number(m.ts) * 1000).toISOString() }, clockTime(m.ts)),
      ),
      m.ephemeral ? h("p", { class: "only-you" }, "Only visible to you") : null,
      body,
      m.file ? fileCard(m.file) : null,
    ),
  );
}

/** The messages of `channel`, threads nested under their parent. */
export function renderMessages(list, channel, ctx) {
  const mine = list.filter((m) => m.channel === channel);
  const replies = new Map();
  const top = [];
  for (const m of mine) {
    if (m.threadTs && m.threadTs !== m.ts && mine.some((p) => p.ts === m.threadTs)) {
      replies.set(m.threadTs, [...(replies.get(m.threadTs) ?? []), m]);
    } else top.push(m);
  }
  if (top.length === 0) {
    return [
      h("p", { class: "empty muted" }, "Nothing here yet. Type /kms status below, or run a sweep."),
    ];
  }
  return top.map((m) => {
    const thread = replies.get(m.ts);
    const node = message(m, ctx);
    if (thread) {
      node.querySelector(".msg-main").append(
        h(
          "div",
          { class: "thread", role: "group", "aria-label": "Thread" },
          h(
            "p",
            { class: "thread-count muted" },
            `${thread.length} ${thread.length === 1 ? "reply" : "replies"}`,
          ),
          thread.map((r) => message(r, ctx)),
        ),
      );
    }
    return node;
  });
}
