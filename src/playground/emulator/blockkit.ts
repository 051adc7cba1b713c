/** Block Kit validation of blocks, messages and views, as chat.* and views.* methods check them. */
import {
  BLOCK_TYPES,
  type BlockKitIssue,
  checkArray,
  checkElement,
  checkImage,
  checkString,
  checkText,
  type Issues,
  isObject,
  MESSAGE_LIMITS,
  VIEW_LIMITS,
} from "./blockkit-rules.js";
import type { JsonObject } from "./types.js";

export { BLOCK_TYPES, type BlockKitIssue, MESSAGE_LIMITS, VIEW_LIMITS };

type BlockChecker = (block: JsonObject, path: string, out: Issues) => void;

const BLOCKS: Record<(typeof BLOCK_TYPES)[number], BlockChecker> = {
  section(block, path, out) {
    if (block.text === undefined && block.fields === undefined) {
      out.push({ path, message: "a section must have text or fields" });
    }
    checkText(block.text, `${path}.text`, { max: 3000 }, out);
    const fields = checkArray(block.fields, `${path}.fields`, { min: 1, max: 10 }, out);
    fields?.forEach((field, i) => {
      checkText(field, `${path}.fields[${i}]`, { max: 2000, required: true }, out);
    });
    if (block.accessory !== undefined) checkElement(block.accessory, `${path}.accessory`, out);
  },
  divider() {},
  header(block, path, out) {
    checkText(block.text, `${path}.text`, { max: 150, plainOnly: true, required: true }, out);
  },
  context(block, path, out) {
    const elements = checkArray(
      block.elements,
      `${path}.elements`,
      { min: 1, max: 10, required: true },
      out,
    );
    elements?.forEach((element, i) => {
      const elementPath = `${path}.elements[${i}]`;
      if (isObject(element) && element.type === "image") {
        checkImage(element, elementPath, out);
      } else {
        checkText(element, elementPath, { max: 3000, required: true }, out);
      }
    });
  },
  actions(block, path, out) {
    const elements = checkArray(
      block.elements,
      `${path}.elements`,
      { min: 1, max: 25, required: true },
      out,
    );
    const actionIds = new Set<string>();
    elements?.forEach((element, i) => {
      const elementPath = `${path}.elements[${i}]`;
      checkElement(element, elementPath, out);
      if (isObject(element) && typeof element.action_id === "string") {
        if (actionIds.has(element.action_id)) {
          out.push({
            path: `${elementPath}.action_id`,
            message: `duplicate action_id ${JSON.stringify(element.action_id)} in one block`,
          });
        }
        actionIds.add(element.action_id);
      }
    });
  },
  input(block, path, out) {
    checkText(block.label, `${path}.label`, { max: 2000, plainOnly: true, required: true }, out);
    checkText(block.hint, `${path}.hint`, { max: 2000, plainOnly: true }, out);
    if (block.element === undefined) out.push({ path: `${path}.element`, message: "is required" });
    else checkElement(block.element, `${path}.element`, out);
  },
  image(block, path, out) {
    checkImage(block, path, out);
    checkText(block.title, `${path}.title`, { max: 2000, plainOnly: true }, out);
  },
  rich_text(block, path, out) {
    checkArray(
      block.elements,
      `${path}.elements`,
      { max: Number.POSITIVE_INFINITY, required: true },
      out,
    );
  },
  file(block, path, out) {
    checkString(block.external_id, `${path}.external_id`, 255, out, true);
    if (block.source !== "remote")
      out.push({ path: `${path}.source`, message: 'must be "remote"' });
  },
};

function checkBlocks(
  value: unknown,
  path: string,
  max: number,
  required: boolean,
  out: Issues,
): unknown[] | undefined {
  const blocks = checkArray(value, path, { max, required }, out);
  const blockIds = new Set<string>();
  blocks?.forEach((block, i) => {
    const blockPath = `${path}[${i}]`;
    if (!isObject(block)) {
      out.push({ path: blockPath, message: "must be a block object" });
      return;
    }
    const type = block.type;
    if (typeof type !== "string" || !Object.hasOwn(BLOCKS, type)) {
      out.push({
        path: `${blockPath}.type`,
        message: `unknown block type ${JSON.stringify(type)}`,
      });
      return;
    }
    if (block.block_id !== undefined) {
      checkString(block.block_id, `${blockPath}.block_id`, 255, out, true);
      if (typeof block.block_id === "string") {
        if (blockIds.has(block.block_id)) {
          out.push({
            path: `${blockPath}.block_id`,
            message: `duplicate block_id ${JSON.stringify(block.block_id)}`,
          });
        }
        blockIds.add(block.block_id);
      }
    }
    BLOCKS[type as (typeof BLOCK_TYPES)[number]](block, blockPath, out);
  });
  return blocks;
}

/** Checks a message payload (`text`, `blocks`) as chat.postMessage/update and response URLs do. */
export function checkMessage(payload: JsonObject): BlockKitIssue[] {
  const out: Issues = [];
  checkString(payload.text, "text", MESSAGE_LIMITS.text, out);
  checkBlocks(payload.blocks, "blocks", MESSAGE_LIMITS.blocks, false, out);
  if (
    payload.response_type !== undefined &&
    payload.response_type !== "ephemeral" &&
    payload.response_type !== "in_channel"
  ) {
    out.push({ path: "response_type", message: 'must be "ephemeral" or "in_channel"' });
  }
  return out;
}

/** Checks a view payload (modal or home tab) as views.open/update/push/publish do. */
export function checkView(view: unknown, path = "view"): BlockKitIssue[] {
  const out: Issues = [];
  if (!isObject(view)) {
    out.push({ path, message: "must be a view object" });
    return out;
  }
  if (view.type !== "modal" && view.type !== "home") {
    out.push({ path: `${path}.type`, message: 'must be "modal" or "home"' });
  }
  const blocks = checkBlocks(view.blocks, `${path}.blocks`, VIEW_LIMITS.blocks, true, out);
  checkString(view.private_metadata, `${path}.private_metadata`, VIEW_LIMITS.privateMetadata, out);
  checkString(view.callback_id, `${path}.callback_id`, VIEW_LIMITS.callbackId, out);
  checkString(view.external_id, `${path}.external_id`, 255, out);
  if (view.type === "modal") {
    const title = { max: VIEW_LIMITS.title, plainOnly: true };
    checkText(view.title, `${path}.title`, { ...title, required: true }, out);
    checkText(view.submit, `${path}.submit`, title, out);
    checkText(view.close, `${path}.close`, title, out);
    const hasInput = blocks?.some((block) => isObject(block) && block.type === "input") ?? false;
    if (hasInput && view.submit === undefined) {
      out.push({ path: `${path}.submit`, message: "is required when the modal has input blocks" });
    }
  }
  return out;
}

export const jsonPointer = (path: string): string =>
  `/${path
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".")
    .join("/")}`;
