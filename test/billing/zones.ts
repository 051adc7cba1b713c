/** Zones with daylight saving (north and south, 30-minute and midnight changes) and without. */
export const ZONES = [
  "UTC",
  "America/New_York",
  "Europe/London",
  "Australia/Sydney",
  "Asia/Shanghai",
  "America/Santiago",
  "Pacific/Auckland",
  "Australia/Lord_Howe",
  "Asia/Kolkata",
  "America/Sao_Paulo",
] as const;
