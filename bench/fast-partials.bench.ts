/**
 * Fast mode's per-element numeric partials with a custom op: `sum(hypot2Ok(x, w))`, x of 1001
 * elements, w scalar (`npm run bench fast-partials`). Every partial (x's 1001 and w) and uᵀ∇f
 * share one complex program and one measurement of the custom op's sensitivities. Prints the
 * numeric leg's time and methods against `--method complex` (the same complex evaluations, as one
 * gradient) and against what fast mode ran before (Richardson along u and along each unit vector,
 * past 256 custom op elements), each a ratio in this process; the whole `check` both ways; and the
 * partials' true error (hand formulas) against their estimates.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { check } from "../src/check/check.ts";
import { parse } from "../src/expr/parse.ts";
import { toValues } from "../src/expr/point.ts";
import { loadOps } from "../src/fuzz/load.ts";
import { flattenValues } from "../src/numeric/evaluate.ts";
import { directionalDerivative } from "../src/numeric/gradient.ts";
import { numericLeg } from "../src/numeric/leg.ts";
import { cachedForward } from "../src/numeric/programs.ts";
import { loadAverage, ratio } from "./timing.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function run(): Promise<void> {
  await loadOps(join(root, "test/fixtures/ops/second-arg.ok.ts"), root);
  const n = 1001;
  const xs = Array.from({ length: n }, (_, k) => 0.5 + Math.sin(k));
  const w = 0.3;
  const text = "sum(hypot2Ok(x, w))";
  const expr = parse(text);
  const values = toValues({ x: xs, w });
  console.log(`${text}, x of ${n} elements, w scalar; load average ${loadAverage()}`);

  const fast = numericLeg(expr, values);
  const methods = fast.notes.filter((m) => /by (the complex step|Richardson)/.test(m));
  console.log(`  fast mode (auto): ${methods.join("; ")}`);
  // ∂/∂x_k = x_k/hypot(x_k, w), ∂/∂w = Σ w/hypot(x_k, w), by hand.
  const hyp = xs.map((v) => Math.hypot(v, w));
  let worst = 0;
  let over = 0;
  const check1 = (got: number, err: number, want: number) => {
    worst = Math.max(worst, Math.abs(got - want) / err);
    if (Math.abs(got - want) > err) over++;
  };
  const gx = fast.gradients!.get("x")!;
  const ex = fast.errors!.get("x")!;
  for (let k = 0; k < n; k++) check1(gx[k]!, ex[k]!, xs[k]! / hyp[k]!);
  check1(
    fast.gradients!.get("w")![0]!,
    fast.errors!.get("w")![0]!,
    hyp.reduce((s, h) => s + w / h, 0),
  );
  console.log(
    `  its ${n + 1} partials against hand formulas: ${over} outside their estimate, worst |err|/estimate ${worst.toFixed(3)}`,
  );

  const { x, layout } = flattenValues(values);
  const f = cachedForward(expr, layout);
  const f0 = f(x);
  const u = fast.directional!.u;
  // What fast mode ran before: Richardson along u and along each element's unit vector.
  const before = () => {
    directionalDerivative(f, x, u, { f0 });
    const unit = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) {
      unit[k] = 1;
      directionalDerivative(f, x, unit, { f0 });
      unit[k] = 0;
    }
  };
  const leg = () => void numericLeg(expr, values);
  const vsComplex = ratio(leg, () => void numericLeg(expr, values, { method: "complex" }), 3);
  console.log(
    `  numeric leg, fast mode: ${vsComplex.candidateMs.toFixed(0)} ms, ${vsComplex.ratio.toFixed(2)}× --method complex (${vsComplex.baselineMs.toFixed(0)} ms; quartiles ${vsComplex.q1.toFixed(2)}–${vsComplex.q3.toFixed(2)})`,
  );
  const vsBefore = ratio(leg, before, 3);
  console.log(
    `  before (Richardson along u and each unit vector): ${vsBefore.baselineMs.toFixed(0)} ms, ${(1 / vsBefore.ratio).toFixed(2)}× fast mode now`,
  );
  const whole = ratio(
    () => void check(text, { at: { x: xs, w } }),
    () => void check(text, { at: { x: xs, w }, method: "complex" }),
    3,
  );
  console.log(
    `  check, whole: auto (fast) ${whole.candidateMs.toFixed(0)} ms, ${whole.ratio.toFixed(2)}× --method complex (${whole.baselineMs.toFixed(0)} ms)`,
  );
  console.log(`  load average at the end ${loadAverage()}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
