const DAY_MS = 86_400_000;

/**
 * The first day (UTC, `YYYY-MM-DD`) of the monthly period containing `now`,
 * for a connection approved at `approvedAt`. Periods restart each month on
 * the approval day; in shorter months, on the month's last day.
 */
export function periodStart(approvedAt: number, now: number): string {
  const anchor = new Date(approvedAt).getUTCDate();
  const date = new Date(now);
  let year = date.getUTCFullYear();
  let month = date.getUTCMonth();
  if (date.getUTCDate() < dayIn(year, month, anchor)) {
    month -= 1;
    if (month < 0) {
      month = 11;
      year -= 1;
    }
  }
  return isoDate(Date.UTC(year, month, dayIn(year, month, anchor)));
}

/** The instant (ms) the period starting on `start` ends. */
export function periodEnd(approvedAt: number, start: string): number {
  const anchor = new Date(approvedAt).getUTCDate();
  const begin = new Date(`${start}T00:00:00Z`);
  let year = begin.getUTCFullYear();
  let month = begin.getUTCMonth() + 1;
  if (month > 11) {
    month = 0;
    year += 1;
  }
  return Date.UTC(year, month, dayIn(year, month, anchor));
}

function dayIn(year: number, month: number, anchor: number): number {
  const days = new Date(Date.UTC(year, month + 1, 1) - DAY_MS).getUTCDate();
  return Math.min(anchor, days);
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
