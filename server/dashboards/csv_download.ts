import type { Context } from "hono";

/** A CSV file the browser saves rather than shows. */
export function csvDownload(
  c: Context,
  csv: string,
  filename: string,
): Response {
  return c.body(csv, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${filename}"`,
    "cache-control": "no-store",
  });
}
