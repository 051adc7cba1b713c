/**
 * A value a person typed, safe to quote back in a refusal read in Slack or a terminal:
 * cut to 40 characters, with `<` and `>` swapped for look-alikes so it can't become a
 * mention (`<!channel>`), a link or a date token, and backticks for quotes so it can't break
 * out of code formatting.
 */
export function echoInput(text: string): string {
  const chars = Array.from(text);
  const cut = chars.length > 40 ? `${chars.slice(0, 39).join("")}…` : text;
  return cut.replaceAll("<", "‹").replaceAll(">", "›").replaceAll("`", "'");
}
