import assert from "node:assert/strict";
import {
  addBuckets,
  histogramPercentile,
  maximum,
  percentile,
} from "./stats.ts";

Deno.test("percentile takes the nearest rank", () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(samples, 50), 50);
  assert.equal(percentile(samples, 99), 99);
  assert.equal(percentile(samples, 100), 100);
  assert.equal(percentile(samples, 0), 1);
  assert.ok(Number.isNaN(percentile([], 50)));
});

Deno.test("histogramPercentile merges weighted runs like their samples", () => {
  // Two runs as wrk reports them: quantile values, each standing for an
  // equal share of the run's requests.
  const histogram = addBuckets(new Map(), [[1, 25], [2, 25], [3, 25], [4, 25]]);
  addBuckets(histogram, [[10, 50], [20, 50]]);
  const samples = [
    ...Array(25).fill(1),
    ...Array(25).fill(2),
    ...Array(25).fill(3),
    ...Array(25).fill(4),
    ...Array(50).fill(10),
    ...Array(50).fill(20),
  ];
  for (const p of [1, 25, 50, 60, 90, 99, 100]) {
    assert.equal(
      histogramPercentile(histogram, p),
      percentile(samples, p),
      `p${p}`,
    );
  }
  addBuckets(histogram, [[3, 0.5]]);
  assert.ok(Number.isFinite(histogramPercentile(histogram, 50)));
});

Deno.test("maximum copes with more samples than fit in a call", () => {
  const samples = Array.from({ length: 300_000 }, (_, i) => i % 1000);
  assert.equal(maximum(samples), 999);
  assert.equal(maximum([]), 0);
});
