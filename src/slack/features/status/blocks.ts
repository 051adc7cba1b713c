import type { KnownBlock } from "@slack/types";
import type { FleetCounts, InstanceView } from "../../../billing/instances.js";
import {
  autoRenewText,
  escapeText,
  instanceLine,
  LIMITS,
  linesToSections,
  mrkdwn,
  plain,
  remainingText,
  section,
  slackDate,
  stateText,
} from "../../kit/blocks.js";
import { renewButton, unsubscribeButton } from "../../kit/buttons.js";

/**
 * `/kms status`: the counts, then the instances soonest to expire, packed to fit one message
 * (`soonest` need not hold the whole fleet: the rest are counted in "…and N more").
 */
export function fleetBlocks(soonest: InstanceView[], counts: FleetCounts): KnownBlock[] {
  if (counts.total === 0) {
    return [
      section(
        "No Dedicated KMS instances yet. An admin can `/kms buy` one or import them with `kms-bot import`.",
      ),
    ];
  }
  const summary = `*${counts.total} instance(s)*: ${counts.active} active, ${counts.disabled} disabled, ${counts.released} released. Details: \`/kms status <instance>\`.`;
  const current = soonest.filter((v) => v.lifecycle.state !== "released");
  const notFetched = Math.max(0, counts.active + counts.disabled - current.length);
  return [
    { type: "header", text: plain("Dedicated KMS instances", 150) },
    section(summary),
    ...linesToSections(current.map(instanceLine), LIMITS.messageBlocks - 3, notFetched),
  ];
}

/** `/kms status <instance>`: one instance in detail, with a Renew button unless released. */
export function instanceBlocks(view: InstanceView): KnownBlock[] {
  const { instance, lifecycle } = view;
  const fields = [
    `*State*\n${stateText(lifecycle)}`,
    `*Site*\n${instance.site}`,
    `*Expires*\n${slackDate(instance.expires_at)}`,
    `*Remaining subscription period*\n${remainingText(lifecycle)}`,
    `*Auto-renew*\n${autoRenewText(instance.auto_renew_months).replace("auto-renew ", "")}`,
    `*Owner*\n${instance.owner ? `<@${instance.owner}>` : "none"}`,
    `*Alert channel*\n${instance.channel ? `<#${instance.channel}>` : "default"}`,
  ];
  if (lifecycle.state === "disabled") {
    fields.push(
      `*Release*\n${slackDate(lifecycle.releaseAt)} (in ${lifecycle.daysToRelease} days)`,
    );
  }
  const blocks: KnownBlock[] = [
    { type: "header", text: plain(`${instance.id}`, 150) },
    section(escapeText(instance.name)),
    { type: "section", fields: fields.map(mrkdwn) },
  ];
  if (lifecycle.state === "disabled" && lifecycle.reason === "expired") {
    blocks.push(
      section(
        `:warning: Expired ${lifecycle.daysSinceExpiry} day(s) ago and no longer provides service. It will be released in ${lifecycle.daysToRelease} day(s) unless renewed.`,
      ),
    );
  }
  if (lifecycle.state !== "released") {
    blocks.push({
      type: "actions",
      elements: [renewButton(instance.id), unsubscribeButton(instance.id)],
    });
  }
  return blocks;
}
