/**
 * Display formats shared by the dashboards' server-rendered parts and their
 * islands. Amounts arrive as the API's USD numbers (6 decimals); these only
 * shape text for people, never money that is computed with.
 */

const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];

/**
 * Dollars and cents (`$1,234.56`). Below a cent, cents would read `$0.00`
 * for a real charge, so the fraction is shown instead (`$0.000017`).
 */
export function dollars(usd: number): string {
  const sign = usd < 0 ? "-" : "";
  const abs = Math.abs(usd);
  if (abs === 0) return "$0.00";
  // The API rounds to 6 decimals, so nothing smaller can be shown exactly.
  if (abs < 0.0000005) return `${sign}<$0.000001`;
  if (abs < 0.01) return `${sign}$${abs.toFixed(6).replace(/0+$/, "")}`;
  return `${sign}$${
    abs.toLocaleString("en-US", {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    })
  }`;
}

/**
 * One request's cost, to three significant digits below a dollar
 * (`$0.0128`, `$0.000023`), where cents alone would read `$0.01` or `$0.00`.
 */
export function requestCost(usd: number): string {
  if (usd >= 1 || usd === 0) return dollars(usd);
  const digits = usd.toPrecision(3).replace(/0+$/, "");
  // Never fewer than two decimals: "0.5" reads "$0.50".
  const decimals = digits.split(".")[1]?.length ?? 0;
  return `$${decimals < 2 ? usd.toFixed(2) : digits}`;
}

/** `2025-06-03` (a UTC day) → `Jun 3`. */
export function dayLabel(isoDate: string): string {
  const [, month, day] = isoDate.split("-").map(Number);
  return `${MONTHS[month - 1]} ${day}`;
}

/** An instant as `Jun 3, 14:05` in UTC (the ledger's days are UTC days). */
export function timeLabel(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${dayLabel(iso.slice(0, 10))}, ${iso.slice(11, 16)}`;
}
