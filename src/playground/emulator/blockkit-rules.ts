/**
 * Block Kit limits as Slack enforces them: text objects, options, confirmation dialogs and every
 * element type. blockkit.ts applies them to blocks, messages and views.
 */
import type { JsonObject } from "./types.js";

export interface BlockKitIssue {
  /** Path in the payload, e.g. `view.blocks[2].element.placeholder.text`. */
  path: string;
  message: string;
}

export type Issues = BlockKitIssue[];

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const charCount = (text: string): number => [...text].length;

export const MESSAGE_LIMITS = { blocks: 50, text: 40_000 } as const;
export const VIEW_LIMITS = { blocks: 100, title: 24, privateMetadata: 3000, callbackId: 255 };

export const BLOCK_TYPES = [
  "section",
  "divider",
  "header",
  "context",
  "actions",
  "input",
  "image",
  "rich_text",
  "file",
] as const;

export function checkString(
  value: unknown,
  path: string,
  max: number,
  out: Issues,
  required = false,
): void {
  if (value === undefined || value === null) {
    if (required) out.push({ path, message: "is required" });
    return;
  }
  if (typeof value !== "string") {
    out.push({ path, message: "must be a string" });
    return;
  }
  if (required && value.length === 0) out.push({ path, message: "must not be empty" });
  const length = charCount(value);
  if (length > max)
    out.push({ path, message: `must be at most ${max} characters (got ${length})` });
}

interface TextRule {
  max: number;
  plainOnly?: boolean;
  required?: boolean;
}

/** A text object: `{ type: "plain_text" | "mrkdwn", text: non-empty string }`. */
export function checkText(value: unknown, path: string, rule: TextRule, out: Issues): void {
  if (value === undefined || value === null) {
    if (rule.required) out.push({ path, message: "is required" });
    return;
  }
  if (!isObject(value)) {
    out.push({ path, message: "must be a text object { type, text }" });
    return;
  }
  if (value.type !== "plain_text" && value.type !== "mrkdwn") {
    out.push({ path: `${path}.type`, message: 'must be "plain_text" or "mrkdwn"' });
    return;
  }
  if (rule.plainOnly && value.type !== "plain_text") {
    out.push({ path: `${path}.type`, message: 'must be "plain_text"' });
  }
  if (typeof value.text !== "string" || value.text.length === 0) {
    out.push({ path: `${path}.text`, message: "must be a non-empty string" });
    return;
  }
  const length = charCount(value.text);
  if (length > rule.max) {
    out.push({
      path: `${path}.text`,
      message: `must be at most ${rule.max} characters (got ${length})`,
    });
  }
}

export function checkArray(
  value: unknown,
  path: string,
  limits: { min?: number; max: number; required?: boolean },
  out: Issues,
): unknown[] | undefined {
  if (value === undefined || value === null) {
    if (limits.required) out.push({ path, message: "is required" });
    return undefined;
  }
  if (!Array.isArray(value)) {
    out.push({ path, message: "must be an array" });
    return undefined;
  }
  const min = limits.min ?? 0;
  if (value.length < min) {
    out.push({ path, message: `must have at least ${min} item(s) (got ${value.length})` });
  }
  if (value.length > limits.max) {
    out.push({ path, message: `must have at most ${limits.max} items (got ${value.length})` });
  }
  return value;
}

function checkOption(option: unknown, path: string, out: Issues, plainOnly = true): void {
  if (!isObject(option)) {
    out.push({ path, message: "must be an option object { text, value }" });
    return;
  }
  checkText(option.text, `${path}.text`, { max: 75, plainOnly, required: true }, out);
  checkString(option.value, `${path}.value`, 150, out, true);
  checkText(option.description, `${path}.description`, { max: 75, plainOnly }, out);
  checkString(option.url, `${path}.url`, 3000, out);
}

function checkOptions(
  value: unknown,
  path: string,
  max: number,
  out: Issues,
  plainOnly = true,
): void {
  const options = checkArray(value, path, { min: 1, max, required: true }, out);
  options?.forEach((option, i) => {
    checkOption(option, `${path}[${i}]`, out, plainOnly);
  });
}

function checkConfirm(value: unknown, path: string, out: Issues): void {
  if (value === undefined) return;
  if (!isObject(value)) {
    out.push({ path, message: "must be a confirmation dialog object" });
    return;
  }
  checkText(value.title, `${path}.title`, { max: 100, plainOnly: true, required: true }, out);
  checkText(value.text, `${path}.text`, { max: 300, required: true }, out);
  checkText(value.confirm, `${path}.confirm`, { max: 30, plainOnly: true, required: true }, out);
  checkText(value.deny, `${path}.deny`, { max: 30, plainOnly: true, required: true }, out);
}

/** Fields every interactive element shares; `placeholder` only where the element has one. */
function checkInteractive(
  element: JsonObject,
  path: string,
  out: Issues,
  hasPlaceholder: boolean,
): void {
  checkString(element.action_id, `${path}.action_id`, 255, out);
  checkConfirm(element.confirm, `${path}.confirm`, out);
  if (hasPlaceholder) {
    checkText(element.placeholder, `${path}.placeholder`, { max: 150, plainOnly: true }, out);
  }
}

export type ElementChecker = (element: JsonObject, path: string, out: Issues) => void;

const plainSelect: ElementChecker = (element, path, out) =>
  checkInteractive(element, path, out, true);

const staticSelect: ElementChecker = (element, path, out) => {
  checkInteractive(element, path, out, true);
  const hasOptions = element.options !== undefined;
  const hasGroups = element.option_groups !== undefined;
  if (hasOptions === hasGroups) {
    out.push({ path, message: "must have exactly one of options or option_groups" });
  }
  if (hasOptions) checkOptions(element.options, `${path}.options`, 100, out);
  if (hasGroups) {
    const groups = checkArray(
      element.option_groups,
      `${path}.option_groups`,
      { min: 1, max: 100, required: true },
      out,
    );
    groups?.forEach((group, i) => {
      const groupPath = `${path}.option_groups[${i}]`;
      if (!isObject(group)) {
        out.push({ path: groupPath, message: "must be an option group object" });
        return;
      }
      checkText(
        group.label,
        `${groupPath}.label`,
        { max: 75, plainOnly: true, required: true },
        out,
      );
      checkOptions(group.options, `${groupPath}.options`, 100, out);
    });
  }
  if (element.initial_option !== undefined) {
    checkOption(element.initial_option, `${path}.initial_option`, out);
  }
};

const choiceList =
  (max: number): ElementChecker =>
  (element, path, out) => {
    checkInteractive(element, path, out, false);
    checkOptions(element.options, `${path}.options`, max, out, false);
  };

const textInput: ElementChecker = (element, path, out) => {
  checkInteractive(element, path, out, true);
  checkString(element.initial_value, `${path}.initial_value`, 3000, out);
};

export const checkImage: ElementChecker = (element, path, out) => {
  if (element.image_url === undefined && element.slack_file === undefined) {
    out.push({ path, message: "must have image_url or slack_file" });
  }
  checkString(element.image_url, `${path}.image_url`, 3000, out);
  checkString(element.alt_text, `${path}.alt_text`, 2000, out, true);
};

const ELEMENTS: Record<string, ElementChecker> = {
  button(element, path, out) {
    checkInteractive(element, path, out, false);
    checkText(element.text, `${path}.text`, { max: 75, plainOnly: true, required: true }, out);
    checkString(element.value, `${path}.value`, 2000, out);
    checkString(element.url, `${path}.url`, 3000, out);
    checkString(element.accessibility_label, `${path}.accessibility_label`, 75, out);
    if (element.style !== undefined && element.style !== "primary" && element.style !== "danger") {
      out.push({ path: `${path}.style`, message: 'must be "primary" or "danger"' });
    }
  },
  static_select: staticSelect,
  multi_static_select: staticSelect,
  external_select: plainSelect,
  multi_external_select: plainSelect,
  users_select: plainSelect,
  multi_users_select: plainSelect,
  conversations_select: plainSelect,
  multi_conversations_select: plainSelect,
  channels_select: plainSelect,
  multi_channels_select: plainSelect,
  overflow(element, path, out) {
    checkInteractive(element, path, out, false);
    checkOptions(element.options, `${path}.options`, 5, out);
  },
  checkboxes: choiceList(10),
  radio_buttons: choiceList(10),
  datepicker(element, path, out) {
    checkInteractive(element, path, out, true);
    const date = element.initial_date;
    if (date !== undefined && (typeof date !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(date))) {
      out.push({ path: `${path}.initial_date`, message: "must be YYYY-MM-DD" });
    }
  },
  timepicker(element, path, out) {
    checkInteractive(element, path, out, true);
    const time = element.initial_time;
    if (time !== undefined && (typeof time !== "string" || !/^\d{2}:\d{2}$/.test(time))) {
      out.push({ path: `${path}.initial_time`, message: "must be HH:mm" });
    }
  },
  datetimepicker: (element, path, out) => checkInteractive(element, path, out, false),
  plain_text_input(element, path, out) {
    textInput(element, path, out);
    for (const key of ["min_length", "max_length"]) {
      const n = element[key];
      if (n !== undefined && (typeof n !== "number" || n < 0 || n > 3000)) {
        out.push({ path: `${path}.${key}`, message: "must be a number from 0 to 3000" });
      }
    }
  },
  email_text_input: textInput,
  url_text_input: textInput,
  number_input: textInput,
  rich_text_input: (element, path, out) => checkInteractive(element, path, out, true),
  file_input: (element, path, out) => checkInteractive(element, path, out, false),
  image: checkImage,
};

export function checkElement(value: unknown, path: string, out: Issues): void {
  if (!isObject(value)) {
    out.push({ path, message: "must be an element object" });
    return;
  }
  const type = value.type;
  if (typeof type !== "string" || !Object.hasOwn(ELEMENTS, type)) {
    out.push({ path: `${path}.type`, message: `unknown element type ${JSON.stringify(type)}` });
    return;
  }
  (ELEMENTS[type] as ElementChecker)(value, path, out);
}
