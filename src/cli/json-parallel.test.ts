import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { CHUNK, ParallelJson, type ParallelJsonOptions } from "./json-parallel.ts";
import type { JsonPiece } from "./json-stream.ts";

const text = (pieces: Iterable<JsonPiece>): string =>
  [...pieces].map((p) => (typeof p === "string" ? p : Buffer.from(p).toString("latin1"))).join("");

/** Numbers JSON writes in every form: exponents both ways, -0, the extremes, non-finite as null. */
const TRICKY = [
  0,
  -0,
  1,
  -1.5,
  1e21,
  1e-7,
  123456789012345680000,
  5e-324,
  -5e-324,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  0.1 + 0.2,
  1 / 3,
  -2.5e-300,
  1e300,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 53 + 2,
  1e-6,
  9.999999999999999e22,
];

/** n numbers cycling through TRICKY and a pseudo-random stream (no seed needed: a formula). */
function numbers(n: number, salt: number): number[] {
  return Array.from({ length: n }, (_, i) =>
    i % 7 === 0
      ? TRICKY[(i / 7 + salt) % TRICKY.length]!
      : Math.sin(i * 12.9898 + salt) * 10 ** ((i % 41) - 20),
  );
}

let open: ParallelJson[] = [];
afterEach(() => {
  for (const j of open) j.close();
  open = [];
});
function parallel(opts?: ParallelJsonOptions): ParallelJson {
  const j = new ParallelJson(opts);
  open.push(j);
  return j;
}

describe("ParallelJson", () => {
  const x = numbers(3 * CHUNK + 17, 0);
  const report = {
    expr: 'f("é\\u2028\n")',
    at: { x, w: 0.5, m: [numbers(CHUNK, 1), numbers(CHUNK, 2)] },
    value: -0,
    empty: [],
    nested: [[], [[1, 2], []], { k: undefined, s: '\u{1F600}\t"' }],
    gradients: {
      x: { symbolic: numbers(CHUNK + 1, 3), numeric: null, autograd: numbers(2 * CHUNK, 4) },
    },
    // Large but not all numbers: written by this thread, item by item.
    mixed: [...numbers(CHUNK, 5), "end", null],
    small: numbers(100, 6),
  };

  it("writes exactly JSON.stringify(value), the worker formatting part of the large arrays", async () => {
    const json = parallel();
    json.submit(x);
    await sleep(50); // the worker formats x meanwhile (as while the legs run)
    const pieces = [...json.pieces(report)];
    expect(text(pieces)).toBe(JSON.stringify(report));
    expect(pieces.some((p) => typeof p !== "string")).toBe(true);
  });

  it("writes the same without the early submit, and for values without large arrays", () => {
    expect(text(parallel().pieces(report))).toBe(JSON.stringify(report));
    const small = { a: [1, -0, 5e-324, Number.NaN], b: 'q"\n', c: [[]] };
    expect(text(parallel().pieces(small))).toBe(JSON.stringify(small));
  });

  it.each([
    ["throws at start", `throw new Error("broken")`],
    ["exits at once", `process.exit(1)`],
    [
      "claims every chunk and never answers",
      `require("node:worker_threads").workerData.port.on("message", (j) => { for (let c = 0; c < j.state.length; c++) Atomics.store(j.state, c, 1); });`,
    ],
    [
      "marks every chunk done without posting it",
      `require("node:worker_threads").workerData.port.on("message", (j) => { for (let c = 0; c < j.state.length; c++) Atomics.store(j.state, c, 3); });`,
    ],
    ["is not JavaScript", `)(`],
  ])("a worker that %s costs time, never a wrong byte", async (_, workerSource) => {
    const json = parallel({ workerSource, timeoutMs: 200 });
    json.submit(x);
    await sleep(100);
    expect(text(json.pieces(report))).toBe(JSON.stringify(report));
  });
});
