/** The upstream went quiet for longer than allowed mid-response. */
export class UpstreamIdleError extends Error {
  override name = "UpstreamIdleError";
}

/**
 * The idle timeout of a body read over and over (a slow-drip upstream must
 * not hold a request, and its hold, open for ever), without a timer or a
 * promise per read: one timer per stream, armed when a read starts waiting
 * and moved on only when it fires early. `onIdle` runs once a read has
 * waited `ms` with nothing received (not while no read is waiting, e.g.
 * while the client is not reading).
 */
export class IdleWatch {
  readonly #ms: number;
  readonly #onIdle: (error: UpstreamIdleError) => void;
  /** When the current read started waiting, or -1 when none is. */
  #since = -1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(ms: number, onIdle: (error: UpstreamIdleError) => void) {
    this.#ms = ms;
    this.#onIdle = onIdle;
  }

  /** A read starts waiting. */
  waiting(): void {
    if (this.#stopped) return;
    this.#since = performance.now();
    if (this.#timer === undefined) this.#arm(this.#ms);
  }

  /** The read got its answer. */
  received(): void {
    this.#since = -1;
  }

  /** No more reads: clears the timer. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped || this.#since < 0) return;
      const waited = performance.now() - this.#since;
      if (waited < this.#ms) {
        this.#arm(this.#ms - waited);
        return;
      }
      this.stop();
      this.#onIdle(
        new UpstreamIdleError(`no data from the upstream for ${this.#ms} ms`),
      );
    }, ms);
  }
}
