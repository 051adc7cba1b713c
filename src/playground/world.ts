/** Who and what the playground's pretend workspace holds: its people and its channels. */

export interface PlaygroundUser {
  id: string;
  name: string;
  title: string;
}

/** One billing admin (from KMS_ADMIN_USERS) and two members, so roles can be tried. */
export const USERS: readonly PlaygroundUser[] = [
  { id: "U0ADA", name: "Ada", title: "billing admin" },
  { id: "U0BEN", name: "Ben", title: "member, owns payments" },
  { id: "U0CLEO", name: "Cleo", title: "member, owns identity" },
];

export const [ADMIN, BEN, CLEO] = USERS.map((u) => u.id) as [string, string, string];

export const BOT = { userId: "U0KMSBOT", botId: "B0KMSBOT", name: "kms-bot" } as const;

export const ALERT_CHANNEL = "C0KMSALERTS";
export const SUPPORT_CHANNEL = "C0KMSSUPPORT";

/** Channel ids and their names (the bot only knows ids; a person reads names). */
export const CHANNELS: Readonly<Record<string, string>> = {
  [ALERT_CHANNEL]: "kms-alerts",
  [SUPPORT_CHANNEL]: "kms-support",
  C0PAYMENTS: "payments",
  C0IDENTITY: "identity",
  C0DATA: "data-platform",
  C0STAGING: "staging",
};

/** The DM between a person and the bot (the emulator's `conversations.open` gives the same id). */
export const dmOf = (user: string): string => `D${user.slice(1)}`;
