import assert from "node:assert/strict";
import { periodEnd, periodStart } from "./period.ts";

const at = (iso: string) => Date.parse(iso);

Deno.test("a period starts on the approval day of the current month", () => {
  const approved = at("2026-01-15T10:00:00Z");
  assert.equal(periodStart(approved, at("2026-01-15T10:00:00Z")), "2026-01-15");
  assert.equal(periodStart(approved, at("2026-02-14T23:59:59Z")), "2026-01-15");
  assert.equal(periodStart(approved, at("2026-02-15T00:00:00Z")), "2026-02-15");
  assert.equal(periodStart(approved, at("2027-01-03T00:00:00Z")), "2026-12-15");
});

Deno.test("an anchor past the end of a short month falls on its last day", () => {
  const approved = at("2026-01-31T08:00:00Z");
  assert.equal(periodStart(approved, at("2026-02-27T00:00:00Z")), "2026-01-31");
  assert.equal(periodStart(approved, at("2026-02-28T00:00:00Z")), "2026-02-28");
  assert.equal(periodStart(approved, at("2026-03-30T00:00:00Z")), "2026-02-28");
  assert.equal(periodStart(approved, at("2026-03-31T00:00:00Z")), "2026-03-31");
  assert.equal(periodStart(approved, at("2028-02-29T00:00:00Z")), "2028-02-29");
});

Deno.test("a period ends where the next one starts", () => {
  const approved = at("2026-01-31T08:00:00Z");
  const end = periodEnd(approved, "2026-01-31");
  assert.equal(new Date(end).toISOString(), "2026-02-28T00:00:00.000Z");
  assert.equal(periodStart(approved, end), "2026-02-28");
  assert.equal(periodStart(approved, end - 1), "2026-01-31");
  assert.equal(
    new Date(periodEnd(approved, "2026-12-31")).toISOString(),
    "2027-01-31T00:00:00.000Z",
  );
});
