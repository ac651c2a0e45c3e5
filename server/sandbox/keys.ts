/**
 * Sandbox API keys and their exact spend. Any `sk-or-v1-…` key is accepted and
 * created on first use with no limit; `create` issues keys with a credit limit
 * (OpenRouter's provisioning API, simplified).
 */
import { ceilToNano, parseUsd, usdJson } from "./money.ts";

const KEY_PREFIX = "sk-or-v1-";

/** What a key has been used for, exactly. */
export interface KeyUsage {
  /** Chat completions accepted (past auth, validation and the limit check). */
  requests: number;
  /** Requests whose final usage was delivered. */
  completed: number;
  /** Requests the client abandoned before their final usage. */
  aborted: number;
  /** Requests ended by a fault switch. */
  failed: number;
  /** Exact spend in atto-USD (1e-18). */
  costAtto: bigint;
  /** Spend with each request's cost rounded up to nano-USD, as a ledger that
   * parses `usage.cost` and rounds up per request would record it. */
  costNano: bigint;
}

export type Outcome = "completed" | "aborted" | "failed";

interface KeyRecord {
  label: string;
  limitAtto: bigint | null;
  usage: KeyUsage;
}

export class KeyStore {
  #records = new Map<string, KeyRecord>();

  /** Issues a new key; `limit` is a credit limit in USD (a decimal string
   * keeps a limit typed into a form exact). */
  create(options: { limit?: number | string; label?: string } = {}): string {
    const limitAtto = options.limit === undefined
      ? null
      : parseUsd(String(options.limit));
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const key = KEY_PREFIX +
      Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    this.#records.set(key, newRecord(key, limitAtto, options.label));
    return key;
  }

  /** Whether `key` is a sandbox key (any `sk-or-v1-…`); registers it if new. */
  accept(key: string): boolean {
    if (!key.startsWith(KEY_PREFIX) || key.length === KEY_PREFIX.length) {
      return false;
    }
    if (!this.#records.has(key)) {
      this.#records.set(key, newRecord(key, null));
    }
    return true;
  }

  /** Whether the key's spend has reached its limit. */
  exhausted(key: string): boolean {
    const record = this.#record(key);
    return record.limitAtto !== null &&
      record.usage.costAtto >= record.limitAtto;
  }

  /** Counts an accepted request. */
  begin(key: string): void {
    this.#record(key).usage.requests++;
  }

  /** Records how an accepted request ended and what it cost. */
  settle(key: string, outcome: Outcome, costAtto: bigint): void {
    const usage = this.#record(key).usage;
    usage[outcome]++;
    usage.costAtto += costAtto;
    usage.costNano += ceilToNano(costAtto);
  }

  /** A copy of the key's usage; zero for keys never seen. */
  usageOf(key: string): KeyUsage {
    return { ...(this.#records.get(key)?.usage ?? emptyUsage()) };
  }

  /** The `data` of `GET /key`, with USD amounts as exact JSON numbers. */
  describe(key: string): Record<string, unknown> {
    const { label, limitAtto, usage } = this.#record(key);
    const remaining = limitAtto === null ? null : limitAtto - usage.costAtto;
    return {
      label,
      usage: usdJson(usage.costAtto),
      limit: limitAtto === null ? null : usdJson(limitAtto),
      limit_remaining: remaining === null
        ? null
        : usdJson(remaining > 0n ? remaining : 0n),
      is_free_tier: false,
      requests: usage.requests,
    };
  }

  #record(key: string): KeyRecord {
    const record = this.#records.get(key);
    if (!record) throw new Error("unknown sandbox key");
    return record;
  }
}

function newRecord(
  key: string,
  limitAtto: bigint | null,
  label = `${key.slice(0, KEY_PREFIX.length + 3)}...${key.slice(-3)}`,
): KeyRecord {
  return { label, limitAtto, usage: emptyUsage() };
}

function emptyUsage(): KeyUsage {
  return {
    requests: 0,
    completed: 0,
    aborted: 0,
    failed: 0,
    costAtto: 0n,
    costNano: 0n,
  };
}
