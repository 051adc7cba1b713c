import type { App } from "@slack/bolt";
import type { ListenerDeps } from "../listeners.js";
import { publishHome } from "../slack/surfaces.js";

/** Bot events this app subscribes to (manifest.yml lists the same). */
export const BOT_EVENTS = ["app_home_opened"] as const;

export function register(app: App, { billing }: ListenerDeps): void {
  app.event("app_home_opened", async ({ event, client, logger }) => {
    if (event.tab !== "home") return;
    try {
      await publishHome(client, billing, event.user);
    } catch (error) {
      logger.warn("kms-bot: could not publish App Home", error);
    }
  });
}
