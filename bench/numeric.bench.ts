/**
 * The numeric leg's figures: accuracy against PyTorch (torch-golden.json) for Richardson, the
 * complex step and plain central differences; honesty of the error estimates on random points of
 * the seed functions (true = the analytic formula); fast-mode time at 10^6 elements; evaluator
 * throughput. Prints figures; never passes or fails.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { TRUST_OPS, honesty as trustHonesty } from "../properties/trust-ops.ts";
import type { Expr } from "../src/expr/ast.ts";
import { parse } from "../src/expr/parse.ts";
import { type Point, toValues } from "../src/expr/point.ts";
import { fuzzCaseArbitrary } from "../src/fuzz/arbitraries.ts";
import { complexStepGradient } from "../src/numeric/complex-step.ts";
import { compileForward, flattenValues } from "../src/numeric/evaluate.ts";
import { directionalDerivative, gradient } from "../src/numeric/gradient.ts";
import { numericLeg } from "../src/numeric/leg.ts";
import { mulberry32 } from "../src/random.ts";
import { cases } from "./sensitivity.bench.ts";
import { medianMs, ratio } from "./timing.ts";
import { D } from "./trust.bench.ts";

interface GoldenCase {
  id: string;
  expr: string;
  at: Point;
  grad: Record<string, number | number[] | number[][]>;
}

const here = dirname(fileURLToPath(import.meta.url));
const golden = JSON.parse(
  readFileSync(join(here, "../test/fixtures/torch-golden.json"), "utf8"),
) as GoldenCase[];

const flat = (g: GoldenCase["grad"]): number[] =>
  Object.values(g).flatMap((v) => (Array.isArray(v) ? (v.flat(2) as number[]) : [v]));
// Relative error, or absolute where the reference is 0.
const relErr = (got: number, want: number): number =>
  want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[s.length >> 1]!.toExponential(2)}, worst ${s.at(-1)!.toExponential(2)} (${s.length} coordinates)`;
}

function accuracy(): void {
  const rich: number[] = [];
  const cplx: number[] = [];
  const cent: number[] = [];
  let richHonest = 0;
  let cplxHonest = 0;
  let cplxSkipped = 0;
  for (const c of golden) {
    const { x, layout } = flattenValues(toValues(c.at));
    const e = parse(c.expr);
    const f = compileForward(e, layout);
    const want = flat(c.grad);
    const r = gradient(f, x, { method: "richardson" });
    const p = gradient(f, x, { method: "central" });
    const z = complexStepGradient(e, layout, x);
    for (let i = 0; i < x.length; i++) {
      rich.push(relErr(r.gradient[i]!, want[i]!));
      if (Math.abs(r.gradient[i]! - want[i]!) <= r.error[i]!) richHonest++;
      cent.push(relErr(p.gradient[i]!, want[i]!));
      if (z.ok) {
        cplx.push(relErr(z.gradient[i]!, want[i]!));
        if (Math.abs(z.gradient[i]! - want[i]!) <= z.error[i]!) cplxHonest++;
      } else cplxSkipped++;
    }
  }
  console.log("accuracy vs PyTorch float64, every coordinate of torch-golden.json");
  console.log(`  richardson     ${stats(rich)}; |err| ≤ estimate on ${richHonest}/${rich.length}`);
  console.log(
    `  complex step   ${stats(cplx)}; |err| ≤ estimate on ${cplxHonest}/${cplx.length}; not applicable on ${cplxSkipped}`,
  );
  console.log(`  plain central  ${stats(cent)}`);
}

interface Seed {
  name: string;
  expr: string;
  point: (rnd: () => number) => Point;
  /** The analytic gradient, flattened in the order of the point's keys. */
  grad: (p: Point) => number[];
}

const u = (rnd: () => number, lo: number, hi: number) => lo + (hi - lo) * rnd();

const SEEDS: Seed[] = [
  {
    name: "x^2",
    expr: "x^2",
    point: (r) => ({ x: u(r, -10, 10) }),
    grad: (p) => [2 * (p.x as number)], // d/dx x² = 2x
  },
  {
    name: "sin(x^2)",
    expr: "sin(x^2)",
    point: (r) => ({ x: u(r, -10, 10) }),
    grad: (p) => {
      const x = p.x as number;
      return [2 * x * Math.cos(x * x)]; // d/dx sin(x²) = 2x cos(x²)
    },
  },
  {
    name: "mean(x^2)",
    expr: "mean(x^2)",
    point: (r) => ({ x: [u(r, -10, 10), u(r, -10, 10), u(r, -10, 10)] }),
    grad: (p) => (p.x as number[]).map((v) => (2 * v) / 3), // ∂/∂x_i mean(x²) = 2x_i/n
  },
  {
    name: "seed BCE",
    expr: "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)",
    point: (r) => ({ w: u(r, -3, 3), b: u(r, -3, 3), x: u(r, -3, 3), y: u(r, 0, 1) }),
    grad: (pt) => {
      const { w, b, x, y } = pt as Record<string, number>;
      // |z| ≤ 12: the clamp is inactive. dbce/dz = p − y; dbce/dy = log(1−p) − log p = −z. In
      // 60-digit decimals at the float64 point (in float64, p's own rounding shows in p − y and in
      // log1p(−p) − log p: a reference off by more than the complex step's estimate).
      const [W, X] = [D(w), D(x)];
      const z = W.times(X).plus(D(b));
      const q = D(1).div(z.neg().exp().plus(1)).minus(D(y));
      return [q.times(X), q, q.times(W), z.neg()].map((v) => v.toNumber());
    },
  },
];

function honesty(points: number): void {
  console.log(
    `\nhonest error estimates: fraction of ${points} random points with |true − est| ≤ error`,
  );
  for (const s of SEEDS) {
    const rnd = mulberry32(12345);
    const e = parse(s.expr);
    let total = 0;
    const ok = { richardson: 0, central: 0, complex: 0 };
    let complexRan = 0;
    let worstRatio = 0;
    for (let k = 0; k < points; k++) {
      const pt = s.point(rnd);
      const { x, layout } = flattenValues(toValues(pt));
      const f = compileForward(e, layout);
      const want = s.grad(pt);
      const r = gradient(f, x, { method: "richardson", kinks: false });
      const c = gradient(f, x, { method: "central", kinks: false });
      const z = complexStepGradient(e, layout, x);
      for (let i = 0; i < x.length; i++) {
        total++;
        const err = Math.abs(r.gradient[i]! - want[i]!);
        if (err <= r.error[i]!) ok.richardson++;
        worstRatio = Math.max(worstRatio, err / r.error[i]!);
        if (Math.abs(c.gradient[i]! - want[i]!) <= c.error[i]!) ok.central++;
        if (z.ok) {
          complexRan++;
          if (Math.abs(z.gradient[i]! - want[i]!) <= z.error[i]!) ok.complex++;
        }
      }
    }
    const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(2)}%`;
    console.log(
      `  ${s.name.padEnd(10)} richardson ${pct(ok.richardson, total)} (worst err/estimate ${worstRatio.toFixed(2)}), central ${pct(ok.central, total)}, complex step ${pct(ok.complex, complexRan)}`,
    );
  }
}

/**
 * The plain central difference's estimate where f varies on the scale of its step: the trust
 * benchmark's points (bench/trust.bench.ts: random built-in expressions, compositions of
 * oscillating custom ops), truth by the complex step of each one's built-in twin.
 */
function centralHonesty(): void {
  const defs = TRUST_OPS.map((op) => op.definition);
  const per = Math.ceil(2000 / defs.length);
  const custom = defs.flatMap((focus) =>
    fc.sample(fuzzCaseArbitrary({ ops: [...defs], focus, maxDepth: 3 }), {
      numRuns: per,
      seed: 17,
    }),
  );
  const sets: [string, [Expr, Point][]][] = [
    ["built-in expressions", cases(91, 4000)],
    ["custom-op compositions", custom.map(({ expr, at }) => [expr, at])],
  ];
  console.log(
    "\nplain central difference (method central) against the truth, trust benchmark points",
  );
  for (const [what, list] of sets) {
    let elements = 0;
    let over = 0;
    let over10 = 0;
    let unreliable = 0;
    for (const [expr, at] of list)
      for (const e of trustHonesty(expr, at, "central") ?? []) {
        elements++;
        if (e.unreliable) unreliable++;
        else if (Math.abs(e.numeric - e.truth) > 10 * (e.error + e.truthError)) over10++;
        else if (Math.abs(e.numeric - e.truth) > e.error + e.truthError) over++;
      }
    console.log(
      `  ${what}: ${elements} partials; true error above the estimate without an unreliable flag ${over + over10} (above 10× ${over10}); unreliable ${unreliable}`,
    );
  }
}

function fastMode(): void {
  const n = 1_000_000;
  const rnd = mulberry32(7);
  const data = Array.from({ length: n }, () => u(rnd, -3, 3));
  const values = toValues({ x: data });
  const e = parse("mean(sin(x^2))");
  console.log(`\nfast mode on mean(sin(x^2)), ${n} elements`);
  let leg = numericLeg(e, values, { seed: 3 });
  const ms = medianMs(() => (leg = numericLeg(e, values, { seed: 3 })), 3, 1);
  // Hand dot product: uᵀ∇f with ∂f/∂x_i = 2x_i cos(x_i²)/n.
  const dir = leg.directional!;
  let want = 0;
  for (let i = 0; i < n; i++) want += (dir.u[i]! * 2 * data[i]! * Math.cos(data[i]! ** 2)) / n;
  console.log(
    `  numericLeg auto (${leg.method}, complex step): ${ms.toFixed(0)} ms end to end (compile + value + uᵀ∇f); |err| ${Math.abs(dir.value - want).toExponential(2)}, estimate ${dir.error.toExponential(2)}`,
  );
  const { x, layout } = flattenValues(values);
  const f = compileForward(e, layout);
  const f0 = f(x);
  // Load-independent figure: the fast mode's cost in plain evaluations of f, timed interleaved.
  const rel = ratio(
    () => void numericLeg(e, values, { seed: 3 }),
    () => void f(x),
    5,
  );
  console.log(
    `  = ${rel.ratio.toFixed(1)} plain evaluations of f (one takes ${rel.baselineMs.toFixed(0)} ms here)`,
  );
  let d = directionalDerivative(f, x, dir.u, { f0 });
  const ms2 = medianMs(() => (d = directionalDerivative(f, x, dir.u, { f0 })), 3, 1);
  console.log(
    `  Richardson along u: ${ms2.toFixed(0)} ms, ${d.evaluations} evaluations; |err| ${Math.abs(d.derivative - want).toExponential(2)}, estimate ${d.error.toExponential(2)}`,
  );
}

function throughput(): void {
  console.log("\nevaluator throughput (compiled f, scalar output)");
  const cases: [string, Point][] = [
    ["sin(x^2)", { x: 3 }],
    ["bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)", { w: 1, b: 0, x: 6.7, y: 0 }],
    ["mean(bce(sigmoid(w*x+b), y))", { w: 0.5, b: -0.2, x: [1, 2, -1, 0.5], y: [1, 0, 0, 1] }],
  ];
  for (const [text, pt] of cases) {
    const { x, layout } = flattenValues(toValues(pt));
    const f = compileForward(parse(text) as Expr, layout);
    const reps = 1_000_000;
    let sink = 0;
    const ms = medianMs(() => {
      for (let k = 0; k < reps; k++) {
        x[0] = 1 + k * 1e-9;
        sink += f(x);
      }
    }, 5);
    const g = medianMs(() => void gradient(f, x), 50);
    console.log(
      `  ${text.padEnd(46)} ${(((reps / ms) * 1e3) / 1e6).toFixed(1)} M evals/s; Richardson gradient ${(1e3 / g).toFixed(0)} /s${sink === 0 ? " " : ""}`,
    );
  }
  const n = 1_000_000;
  const { x, layout } = flattenValues(toValues({ x: Array.from({ length: n }, (_, i) => i / n) }));
  const f = compileForward(parse("mean(sin(x^2))"), layout);
  const ms = medianMs(() => void f(x), 9);
  console.log(
    `  mean(sin(x^2)) at 10^6 elements: ${ms.toFixed(1)} ms per evaluation (${(n / ms / 1e3).toFixed(0)} M elements/s)`,
  );
}

export function run(): void {
  accuracy();
  honesty(10_000);
  centralHonesty();
  fastMode();
  throughput();
}
