// Block Kit layout blocks as semantic HTML. A surface context `sc` carries what the blocks need:
// { md (mrkdwn context), users, channels, act(action), suggest(...), inputs (Map) }.
import { h, uid } from "./dom.js";
import { control } from "./elements.js";
import { emojify, emojiNodes, textObject } from "./mrkdwn.js";

/** Remembers an input so the surface can read state.values and show field errors. */
function register(sc, blockId, element, made, extra = {}) {
  if (!made.value) return;
  sc.inputs.set(`${blockId}\u0000${element.action_id}`, {
    blockId,
    actionId: element.action_id,
    ...made,
    ...extra,
  });
}

function interactive(element, blockId, sc) {
  const made = control(element, blockId, sc, { dispatch: true, label: element.placeholder?.text });
  register(sc, blockId, element, made);
  return made.node;
}

function section(block, blockId, sc) {
  const body = h("div", { class: "section-body" });
  if (block.text) body.append(h("div", { class: "section-text" }, textObject(block.text, sc.md)));
  if (block.fields) {
    body.append(
      h(
        "div",
        { class: "fields" },
        block.fields.map((f) => h("div", { class: "field" }, textObject(f, sc.md))),
      ),
    );
  }
  const accessory = block.accessory
    ? h("div", { class: "accessory" }, interactive(block.accessory, blockId, sc))
    : null;
  return h("section", { class: "block section" }, body, accessory);
}

function context(block, sc) {
  return h(
    "div",
    { class: "block context" },
    block.elements.map((e) =>
      e.type === "image"
        ? h("img", { class: "context-img", src: e.image_url, alt: e.alt_text })
        : h("span", {}, textObject(e, sc.md)),
    ),
  );
}

function input(block, blockId, sc) {
  const element = block.element;
  const id = uid("field");
  const labelId = uid("label");
  const hintId = uid("hint");
  const errorId = uid("error");
  const grouped = element.type === "checkboxes" || element.type === "radio_buttons";
  const label = h(
    grouped ? "span" : "label",
    { class: "input-label", id: labelId, for: grouped ? undefined : id },
    emojify(block.label.text),
    block.optional ? h("span", { class: "optional" }, " (optional)") : null,
  );
  const made = control(element, blockId, sc, {
    id,
    labelId,
    label: block.label.text,
    dispatch: block.dispatch_action === true,
    describedBy: `${block.hint ? hintId : ""} ${errorId}`.trim(),
  });
  const error = h("p", { class: "field-error", id: errorId, role: "alert", hidden: true });
  register(sc, blockId, element, made, { error, control: made.node });
  return h(
    "div",
    { class: "block input" },
    label,
    made.node,
    block.hint ? h("p", { class: "hint", id: hintId }, emojify(block.hint.text)) : null,
    error,
  );
}

function richText(block, sc) {
  const text = (el) =>
    (el.elements ?? [])
      .map((e) =>
        e.type === "text"
          ? e.text
          : e.type === "link"
            ? (e.text ?? e.url)
            : e.type === "user"
              ? `<@${e.user_id}>`
              : "",
      )
      .join("");
  return h(
    "div",
    { class: "block rich" },
    (block.elements ?? []).map((el) =>
      h("p", {}, textObject({ type: "mrkdwn", text: text(el) }, sc.md)),
    ),
  );
}

/** Blocks as nodes; `sc.inputs` is filled with the inputs they hold. */
export function renderBlocks(blocks, sc) {
  return (blocks ?? []).map((block, i) => {
    const blockId = block.block_id ?? `b${i}`;
    switch (block.type) {
      case "header":
        return h("h3", { class: "block header" }, emojiNodes(block.text.text));
      case "section":
        return section(block, blockId, sc);
      case "divider":
        return h("hr", { class: "block divider" });
      case "context":
        return context(block, sc);
      case "image":
        return h(
          "figure",
          { class: "block image" },
          h("img", { src: block.image_url, alt: block.alt_text }),
          block.title ? h("figcaption", {}, emojify(block.title.text)) : null,
        );
      case "actions":
        return h(
          "div",
          { class: "block actions", role: "group" },
          block.elements.map((e) => interactive(e, blockId, sc)),
        );
      case "input":
        return input(block, blockId, sc);
      case "rich_text":
        return richText(block, sc);
      default:
        return h("p", { class: "block unsupported" }, `[${block.type} block]`);
    }
  });
}

/** Slack's state.values of a surface: { [block_id]: { [action_id]: value } }. */
export function stateValues(inputs) {
  const values = {};
  for (const entry of inputs.values()) {
    values[entry.blockId] ??= {};
    values[entry.blockId][entry.actionId] = entry.value();
  }
  return values;
}
