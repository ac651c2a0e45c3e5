/**
 * Writes log lines to stdout in batches: the lines of one turn of the event
 * loop go out in one write, so a busy proxy does not pay a system call per
 * request. `flush()` writes what is pending at once (at shutdown).
 */
export class LineWriter {
  readonly #encoder = new TextEncoder();
  readonly #out: { writeSync(bytes: Uint8Array): number };
  #lines: string[] = [];
  #scheduled = false;

  /** Writes to `out` (default: stdout). */
  constructor(out: { writeSync(bytes: Uint8Array): number } = Deno.stdout) {
    this.#out = out;
  }

  /** Queues one line (without its newline). */
  write(line: string): void {
    this.#lines.push(line);
    if (this.#scheduled) return;
    this.#scheduled = true;
    const timer = setTimeout(() => this.flush(), 0);
    Deno.unrefTimer(timer);
  }

  /** Writes every queued line now. */
  flush(): void {
    this.#scheduled = false;
    if (!this.#lines.length) return;
    let bytes = this.#encoder.encode(this.#lines.join("\n") + "\n");
    this.#lines = [];
    while (bytes.length) bytes = bytes.subarray(this.#out.writeSync(bytes));
  }
}
