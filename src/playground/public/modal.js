// A modal view as a real <dialog>, named by its title: blocks, field errors under the field
// they concern (response_action: errors), and the close and submit buttons with the view's texts.

import { renderBlocks, stateValues } from "./blocks.js";
import { h, uid } from "./dom.js";
import { emojify } from "./mrkdwn.js";

/**
 * Builds the dialog for `view`. `carry` holds what a person had entered in the same view before
 * a views.update (Slack keeps input values whose block_id and action_id stay the same).
 * on: { submit(values) -> Promise<{ errors }|undefined>, close() }
 */
export function renderModal(view, sc, on, carry = {}) {
  const titleId = uid("modal-title");
  const inputs = new Map();
  const surface = { ...sc, inputs };
  const form = h("form", { class: "modal-body", method: "dialog", novalidate: true });
  form.append(...renderBlocks(view.blocks, surface));
  for (const entry of inputs.values()) {
    const kept = carry[entry.blockId]?.[entry.actionId];
    if (kept && entry.set) entry.set(kept);
  }
  const general = h("p", { class: "field-error", role: "alert", hidden: true });
  const submitButton = view.submit
    ? h("button", { type: "submit", class: "btn primary" }, emojify(view.submit.text))
    : null;
  const dialog = h(
    "dialog",
    { class: "modal", "aria-labelledby": titleId },
    h(
      "header",
      { class: "modal-head" },
      h("h2", { id: titleId }, emojify(view.title?.text ?? "")),
      h(
        "button",
        { type: "button", class: "icon", "aria-label": "Close", onclick: () => on.close() },
        "×",
      ),
    ),
    form,
    general,
    h(
      "footer",
      { class: "modal-foot" },
      h(
        "button",
        { type: "button", class: "btn", onclick: () => on.close() },
        emojify(view.close?.text ?? (view.submit ? "Cancel" : "Close")),
      ),
      submitButton,
    ),
  );
  form.id = uid("form");
  submitButton?.setAttribute("form", form.id);
  dialog.addEventListener("cancel", (e) => {
    e.preventDefault();
    on.close();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (submitButton) submitButton.disabled = true;
    try {
      const answer = await on.submit(stateValues(inputs));
      showErrors(inputs, general, answer?.errors ?? {});
    } finally {
      if (submitButton?.isConnected) submitButton.disabled = false;
    }
  });
  dialog.values = () => stateValues(inputs);
  return dialog;
}

/** Puts each error under the input block it names; one naming no field goes at the bottom. */
function showErrors(inputs, general, errors) {
  const byBlock = new Map([...inputs.values()].map((entry) => [entry.blockId, entry]));
  general.hidden = true;
  for (const entry of inputs.values()) {
    if (!entry.error) continue;
    entry.error.hidden = true;
    entry.error.textContent = "";
    entry.control?.removeAttribute?.("aria-invalid");
  }
  for (const [blockId, message] of Object.entries(errors)) {
    const entry = byBlock.get(blockId);
    const target = entry?.error ?? general;
    target.textContent = emojify(message);
    target.hidden = false;
    entry?.control?.setAttribute?.("aria-invalid", "true");
  }
}
