/**
 * The symbolic leg: full gradients of vector expressions (structure, not n symbols), the heap
 * across 10^4 distinct CAS differentiations (nerdamer keeps global state), the time per
 * differentiation, and the fuzzer's composed derivatives against evaluating the expression.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import type { Expr } from "../src/expr/ast.ts";
import { parse } from "../src/expr/parse.ts";
import { toValues, type Value } from "../src/expr/point.ts";
import { print } from "../src/expr/print.ts";
import { casesOf, prepareFuzz } from "../src/fuzz/fuzz.ts";
import { loadOps } from "../src/fuzz/load.ts";
import { casDiff, casStats, clearCasCache } from "../src/symbolic/cas.ts";
import { withComposedDerivatives } from "../src/symbolic/compose.ts";
import { forwardValues } from "../src/symbolic/forward.ts";
import { symbolicLeg } from "../src/symbolic/leg.ts";
import { ratio, timeMs } from "./timing.ts";

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

export async function run(): Promise<void> {
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
  await composed();
}

/**
 * The symbolic leg as the fuzzer runs it (each op's derivative derived once, composed per
 * expression) on the fuzz cases of two correct ops, every expression new to it (parsed anew for
 * each pass, as the fuzzer generates it), against evaluating the same expressions, each new too. Without
 * the fuzzer's per-case memo scope (`usedOnce`): the leg's own cost.
 */
async function composed(): Promise<void> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "../test/fixtures/ops");
  const ops = [
    ...(await loadOps("second-arg.ok.ts", dir)),
    ...(await loadOps("missing-chain.ok.ts", dir)),
  ].map((o) => o.definition);
  const { ctx } = prepareFuzz({ ops, runs: 1000, seed: 1 });
  const cases = [0, 1].flatMap((op) =>
    casesOf(ctx, op, [0, 1], 0, 1000).map((c) => [print(c.expr), toValues(c.at)] as const),
  );
  const reps = 9;
  // A fresh parse of every case for each pass of either (the leg keeps plans, and every walk of
  // an expression its flat form, per expression object).
  const fresh = (): (readonly [Expr, Map<string, Value>])[][] =>
    Array.from({ length: reps + 1 }, () => cases.map(([t, v]) => [parse(t), v] as const));
  const batches = fresh();
  const evaluated = fresh();
  const r = ratio(
    () => {
      const batch = batches.pop()!;
      withComposedDerivatives(() => {
        for (const [e, v] of batch) symbolicLeg(e, v);
      });
    },
    () => {
      for (const [e, v] of evaluated.pop()!) forwardValues(e, v);
    },
    reps,
  );
  console.log(
    `\ncomposed derivatives (fuzz): ${cases.length} compositions of hypot2Ok and sin2xOk, each new to the leg`,
  );
  console.log(
    `  symbolic leg ${fmt((r.candidateMs / cases.length) * 1000)} µs a case, evaluating the expression ${fmt((r.baselineMs / cases.length) * 1000)} µs: ${fmt(r.ratio)}× (quartiles ${fmt(r.q1)}–${fmt(r.q3)})`,
  );
}

const fmt = (v: number): string => v.toFixed(v < 10 ? 2 : 1);
