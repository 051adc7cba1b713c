// Block Kit interactive elements as native controls: buttons, selects, overflow menus,
// checkboxes, radio buttons, text, number and date inputs, people and channel pickers.
import { h, uid } from "./dom.js";
import { emojify, textObject } from "./mrkdwn.js";

const plainText = (obj) => emojify(obj?.text ?? "");

function optionList(element) {
  if (element.options) return element.options;
  return (element.option_groups ?? []).flatMap((group) => group.options);
}

function optionNodes(element, selected) {
  const node = (o) =>
    h("option", { value: o.value, selected: selected.includes(o.value) }, plainText(o.text));
  if (element.option_groups) {
    return element.option_groups.map((g) =>
      h("optgroup", { label: plainText(g.label) }, g.options.map(node)),
    );
  }
  return (element.options ?? []).map(node);
}

/** Asks a confirmation dialog's question; resolves true when confirmed. */
export function confirmDialog(confirm, md) {
  return new Promise((resolve) => {
    const titleId = uid("confirm");
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": titleId },
      h("h2", { id: titleId }, plainText(confirm.title)),
      h("p", {}, textObject(confirm.text, md)),
      h(
        "div",
        { class: "dialog-buttons" },
        h(
          "button",
          { type: "button", onclick: () => done(false) },
          plainText(confirm.deny) || "Cancel",
        ),
        h(
          "button",
          {
            type: "button",
            class: `btn ${confirm.style === "danger" ? "danger" : "primary"}`,
            onclick: () => done(true),
          },
          plainText(confirm.confirm) || "Yes",
        ),
      ),
    );
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.addEventListener("cancel", () => done(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

async function fire(sc, element, blockId, value) {
  if (element.confirm && !(await confirmDialog(element.confirm, sc.md))) return;
  sc.act({ action_id: element.action_id, block_id: blockId, type: element.type, ...value });
}

function button(element, blockId, sc) {
  const style = element.style ? ` ${element.style}` : "";
  return h(
    "button",
    {
      type: "button",
      class: `btn${style}`,
      "aria-label": element.accessibility_label,
      onclick: () => {
        if (element.url) window.open(element.url, "_blank", "noopener");
        fire(sc, element, blockId, { value: element.value, text: element.text });
      },
    },
    plainText(element.text),
  );
}

function overflow(element, blockId, sc) {
  const list = h("div", { class: "overflow-menu", role: "menu", hidden: true });
  const toggle = h(
    "button",
    {
      type: "button",
      class: "btn overflow-toggle",
      "aria-label": "More actions",
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      onclick: () => show(list.hidden),
    },
    "⋯",
  );
  const show = (open) => {
    list.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
  };
  for (const option of element.options) {
    const pick = () => {
      show(false);
      fire(sc, element, blockId, { selected_option: option });
    };
    list.append(
      h("button", { type: "button", role: "menuitem", onclick: pick }, plainText(option.text)),
    );
  }
  return h("span", { class: "overflow" }, toggle, list);
}

/** Where a select's options come from: the element, the people, the channels, or the app. */
function choices(element, sc) {
  const kind = element.type.replace(/^multi_/, "");
  if (kind === "users_select")
    return { field: "user", list: sc.users.map((u) => ({ value: u.id, label: u.name })) };
  if (kind === "conversations_select")
    return {
      field: "conversation",
      list: sc.channels.map((c) => ({
        value: c.id,
        label: c.kind === "dm" ? `@${c.name}` : `#${c.name}`,
      })),
    };
  if (kind === "channels_select")
    return {
      field: "channel",
      list: sc.channels
        .filter((c) => c.kind !== "dm")
        .map((c) => ({ value: c.id, label: `#${c.name}` })),
    };
  return undefined;
}

function pickerValue(type, field, values) {
  const multi = type.startsWith("multi_");
  return multi
    ? { type, [`selected_${field}s`]: values }
    : { type, [`selected_${field}`]: values[0] ?? null };
}

function select(element, blockId, sc, opts) {
  const multi = element.type.startsWith("multi_");
  const picker = choices(element, sc);
  const initial = [
    element.initial_option?.value,
    ...(element.initial_options ?? []).map((o) => o.value),
    element.initial_user,
    element.initial_conversation,
    element.initial_channel,
    ...(element.initial_users ?? []),
    ...(element.initial_conversations ?? []),
    ...(element.initial_channels ?? []),
  ].filter(Boolean);
  const control = h("select", {
    id: opts.id,
    multiple: multi,
    "aria-label": opts.labelId ? undefined : opts.label,
    "aria-describedby": opts.describedBy,
  });
  if (!multi)
    control.append(h("option", { value: "" }, plainText(element.placeholder) || "Choose…"));
  const fill = (nodes) => control.append(...nodes);
  if (picker)
    fill(
      picker.list.map((c) =>
        h("option", { value: c.value, selected: initial.includes(c.value) }, c.label),
      ),
    );
  else fill(optionNodes(element, initial));
  let loaded = optionList(element);
  const value = () => {
    const chosen = [...control.selectedOptions].map((o) => o.value).filter(Boolean);
    if (picker) return pickerValue(element.type, picker.field, chosen);
    const found = chosen.map((v) => loaded.find((o) => o.value === v)).filter(Boolean);
    return multi
      ? { type: element.type, selected_options: found }
      : { type: element.type, selected_option: found[0] ?? null };
  };
  const wrap = h("span", { class: "select" });
  if (element.type.endsWith("external_select")) {
    const search = h("input", {
      type: "search",
      "aria-label": `Search ${opts.label ?? "options"}`,
      placeholder: "Type to search",
    });
    search.addEventListener("input", async () => {
      const answer = await sc.suggest(element.action_id, blockId, search.value);
      loaded = answer.options ?? (answer.option_groups ?? []).flatMap((g) => g.options);
      control.replaceChildren(
        h("option", { value: "" }, "Choose…"),
        ...optionNodes({ options: loaded }, []),
      );
    });
    wrap.append(search);
  }
  wrap.append(control);
  control.addEventListener("change", () => {
    if (opts.dispatch) fire(sc, element, blockId, value());
  });
  const set = (v) => {
    const wanted = [
      v.selected_option?.value,
      ...(v.selected_options ?? []).map((o) => o.value),
      v.selected_user,
      v.selected_conversation,
      v.selected_channel,
    ].filter(Boolean);
    for (const o of control.options) o.selected = wanted.includes(o.value);
  };
  return { node: wrap, value, set };
}

function choiceGroup(element, blockId, sc, opts) {
  const radio = element.type === "radio_buttons";
  const name = uid("choice");
  const initial = [
    element.initial_option?.value,
    ...(element.initial_options ?? []).map((o) => o.value),
  ];
  const inputs = element.options.map((option) => {
    const input = h("input", {
      type: radio ? "radio" : "checkbox",
      name,
      value: option.value,
      checked: initial.includes(option.value),
    });
    input.addEventListener("change", () => {
      if (opts.dispatch) fire(sc, element, blockId, value());
    });
    return { input, option };
  });
  const value = () => {
    const chosen = inputs.filter((i) => i.input.checked).map((i) => i.option);
    return radio
      ? { type: element.type, selected_option: chosen[0] ?? null }
      : { type: element.type, selected_options: chosen };
  };
  const set = (v) => {
    const wanted = [v.selected_option?.value, ...(v.selected_options ?? []).map((o) => o.value)];
    for (const i of inputs) i.input.checked = wanted.includes(i.option.value);
  };
  const node = h(
    "div",
    {
      class: "choices",
      role: radio ? "radiogroup" : "group",
      "aria-labelledby": opts.labelId,
      "aria-describedby": opts.describedBy,
    },
    inputs.map(({ input, option }) =>
      h(
        "label",
        { class: "choice" },
        input,
        h(
          "span",
          {},
          textObject(option.text, sc.md),
          option.description ? h("small", {}, textObject(option.description, sc.md)) : null,
        ),
      ),
    ),
  );
  return { node, value, set };
}

const TEXT_TYPES = {
  plain_text_input: ["text", "value", "initial_value"],
  email_text_input: ["email", "value", "initial_value"],
  url_text_input: ["url", "value", "initial_value"],
  number_input: ["number", "value", "initial_value"],
  datepicker: ["date", "selected_date", "initial_date"],
  timepicker: ["time", "selected_time", "initial_time"],
};

function textField(element, blockId, sc, opts) {
  const [type, field, initialField] = TEXT_TYPES[element.type];
  const multiline = element.multiline === true;
  const control = h(multiline ? "textarea" : "input", {
    id: opts.id,
    type: multiline ? undefined : type,
    step:
      type === "number" && !element.is_decimal_allowed
        ? "1"
        : type === "number"
          ? "any"
          : undefined,
    min: element.min_value,
    max: element.max_value,
    minlength: element.min_length,
    maxlength: element.max_length,
    placeholder: element.placeholder?.text,
    "aria-describedby": opts.describedBy,
  });
  control.value = element[initialField] ?? "";
  const value = () => ({
    type: element.type,
    [field]: control.value === "" ? null : control.value,
  });
  if (opts.dispatch) {
    const event = type === "date" || type === "time" ? "change" : "keydown";
    control.addEventListener(event, (e) => {
      if (event === "keydown" && (e.key !== "Enter" || multiline)) return;
      e.preventDefault();
      fire(sc, element, blockId, value());
    });
  }
  return {
    node: control,
    value,
    set: (v) => {
      control.value = v[field] ?? "";
    },
  };
}

/**
 * An element as a control. Inputs return { node, value(), set(v) } so a surface can read its
 * state.values and keep what a person typed across views.update; buttons return a node.
 */
export function control(element, blockId, sc, opts = {}) {
  const type = element.type;
  if (type === "button") return { node: button(element, blockId, sc) };
  if (type === "overflow") return { node: overflow(element, blockId, sc) };
  if (type === "image")
    return { node: h("img", { class: "thumb", src: element.image_url, alt: element.alt_text }) };
  if (/select$/.test(type))
    return select(element, blockId, sc, { ...opts, id: opts.id ?? uid("select") });
  if (type === "checkboxes" || type === "radio_buttons")
    return choiceGroup(element, blockId, sc, opts);
  if (TEXT_TYPES[type])
    return textField(element, blockId, sc, { ...opts, id: opts.id ?? uid("input") });
  return { node: h("span", { class: "unsupported" }, `[${type}]`) };
}
