/** The window in which a burst is counted. */
export const BURST_WINDOW_MS = 10_000;

/**
 * Tokens are counted in 1/60,000ths, so a bucket of `perMinute` refills by
 * exactly `perMinute` units a millisecond: with an integer clock every level
 * is an integer and no rounding can refuse the token that just came back.
 */
const UNITS_PER_TOKEN = 60_000;

/** A token bucket as stored in KV: tokens left at `at` (ms). */
export interface StoredBucket {
  tokens: number;
  at: number;
  /** Attempts (served or not) since `windowStart`, for burst detection. */
  windowStart?: number;
  windowCount?: number;
}

/** This instance's use of a bucket taken out for one merge into KV. */
export interface Merge {
  /** Units used here since the last merge. */
  use: number;
  /** Attempts counted here since the last merge. */
  attempts: number;
  /** The stored bucket after the merge. */
  record: StoredBucket;
}

/**
 * One bucket as this process sees it: a token bucket that decides admission
 * on its own, plus what this process used since it last merged into KV, so a
 * background sync can add exactly that to the shared bucket.
 *
 * The use to merge is `shadow - tokens`, where `shadow` refills in lockstep
 * with `tokens` but takes nothing: refill wasted at capacity is then not
 * counted as use, so with one instance the merged level equals the local one
 * and syncing never changes a single process's decisions.
 */
export class LocalBucket {
  readonly key: Deno.KvKey;
  perMinute: number;
  burst: number | undefined;
  /** Units left at `at`. */
  tokens: number;
  /** Units there would be at `at` had this process taken none since its last merge. */
  shadow: number;
  at: number;
  windowStart: number | undefined;
  /** Attempts in the window as far as this process knows (merged and not). */
  windowCount = 0;
  /** Attempts counted here and not yet merged. */
  unmergedAttempts = 0;
  /** A merge carried the window past `burst`: the next attempt reports it. */
  crossed = false;
  /** Clock time of the last read or merge of the stored bucket. */
  syncedAt = -Infinity;

  constructor(key: Deno.KvKey, perMinute: number, now: number) {
    this.key = key;
    this.perMinute = perMinute;
    this.tokens = this.shadow = this.#cap;
    this.at = now;
  }

  get #cap(): number {
    return this.perMinute * UNITS_PER_TOKEN;
  }

  /** Whether this process has use or attempts not yet merged into KV. */
  get dirty(): boolean {
    return this.shadow > this.tokens || this.unmergedAttempts > 0;
  }

  /** Refills to `now` at the current rate, capped at the current capacity. */
  refill(now: number): void {
    const gain = Math.max(0, now - this.at) * this.perMinute;
    this.tokens = Math.min(this.#cap, this.tokens + gain);
    this.shadow = Math.min(this.#cap, this.shadow + gain);
    this.at = Math.max(this.at, now);
  }

  /** Milliseconds until a token is there (after `refill`); 0 if one is. */
  waitMs(): number {
    return this.tokens < UNITS_PER_TOKEN
      ? (UNITS_PER_TOKEN - this.tokens) / this.perMinute
      : 0;
  }

  /**
   * Counts one attempt at `now` and takes a token if `allowed`. Returns true
   * when this attempt is the first past `burst` in the window.
   */
  attempt(now: number, allowed: boolean): boolean {
    if (
      this.windowStart === undefined ||
      now - this.windowStart >= BURST_WINDOW_MS
    ) {
      this.windowStart = now;
      this.windowCount = 0;
      // Attempts of a window that is over can no longer make a burst.
      this.unmergedAttempts = 0;
      this.crossed = false;
    }
    this.windowCount++;
    this.unmergedAttempts++;
    if (allowed) this.tokens -= UNITS_PER_TOKEN;
    const crossed = this.crossed ||
      (this.burst !== undefined && this.windowCount === this.burst + 1);
    this.crossed = false;
    return crossed;
  }

  /**
   * Takes this process's unmerged use out for a merge at `t` into `stored`
   * (read just now), and computes the merged bucket: the stored level
   * refilled to `t`, less that use, with the attempts added to the window.
   * Use from now on accrues afresh; `abortMerge` puts this back if the
   * commit fails.
   */
  beginMerge(stored: StoredBucket | null, t: number): Merge {
    this.refill(t);
    const use = this.shadow - this.tokens;
    const windowOpen = this.windowStart !== undefined &&
      t - this.windowStart < BURST_WINDOW_MS;
    const attempts = windowOpen ? this.unmergedAttempts : 0;
    this.shadow = this.tokens;
    this.unmergedAttempts = 0;
    // May go below zero when instances together took more than was there:
    // the debt then holds every instance back until it has refilled.
    const level = this.#levelOf(stored, t) - use;
    const record: StoredBucket = { tokens: level / UNITS_PER_TOKEN, at: t };
    if (isOpen(stored, t)) {
      record.windowStart = stored!.windowStart;
      record.windowCount = (stored!.windowCount ?? 0) + attempts;
    } else if (attempts > 0) {
      record.windowStart = this.windowStart;
      record.windowCount = attempts;
    }
    return { use, attempts, record };
  }

  /** Puts back the use and attempts of a merge that did not commit. */
  abortMerge(merge: Merge): void {
    // Exactly the counterfactual level: refill past capacity is lost either way.
    this.shadow = Math.min(this.#cap, this.shadow + merge.use);
    this.unmergedAttempts += merge.attempts;
  }

  /**
   * Adopts the stored bucket as read (or written) at `t`, keeping what this
   * process did since that is not in it: its unmerged use and attempts.
   */
  adopt(stored: StoredBucket | null, t: number): void {
    const ta = Math.max(t, this.at);
    this.refill(ta);
    const unmerged = this.shadow - this.tokens;
    const base = Math.min(
      this.#cap,
      this.#levelOf(stored, t) + (ta - t) * this.perMinute,
    );
    this.shadow = base;
    this.tokens = base - unmerged;
    this.syncedAt = t;
    // A window this process opened after `t` is newer than the stored one.
    if (
      !isOpen(stored, t) ||
      (this.windowStart !== undefined && this.windowStart > t)
    ) return;
    const before = this.windowStart !== undefined &&
        t - this.windowStart < BURST_WINDOW_MS
      ? this.windowCount
      : 0;
    this.windowStart = stored!.windowStart;
    this.windowCount = (stored!.windowCount ?? 0) + this.unmergedAttempts;
    // Other instances' attempts pushed the window past the burst here,
    // where no single attempt crossed it: report it with the next one.
    if (
      this.burst !== undefined && before <= this.burst &&
      this.windowCount > this.burst
    ) this.crossed = true;
  }

  /** Full, with no burst window open and nothing to merge: as good as absent. */
  isIdle(now: number): boolean {
    this.refill(now);
    return !this.dirty && !this.crossed && this.tokens >= this.#cap &&
      (this.windowStart === undefined ||
        now - this.windowStart >= BURST_WINDOW_MS);
  }

  /** Milliseconds until a stored level refills to capacity, for its expiry. */
  msToFull(record: StoredBucket): number {
    return this.perMinute > 0
      ? Math.max(0, this.#cap - record.tokens * UNITS_PER_TOKEN) /
        this.perMinute
      : 0;
  }

  /** The stored level in units, refilled to `t`; a missing bucket is full. */
  #levelOf(stored: StoredBucket | null, t: number): number {
    if (!stored) return this.#cap;
    const units = stored.tokens * UNITS_PER_TOKEN;
    // Undo the float division of the stored form where it was an integer.
    const rounded = Math.round(units);
    const exact = Math.abs(units - rounded) < 1e-6 ? rounded : units;
    return Math.min(
      this.#cap,
      exact + Math.max(0, t - stored.at) * this.perMinute,
    );
  }
}

/** Whether a stored burst window is still open at `t`. */
function isOpen(stored: StoredBucket | null, t: number): boolean {
  return stored?.windowStart !== undefined &&
    t - stored.windowStart < BURST_WINDOW_MS;
}
