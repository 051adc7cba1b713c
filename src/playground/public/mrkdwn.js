// Slack's mrkdwn as DOM: *bold*, _italic_, ~strike~, `code`, ```blocks```, > quotes, links,
// <@U...> mentions, <#C...> channels and <!date^...> shown in the reader's own time zone.
import { decode, h } from "./dom.js";

// Emoji as symbols any font has, coloured like the emoji (no emoji font is needed).
const EMOJI = {
  no_entry: ["⊘", "red"],
  warning: ["⚠", "amber"],
  white_check_mark: ["✔", "green"],
  hourglass: ["⌛", "amber"],
  hourglass_flowing_sand: ["⌛", "amber"],
  x: ["✖", "red"],
  red_circle: ["●", "red"],
  large_green_circle: ["●", "green"],
  white_circle: ["○", "grey"],
  thinking_face: ["?", "amber"],
  leftwards_arrow_with_hook: ["↩", "blue"],
  information_source: ["ℹ", "blue"],
  boom: ["✸", "red"],
  zzz: ["☾", "blue"],
  ticket: ["✎", "blue"],
  no_bell: ["∅", "grey"],
  alarm_clock: ["◷", "amber"],
  moneybag: ["$", "green"],
  receipt: ["≡", "grey"],
};
const EMOJI_CODE = /:([a-z0-9_+-]+):/g;

/** Emoji codes as plain symbols (for places that hold only text, like select options). */
export const emojify = (text) =>
  String(text).replace(EMOJI_CODE, (all, name) => EMOJI[name]?.[0] ?? all);

/** Emoji codes as coloured symbols with their name for screen readers. */
export function emojiNodes(text) {
  const out = [];
  let last = 0;
  for (const match of String(text).matchAll(EMOJI_CODE)) {
    const known = EMOJI[match[1]];
    if (!known) continue;
    out.push(text.slice(last, match.index));
    const name = match[1].replace(/_/g, " ");
    out.push(h("span", { class: `emoji ${known[1]}`, role: "img", "aria-label": name }, known[0]));
    last = match.index + match[0].length;
  }
  out.push(String(text).slice(last));
  return out;
}

const INLINE =
  /(`[^`\n]+`)|(<[^<>\n]+>)|((?<!\w)\*[^*\n]+\*(?!\w))|((?<!\w)_[^_\n]+_(?!\w))|((?<!\w)~[^~\n]+~(?!\w))/g;

const ordinal = (n) => {
  const s = ["th", "st", "nd", "rd"];
  const v = n % 100;
  return `${n}${s[(v - 20) % 10] ?? s[v] ?? s[0]}`;
};

function dayWord(date, now) {
  const day = (d) => Math.floor((d.getTime() - d.getTimezoneOffset() * 60_000) / 86_400_000);
  const diff = day(date) - day(new Date(now));
  return diff === 0 ? "Today" : diff === 1 ? "Tomorrow" : diff === -1 ? "Yesterday" : undefined;
}

/** `{date_short_pretty} {time}` etc. with the browser's zone (the reader's zone). */
export function formatDate(seconds, format, now) {
  const date = new Date(seconds * 1000);
  const month = (style) => date.toLocaleString("en-US", { month: style });
  const long = `${month("long")} ${ordinal(date.getDate())}, ${date.getFullYear()}`;
  const short = `${month("short")} ${date.getDate()}, ${date.getFullYear()}`;
  const weekday = date.toLocaleString("en-US", { weekday: "long" });
  const pretty = (fallback) => dayWord(date, now) ?? fallback;
  const pad = (n) => String(n).padStart(2, "0");
  const tokens = {
    date_num: `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`,
    date: long,
    date_short: short,
    date_long: `${weekday}, ${long}`,
    date_pretty: pretty(long),
    date_short_pretty: pretty(short),
    date_long_pretty: pretty(`${weekday}, ${long}`),
    time: `${pad(date.getHours())}:${pad(date.getMinutes())}`,
    time_secs: `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`,
  };
  return format.replace(/\{(\w+)\}/g, (all, token) => tokens[token] ?? all);
}

function angle(inner, ctx) {
  const [target, label] = inner.split("|", 2);
  if (target.startsWith("@")) {
    const user = ctx.userName(target.slice(1));
    return h("span", { class: "mention" }, `@${label ?? user}`);
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    const name = label ?? ctx.channelName(id);
    return h(
      "a",
      {
        class: "mention",
        href: `#${id}`,
        onclick: (e) => {
          e.preventDefault();
          ctx.openChannel(id);
        },
      },
      `#${name}`,
    );
  }
  if (target.startsWith("!date^")) {
    const [, seconds, format] = target.split("^");
    const text = formatDate(Number(seconds), format ?? "{date}", ctx.now);
    return h(
      "time",
      { datetime: new Date(Number(seconds) * 1000).toISOString(), title: decode(label ?? "") },
      text,
    );
  }
  if (target.startsWith("!")) return h("span", { class: "mention" }, `@${target.slice(1)}`);
  return h(
    "a",
    { href: decode(target), target: "_blank", rel: "noopener noreferrer" },
    decode(label ?? target),
  );
}

function inline(text, ctx) {
  const out = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    out.push(emojiNodes(decode(text.slice(last, match.index))));
    const [token] = match;
    const inner = token.slice(1, -1);
    if (match[1]) out.push(h("code", {}, decode(inner)));
    else if (match[2]) out.push(angle(inner, ctx));
    else if (match[3]) out.push(h("strong", {}, inline(inner, ctx)));
    else if (match[4]) out.push(h("em", {}, inline(inner, ctx)));
    else out.push(h("s", {}, inline(inner, ctx)));
    last = match.index + token.length;
  }
  out.push(emojiNodes(decode(text.slice(last))));
  return out;
}

function lines(text, ctx) {
  const out = [];
  let quote = [];
  const flush = () => {
    if (quote.length) out.push(h("blockquote", {}, quote));
    quote = [];
  };
  text.split("\n").forEach((line, i, all) => {
    const quoted = /^(&gt;|>) ?/.exec(line);
    if (quoted) {
      quote.push(inline(line.slice(quoted[0].length), ctx), h("br"));
      return;
    }
    flush();
    out.push(inline(line, ctx));
    if (i < all.length - 1) out.push(h("br"));
  });
  flush();
  return out;
}

/** A mrkdwn string as DOM nodes. ctx: { userName(id), channelName(id), openChannel(id), now }. */
export function mrkdwn(text, ctx) {
  return String(text ?? "")
    .split("```")
    .map((part, i) =>
      i % 2 === 1 ? h("pre", {}, decode(part.replace(/^\n/, ""))) : lines(part, ctx),
    );
}

/** A text object ({ type: plain_text | mrkdwn, text }) as DOM nodes. */
export function textObject(obj, ctx) {
  if (!obj) return [];
  return obj.type === "mrkdwn" ? mrkdwn(obj.text, ctx) : emojiNodes(obj.text ?? "");
}
