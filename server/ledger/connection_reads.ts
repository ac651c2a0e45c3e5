import { connectionKey } from "../kv/keys.ts";
import type { Connection } from "../connections/connection.ts";

/** Deno KV reads at most 10 keys per `getMany`. */
const KEYS_PER_READ = 10;

/** A connection read asked for and not sent yet, with everyone waiting on it. */
interface PendingRead {
  key: Deno.KvKey;
  waiters: {
    resolve(entry: Deno.KvEntryMaybe<Connection>): void;
    reject(error: unknown): void;
  }[];
}

/**
 * The connection reads of admitted requests. A read goes out at once when
 * none is in flight; reads asked for while one is go out together when it
 * returns, one per connection (10 connections a `getMany`). A read is sent
 * only after every request it serves has asked, so each still sees the
 * connection as stored after it arrived (a revocation stops the next
 * request); under load, at a fraction of the CPU.
 */
export class ConnectionReads {
  readonly #kv: Deno.Kv;
  /** Reads not sent yet, by connection. */
  readonly #pending = new Map<string, PendingRead>();
  /** `getMany` calls not yet answered. */
  #inFlight = 0;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** The connection as stored once this call was made, or later. */
  read(
    appId: string,
    userId: string,
  ): Promise<Deno.KvEntryMaybe<Connection>> {
    const id = JSON.stringify([appId, userId]);
    return new Promise((resolve, reject) => {
      let read = this.#pending.get(id);
      if (!read) {
        read = { key: connectionKey(appId, userId), waiters: [] };
        this.#pending.set(id, read);
      }
      read.waiters.push({ resolve, reject });
      if (this.#inFlight === 0) this.#send();
    });
  }

  #send(): void {
    const reads = [...this.#pending.values()];
    this.#pending.clear();
    for (let i = 0; i < reads.length; i += KEYS_PER_READ) {
      const chunk = reads.slice(i, i + KEYS_PER_READ);
      this.#inFlight++;
      this.#kv.getMany<Connection[]>(chunk.map((read) => read.key)).then(
        (entries) =>
          chunk.forEach((read, j) => {
            for (const waiter of read.waiters) waiter.resolve(entries[j]);
          }),
        (error) =>
          chunk.forEach((read) => {
            for (const waiter of read.waiters) waiter.reject(error);
          }),
      ).finally(() => {
        if (--this.#inFlight === 0 && this.#pending.size) this.#send();
      });
    }
  }
}
