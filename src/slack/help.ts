/** `/kms help`: every command, admin-only ones marked. */
export const USAGE_LINES = [
  "`/kms status [<instance>]`: the fleet, or one instance in detail",
  "`/kms renew [<instance>]`: renew (period, terms, price, Buy Now)",
  "`/kms buy`: buy an instance (admin)",
  "`/kms unsubscribe [<instance>]`: ask to unsubscribe, with the refund estimate; `/kms tickets` lists open tickets",
  "`/kms balance`: the prepaid balance (with KMS_PROVIDER=alibaba, the account's available amount)",
  "`/kms topup <amount>`: add to the balance (admin; with the Alibaba Cloud account, recharge in its console)",
  "`/kms bills [YYYY-MM]`: a month's bill lines; `/kms bills export [YYYY-MM]` sends the CSV",
  "`/kms price`: list prices; `/kms price set <international|china> <amount>` (admin)",
  "`/kms autorenew <instance> <period>|off`: auto-renewal (admin or owner)",
  "`/kms sync`: pull the Alibaba Cloud account's instances now (admin, KMS_PROVIDER=alibaba)",
  "`/kms assign <instance> #channel @owner [name]`: where an instance's warnings go and who owns it (admin)",
  "`/kms disable <instance>` / `/kms enable <instance>` (admin)",
  "`/kms admins`, `/kms admins add @user`, `/kms admins remove @user` (admin)",
  "`/kms faq [question]`: billing questions answered (also when you mention or DM me); `/kms faq` lists them",
];

const USAGE = `*kms-bot*: Dedicated KMS subscriptions from Slack.\n${USAGE_LINES.map((l) => `• ${l}`).join("\n")}`;

export function usageText(problem?: string): string {
  return problem ? `:thinking_face: ${problem}.\n\n${USAGE}` : USAGE;
}
