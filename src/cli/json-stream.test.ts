import { existsSync, readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type JsonPiece, jsonPieces, MIN, ParallelJson, WORKER_SOURCE } from "./json-stream.ts";

describe("jsonPieces", () => {
  it.each([
    { a: [1, -0, 1.5e-300, Number.NaN, Number.POSITIVE_INFINITY], b: null, c: 'q"\n\u2028' },
    [[1, 2], [3, [4, undefined]], { x: undefined, y: true, z: false }],
    { expr: "sin(x^2)", at: { x: 3 }, value: 0.4121184852417566, nested: { 'k"ey': [] } },
    3,
    "text",
  ])("writes what JSON.stringify writes: %j", (v) => {
    expect([...jsonPieces(v)].join("")).toBe(JSON.stringify(v));
  });

  it("cuts a large value into pieces of about 64 KB", () => {
    const big = { g: Array.from({ length: 100_000 }, (_, i) => i / 7) };
    const pieces = [...jsonPieces(big)];
    expect(pieces.join("")).toBe(JSON.stringify(big));
    expect(pieces.length).toBeGreaterThan(10);
    // 64 KB, plus at most one block of 4096 numbers (≤ 25 characters each).
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(65_536 + 4096 * 25);
  });
});

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

/** The worker at normal priority: a busy machine starves one at the lowest, and tests wait for it. */
const NORMAL_PRIORITY = WORKER_SOURCE.replace(/try\{.*?catch\{\}\n/, "");

let open: ParallelJson[] = [];
afterEach(() => {
  for (const j of open) j.close();
  open = [];
});
function parallel(workerSource?: string, timeoutMs?: number): ParallelJson {
  const j = new ParallelJson(workerSource, timeoutMs);
  open.push(j);
  return j;
}

describe("ParallelJson", () => {
  const x = numbers(3 * MIN + 17, 0);
  const report = {
    expr: 'f("é\\u2028\n")',
    at: { x, w: 0.5, m: [numbers(MIN, 1), numbers(MIN, 2)] },
    value: -0,
    empty: [],
    nested: [[], [[1, 2], []], { k: undefined, s: '\u{1F600}\t"' }],
    gradients: {
      x: { symbolic: numbers(MIN + 1, 3), numeric: null, autograd: numbers(2 * MIN, 4) },
    },
    // Large but not all numbers: written by this thread, item by item.
    mixed: [...numbers(MIN, 5), "end", null],
    small: numbers(100, 6),
  };

  const large = [x, report.at.m[0], report.at.m[1], report.gradients.x.symbolic, report.mixed];

  /**
   * The pieces of `value` once a worker (at normal priority: a busy machine starves one at the
   * lowest) had time to format `arrays`: a few tries, each waiting longer, until it did them all
   * (`blocks` pieces of bytes); each try's text must be JSON.stringify's.
   */
  async function formattedByWorker(value: unknown, arrays: readonly unknown[][], blocks: number) {
    let pieces: JsonPiece[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const json = parallel(NORMAL_PRIORITY);
      for (const a of arrays) json.submit(a);
      await sleep(300 * attempt); // the worker formats them meanwhile (as while the legs run)
      pieces = [...jsonPieces(value, json.items)];
      expect(text(pieces)).toBe(JSON.stringify(value));
      if (pieces.filter((p) => typeof p !== "string").length === blocks) break;
    }
    return pieces;
  }

  it("writes exactly JSON.stringify(value), the worker formatting the large arrays", async () => {
    // Every block of x, m's two rows and the symbolic gradient; not `mixed` (not all numbers).
    const formatted = [x, report.at.m[0]!, report.at.m[1]!, report.gradients.x.symbolic];
    const blocks = formatted.reduce((n, a) => n + Math.ceil(a.length / 4096), 0);
    const pieces = await formattedByWorker(report, large, blocks);
    expect(pieces.filter((p) => typeof p !== "string")).toHaveLength(blocks);
  });

  it("writes numbers of the widest JSON whole (25 characters, as gradients of −1e-6 give)", async () => {
    // -0.0000012345678901234567: from 1e-6 to 1e-5 JSON writes no exponent. A buffer of 25 bytes
    // a number cut such arrays short, silently.
    const wide: number[] = new Array(MIN + 5).fill(-0.0000012345678901234567);
    wide[1] = -0.000009999999999999999;
    expect(JSON.stringify(wide[0]).length).toBe(25);
    const value = { at: wide, gradients: [...wide].reverse() };
    // Every block of both, by the worker.
    const blocks = 2 * Math.ceil((MIN + 5) / 4096);
    const pieces = await formattedByWorker(value, [value.at, value.gradients], blocks);
    expect(pieces.filter((p) => typeof p !== "string")).toHaveLength(blocks);
  });

  it("formats an array met twice in the same value right both times", () => {
    // This thread claims it first (nothing waited for the worker), then meets it again.
    const a = numbers(MIN, 7);
    const value = { a, again: a };
    const json = parallel();
    json.submit(a);
    expect(text(jsonPieces(value, json.items))).toBe(JSON.stringify(value));
  });

  it("writes the same when this thread claims first, or with nothing submitted", () => {
    const json = parallel();
    for (const a of large) json.submit(a);
    expect(text(jsonPieces(report, json.items))).toBe(JSON.stringify(report));
    expect(text(jsonPieces(report, parallel().items))).toBe(JSON.stringify(report));
  });

  it("shares an array's blocks: the worker's as bytes, those it did not reach formatted here", async () => {
    // A worker (at normal priority) that stops after claiming 5 blocks: once it has started,
    // this thread claims the rest and waits for those 5.
    const five = NORMAL_PRIORITY.replace(
      "while((k=Atomics.add(state,0,1))<n){",
      "let c=0;while(c++<5&&(k=Atomics.add(state,0,1))<n){",
    );
    expect(five).not.toBe(NORMAL_PRIORITY);
    expect(NORMAL_PRIORITY).not.toMatch(/setPriority/);
    const a = numbers(40 * 4096 + 5, 3);
    // Its start takes a moment (longer on a busy machine): a few tries.
    let types: string[] = [];
    for (let attempt = 0; attempt < 5 && !types.includes("object"); attempt++) {
      const json = parallel(five, 30_000);
      json.submit(a);
      await sleep(300 * (attempt + 1));
      const pieces = [...(json.items(a) ?? [])];
      expect(`[${text(pieces)}]`).toBe(JSON.stringify(a));
      types = pieces.map((p) => typeof p);
    }
    // The worker's blocks first (5, fewer if this thread came while it was claiming), then ours.
    const k = types.indexOf("string");
    expect(k).toBeGreaterThanOrEqual(1);
    expect(k).toBeLessThanOrEqual(5);
    expect(types).toEqual([...new Array(k).fill("object"), ...new Array(41 - k).fill("string")]);
  });

  it.runIf(existsSync("/proc/thread-self"))(
    "runs its worker at the lowest priority (Linux: that thread's nice value 19; this one's unchanged)",
    async () => {
      const niceOf = (stat: string) => Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
      const nices = () =>
        readdirSync("/proc/self/task").map((t) =>
          niceOf(readFileSync(`/proc/self/task/${t}/stat`, "utf8")),
        );
      const before = nices().filter((n) => n === 19).length;
      const mine = niceOf(readFileSync("/proc/thread-self/stat", "utf8"));
      const json = parallel();
      json.submit(numbers(MIN, 9));
      // Its start takes a moment (longer on a busy machine).
      for (let i = 0; i < 50 && nices().filter((n) => n === 19).length === before; i++)
        await sleep(100);
      expect(nices().filter((n) => n === 19).length).toBe(before + 1);
      expect(niceOf(readFileSync("/proc/thread-self/stat", "utf8"))).toBe(mine);
    },
  );

  it.each([
    ["throws at start", `throw new Error("broken")`],
    ["exits at once", `process.exit(1)`],
    [
      "claims every array and never answers",
      `require("node:worker_threads").parentPort.on("message", (j) => Atomics.store(j.state, 0, 1));`,
    ],
    [
      "fails after claiming a block of its second array",
      WORKER_SOURCE.replace(
        "const s=JSON.stringify(b)",
        "if((globalThis.n=(globalThis.n||0)+1)===3*16+2)throw 0;const s=JSON.stringify(b)",
      ),
    ],
    ["is not JavaScript", `)(`],
  ])("a worker that %s costs time, never a wrong byte", async (_, workerSource) => {
    expect(workerSource).not.toBe(WORKER_SOURCE);
    const json = parallel(workerSource, 200);
    for (const a of large) json.submit(a);
    await sleep(100);
    expect(text(jsonPieces(report, json.items))).toBe(JSON.stringify(report));
  });
});

describe("a worker that dies at a block", () => {
  it.each([
    ["throws", "throw 0"],
    ["exits (process.exit)", "process.exit(3)"],
  ])(
    "%s: its exit hook gives the block up, so this thread does not wait for it (timeout 30 s)",
    async (_, death) => {
      // At normal priority (a busy machine starves one at the lowest); it dies at its second block.
      const dies = NORMAL_PRIORITY.replace(
        "const s=JSON.stringify(b)",
        `if((globalThis.n=(globalThis.n||0)+1)===2)${death};const s=JSON.stringify(b)`,
      );
      expect(dies).not.toBe(NORMAL_PRIORITY);
      const a = numbers(17 * 4096, 4); // at least MIN
      // Its start takes a moment (longer on a busy machine): a few tries, until it formatted the
      // first block and died at the second.
      let types: string[] = [];
      for (let attempt = 1; attempt <= 5 && types[0] !== "object"; attempt++) {
        const json = parallel(dies, 30_000);
        json.submit(a);
        await sleep(300 * attempt);
        const t0 = Date.now();
        const pieces = [...(json.items(a) ?? [])];
        // Measured: a few ms (without the hook: the whole timeout).
        expect(Date.now() - t0).toBeLessThan(10_000);
        expect(`[${text(pieces)}]`).toBe(JSON.stringify(a));
        types = pieces.map((p) => typeof p);
      }
      expect(types).toEqual(["object", ...new Array(16).fill("string")]);
    },
  );
});
