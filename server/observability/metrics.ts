/**
 * Process metrics in Prometheus' text format. Counters and histograms are
 * per process (as Prometheus expects: it sums instances).
 */
export class Metrics {
  readonly #counters = new Map<string, Map<string, number>>();
  readonly #gauges = new Map<string, () => number>();
  readonly #histograms = new Map<string, Histogram>();
  readonly #help = new Map<string, string>();

  /** Adds `by` to a counter with the given labels. */
  count(name: string, labels: Record<string, string> = {}, by = 1): void {
    const series = this.#counters.get(name) ?? new Map<string, number>();
    const key = labelText(labels);
    series.set(key, (series.get(key) ?? 0) + by);
    this.#counters.set(name, series);
  }

  /** Registers a gauge read when scraped. */
  gauge(name: string, help: string, read: () => number): void {
    this.#gauges.set(name, read);
    this.#help.set(name, help);
  }

  /** Records one observation, in seconds. */
  observe(name: string, seconds: number): void {
    let histogram = this.#histograms.get(name);
    if (!histogram) {
      histogram = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#histograms.set(name, histogram);
    }
    BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) histogram.buckets[i]++;
    });
    histogram.sum += seconds;
    histogram.count++;
  }

  /** Documents a counter or histogram. */
  describe(name: string, help: string): void {
    this.#help.set(name, help);
  }

  /** The exposition text. */
  render(): string {
    const lines: string[] = [];
    const head = (name: string, type: string) => {
      const help = this.#help.get(name);
      if (help) lines.push(`# HELP ${name} ${help}`);
      lines.push(`# TYPE ${name} ${type}`);
    };
    for (const [name, series] of this.#counters) {
      head(name, "counter");
      for (const [labels, value] of series) {
        lines.push(`${name}${labels} ${value}`);
      }
    }
    for (const [name, read] of this.#gauges) {
      head(name, "gauge");
      lines.push(`${name} ${read()}`);
    }
    for (const [name, h] of this.#histograms) {
      head(name, "histogram");
      BUCKETS.forEach((bound, i) =>
        lines.push(`${name}_bucket{le="${bound}"} ${h.buckets[i]}`)
      );
      lines.push(`${name}_bucket{le="+Inf"} ${h.count}`);
      lines.push(`${name}_sum ${h.sum}`);
      lines.push(`${name}_count ${h.count}`);
    }
    return lines.join("\n") + "\n";
  }
}

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

const BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${
      v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    }"`
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}
