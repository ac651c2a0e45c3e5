import { logError } from "../observability/log_error.ts";

/**
 * Work that outlives its response (a stream's settlement). Shutdown waits
 * for it, and tests wait for it before reading the ledger.
 */
export class Pending {
  readonly #running = new Set<Promise<unknown>>();

  /** Keeps `work` in view until it ends; its failure is logged, not thrown. */
  track(work: Promise<unknown>): void {
    const tracked = work.catch((error) =>
      logError("background work failed", error)
    ).finally(() => this.#running.delete(tracked));
    this.#running.add(tracked);
  }

  /** Resolves once everything tracked so far (and anything it started) has ended. */
  async idle(): Promise<void> {
    while (this.#running.size) await Promise.all(this.#running);
  }
}
