import type { Interactions } from "../../interactions.js";
import type { FeatureDeps } from "../../kit/deps.js";
import { publishHome } from "./handlers.js";

export { homeRefresher } from "./handlers.js";

export function register(app: Interactions, deps: FeatureDeps): void {
  app.event("app_home_opened", async ({ event, client, logger }) => {
    if (event.tab !== "home") return;
    try {
      await publishHome(client, deps, event.user);
    } catch (error) {
      logger.warn("kms-bot: could not publish App Home", error);
    }
  });
}
