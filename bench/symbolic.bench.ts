/**
 * The symbolic leg: full gradients of vector expressions (structure, not n symbols), the heap
 * across 10^4 distinct CAS differentiations (nerdamer keeps global state), and the time per
 * differentiation.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { parse } from "../src/expr/parse.ts";
import type { Value } from "../src/expr/point.ts";
import { casDiff, casStats, clearCasCache } from "../src/symbolic/cas.ts";
import { symbolicLeg } from "../src/symbolic/leg.ts";
import { timeMs } from "./timing.ts";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

function vector(n: number, f: (i: number) => number): Value {
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = f(i);
  return { shape: [n], data };
}

function heapMB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1e6;
}

export function run(): void {
  console.log("full symbolic gradient (cold: CAS cache emptied first)");
  for (const n of [1e4, 1e6]) {
    const x = vector(n, (i) => Math.sin(i) * 2);
    const y = vector(n, (i) => (i % 3 === 0 ? 1 : 0));
    const cases: [string, Map<string, Value>][] = [
      ["mean(x^2)", new Map([["x", x]])],
      [
        "mean(bce(sigmoid(w*x+b), y))",
        new Map<string, Value>([
          ["w", { shape: [], data: Float64Array.of(0.7) }],
          ["b", { shape: [], data: Float64Array.of(-0.2) }],
          ["x", x],
          ["y", y],
        ]),
      ],
    ];
    for (const [src, values] of cases) {
      const e = parse(src);
      const ms: number[] = [];
      for (let rep = 0; rep < 3; rep++) {
        clearCasCache();
        ms.push(
          timeMs(() => {
            const r = symbolicLeg(e, values);
            if (r.status !== "ok") throw new Error(r.reason);
          }),
        );
      }
      const warm = timeMs(() => symbolicLeg(e, values));
      console.log(
        `  ${src.padEnd(30)} n=${n.toExponential(0)}  cold ${fmt(Math.min(...ms))} ms (first ${fmt(ms[0]!)})  cached CAS ${fmt(warm)} ms`,
      );
    }
  }

  console.log("\nnerdamer global state: 10^4 distinct differentiations");
  clearCasCache();
  const distinct = (i: number): string =>
    `sin(v0^${(i % 97) + 2})*v1^${(i % 89) + 1}+(ce^(v0*${i}))`;
  for (let i = 0; i < 500; i++) casDiff(distinct(1e6 + i), "v0"); // warm the JIT
  clearCasCache();
  const before = heapMB();
  const calls0 = casStats.calls;
  const t = timeMs(() => {
    for (let i = 0; i < 1e4; i++) casDiff(distinct(i), "v0");
  });
  const withCache = heapMB();
  clearCasCache();
  const after = heapMB();
  const calls = casStats.calls - calls0;
  console.log(
    `  heap before ${fmt(before)} MB, after ${fmt(withCache)} MB (bounded derivative cache held), ${fmt(after)} MB with the cache emptied`,
  );
  console.log(`  ${calls} nerdamer differentiations: ${fmt((t / calls) * 1000)} µs each`);
}

const fmt = (v: number): string => v.toFixed(v < 10 ? 2 : 1);
