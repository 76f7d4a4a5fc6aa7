/**
 * Trust (issue 9), figures not pass/fail:
 * (a) false alarms over random smooth built-in expressions and over compositions of correct custom
 *     ops (pow-like towers, cube, sin at large x, 2^a): checks that exit 1 (`outcome` "fail");
 * (b) honesty of the numeric estimate: how often |numeric − truth| exceeds the estimate (and 10×
 *     it) without the leg saying it is unreliable. Truth: the complex step of the built-in twin
 *     expression (each custom op written with built-ins, properties/trust-ops.ts; for built-in
 *     expressions under Richardson, the complex step of the expression itself), its own rounding
 *     estimate added to the tolerance;
 * (c) false agrees on ill-conditioned families, against the derivative evaluated in 60-digit
 *     decimal arithmetic (decimal.js) at the same float64 point;
 * (d) planted relative faults (1e-6, 1e-8, 1e-10) in each custom op's backward rule: the rate at
 *     which the check exits 1, and what the others are;
 * (e) backwards that read their output where 1 − y cancels (a softmax tensor op, as its Jacobian
 *     and through a sum; a sigmoid-like scalar op) at random points, many saturated: exits 1 of
 *     the correct ops (false alarms), and of copies whose backward is wrong (caught).
 * (f) a backward that recomputes its forward inside (σ's s·(1 − s) from x): false alarms, faults caught.
 * TRUST_SCALE=k multiplies every sample size (default 1: 10^4 built-in expressions).
 */
import { Decimal } from "decimal.js";
import fc from "fast-check";
import { honesty, TRUST_OPS } from "../properties/trust-ops.ts";
import { defineOp } from "../src/autograd/define-op.ts";
import { autogradLeg } from "../src/autograd/leg.ts";
import { check } from "../src/check/check.ts";
import { outcome } from "../src/check/outcome.ts";
import type { Report } from "../src/check/report.ts";
import { call, type Expr } from "../src/expr/ast.ts";
import type { CustomOpDefinition } from "../src/expr/ops.ts";
import { type Point, toValues } from "../src/expr/point.ts";
import { print } from "../src/expr/print.ts";
import { fuzzCaseArbitrary } from "../src/fuzz/arbitraries.ts";
import type { NumericMethod } from "../src/numeric/leg.ts";
import { softmaxOk } from "../test/fixtures/ops/tensor/softmax.ok.ts";
import { recomputingSigmoid } from "../test/fixtures/recomputing-sigmoid.ts";
import { cases } from "./sensitivity.bench.ts";

const SCALE = Number(process.env.TRUST_SCALE ?? 1);
const n = (k: number) => Math.max(1, Math.round(k * SCALE));
const pct = (k: number, total: number) => `${((k / Math.max(1, total)) * 100).toFixed(2)}%`;

interface Tally {
  /** outcome "fail": exit 1, autograd contradicted. */
  fail: number;
  agree: number;
  inconclusive: number;
  blamed: Record<"symbolic" | "numeric" | "autograd" | "none", number>;
  unreliable: number;
  symbolicMissing: number;
}

function tally(reports: Iterable<Report>): Tally {
  const t: Tally = {
    fail: 0,
    agree: 0,
    inconclusive: 0,
    blamed: { symbolic: 0, numeric: 0, autograd: 0, none: 0 },
    unreliable: 0,
    symbolicMissing: 0,
  };
  for (const r of reports) {
    if (outcome(r) === "fail") t.fail++;
    if (r.verdict === "agree") t.agree++;
    else if (r.verdict === "inconclusive") t.inconclusive++;
    else t.blamed[r.blame ?? "none"]++;
    if (r.legs.numeric.unreliable) t.unreliable++;
    if (r.gradients[Object.keys(r.gradients)[0]!]?.symbolic === null) t.symbolicMissing++;
  }
  return t;
}

function printTally(what: string, t: Tally, total: number, ms: number): void {
  const alarms = t.fail;
  console.log(`${what}: ${total} checks in ${(ms / 1000).toFixed(1)} s`);
  console.log(
    `  agree ${t.agree}, inconclusive ${t.inconclusive}, disagree blaming symbolic ${t.blamed.symbolic}, numeric ${t.blamed.numeric}, autograd ${t.blamed.autograd}, nobody ${t.blamed.none}`,
  );
  console.log(
    `  false alarms (exit 1: autograd blamed, or no majority): ${alarms} (${pct(alarms, total)}); numeric leg unreliable in ${t.unreliable}; symbolic leg missing in ${t.symbolicMissing}`,
  );
}

const TRUST_DEFS = TRUST_OPS.map((op) => op.definition);

function customCases(ops: readonly CustomOpDefinition[], count: number, seed: number) {
  const per = Math.ceil(count / ops.length);
  return ops.flatMap((focus) =>
    fc.sample(fuzzCaseArbitrary({ ops: [...ops], focus, maxDepth: 3 }), { numRuns: per, seed }),
  );
}

function falseAlarms(): void {
  const built = cases(91, n(10_000));
  let t0 = performance.now();
  const a = tally(built.map(([e, at]) => check(e, { at })));
  printTally(
    "(a) random smooth built-in expressions, x, y ∈ [-2, 2]",
    a,
    built.length,
    performance.now() - t0,
  );
  // Wide: exp, cosh, sinh of |x| up to 20 nested overflow float64 under finite outputs
  // (sigmoid(exp(x)) at 710): the exit-1 count here is that of review11's finding 18.
  const wide = cases(91, n(10_000), 20);
  t0 = performance.now();
  const w = tally(wide.map(([e, at]) => check(e, { at })));
  printTally(
    "(a) random smooth built-in expressions, x, y ∈ [-20, 20]",
    w,
    wide.length,
    performance.now() - t0,
  );
  const custom = customCases(TRUST_DEFS, n(2000), 5);
  t0 = performance.now();
  const b = tally(custom.map(({ expr, at }) => check(expr, { at })));
  printTally(
    "(a) compositions of correct custom ops (trustPow, trustCube, trustSinBig on [300, 1000], trustExp2)",
    b,
    custom.length,
    performance.now() - t0,
  );
}

function honestyFigures(): void {
  const count = (list: ReturnType<typeof honesty>[]) => {
    let elements = 0;
    let over = 0;
    let over10 = 0;
    let unreliable = 0;
    for (const h of list)
      for (const e of h ?? []) {
        elements++;
        if (e.unreliable) {
          unreliable++;
          continue;
        }
        const err = Math.abs(e.numeric - e.truth);
        if (err > e.error + e.truthError) over++;
        if (err > 10 * (e.error + e.truthError)) over10++;
      }
    return { elements, over, over10, unreliable };
  };
  const custom = customCases(TRUST_DEFS, n(4000), 17);
  for (const method of ["auto", "richardson"] as NumericMethod[]) {
    const t0 = performance.now();
    const c = count(custom.map(({ expr, at }) => honesty(expr, at, method)));
    console.log(
      `(b) numeric estimate vs truth, custom-op compositions, method ${method}: ${c.elements} elements in ${((performance.now() - t0) / 1000).toFixed(1)} s;` +
        ` true error above the estimate ${c.over} (${pct(c.over, c.elements)}), above 10× ${c.over10} (${pct(c.over10, c.elements)}), both without an unreliable flag; unreliable ${c.unreliable} (${pct(c.unreliable, c.elements)})`,
    );
  }
  const built = cases(91, n(4000));
  const t0 = performance.now();
  const c = count(built.map(([e, at]) => honesty(e, at, "richardson")));
  console.log(
    `(b) numeric estimate vs truth, built-in expressions, method richardson: ${c.elements} elements in ${((performance.now() - t0) / 1000).toFixed(1)} s;` +
      ` above the estimate ${c.over} (${pct(c.over, c.elements)}), above 10× ${c.over10} (${pct(c.over10, c.elements)}); unreliable ${c.unreliable} (${pct(c.unreliable, c.elements)})`,
  );
}

Decimal.set({ precision: 60 });
/**
 * The float64 x exactly, in decimal (`new Decimal(x)` reads x's shortest decimal string, up to half
 * an ulp away: cos(x^4)'s derivative at 512.3456789 moved by 8e-5 of itself).
 */
export const D = (x: number) => new Decimal(x.toPrecision(100));

/** Ill-conditioned families: expression, points, and d/dx in 60 digits at the float64 point. */
const FAMILIES: readonly {
  name: string;
  expr: string;
  points: (k: number) => number;
  derivative: (x: Decimal) => Decimal;
}[] = [
  {
    name: "cancellation (1-cos(x))/x^2, x = 10^u, u ∈ [-9, -3]",
    expr: "(1-cos(x))/x^2",
    points: (k) => 10 ** (-9 + 6 * k),
    // (x·sin x − 2(1 − cos x))/x³
    derivative: (x) =>
      x
        .times(x.sin())
        .minus(D(2).times(D(1).minus(x.cos())))
        .div(x.pow(3)),
  },
  {
    name: "cancellation (exp(x)-1-x)/x^2, x = 10^u, u ∈ [-9, -3]",
    expr: "(exp(x)-1-x)/x^2",
    points: (k) => 10 ** (-9 + 6 * k),
    // ((x − 2)eˣ + x + 2)/x³
    derivative: (x) => x.minus(2).times(x.exp()).plus(x).plus(2).div(x.pow(3)),
  },
  {
    name: "oscillatory sin(exp(3*x)), x ∈ [8, 12]",
    expr: "sin(exp(3*x))",
    points: (k) => 8 + 4 * k,
    derivative: (x) => D(3).times(x.times(3).exp()).times(x.times(3).exp().cos()),
  },
  {
    name: "oscillatory cos(x^4), x ∈ [100, 1000]",
    expr: "cos(x^4)",
    points: (k) => 100 + 900 * k,
    derivative: (x) => D(-4).times(x.pow(3)).times(x.pow(4).sin()),
  },
];

function falseAgrees(): void {
  const per = n(200);
  for (const f of FAMILIES) {
    let pass = 0;
    let wrong = 0;
    let inconclusive = 0;
    const next = fc.sample(fc.double({ min: 0, max: 1, noNaN: true }), { numRuns: per, seed: 3 });
    for (const k of next) {
      const x = f.points(k);
      const r = check(f.expr, { at: { x } });
      if (r.verdict === "inconclusive") inconclusive++;
      if (outcome(r) !== "pass") continue;
      pass++;
      const truth = f.derivative(D(x)).toNumber();
      const a = r.gradients.x!.autograd as number;
      if (!(Math.abs(a - truth) <= 1e-6 * Math.abs(truth) + 1e-300)) wrong++;
    }
    console.log(
      `(c) ${f.name}: ${per} points; pass (exit 0) ${pass}, of which autograd's value is wrong by more than 1e-6 relative (false agrees) ${wrong}; inconclusive ${inconclusive}`,
    );
  }
  for (const [expr, x] of [
    ["(1-cos(x))/x^2", 1e-9],
    ["sin(exp(3*x))", 11.5],
  ] as const) {
    const r = check(expr, { at: { x } });
    console.log(
      `    ${expr} at ${x}: ${r.verdict}${r.reason === null ? "" : ` (${r.reason.slice(0, 120)})`}`,
    );
  }
}

/** Copies of the trust ops whose backward is off by a relative δ. */
function faulty(delta: number): CustomOpDefinition[] {
  const tag = `F${delta.toExponential(0).replace(/[-+.]/g, "")}`;
  return TRUST_DEFS.map(
    (op) =>
      defineOp({
        ...op,
        name: `${op.name}${tag}`,
        backward: (ctx) => op.backward(ctx).map((g) => g * (1 + delta)),
      }).definition,
  );
}

/** `expr` with every faulty copy replaced by the correct op it copies. */
function unfaulty(expr: Expr, tag: string): Expr {
  if (expr.kind !== "call") return expr;
  return call(
    expr.op.endsWith(tag) ? expr.op.slice(0, -tag.length) : expr.op,
    expr.args.map((a) => unfaulty(a, tag)),
  );
}

/**
 * Per planted fault δ: exit 1 (caught), exit 3 (inconclusive), and exit 0 split by whether the
 * fault moved autograd's gradient at all (against the same expression with the correct ops:
 * `minimum(…, z)` passes z's gradient through, untouched) and, where it did, by how far.
 */
function plantedFaults(): void {
  for (const delta of [1e-6, 1e-8, 1e-10]) {
    const tag = `F${delta.toExponential(0).replace(/[-+.]/g, "")}`;
    const cases = customCases(faulty(delta), n(1000), 23);
    let failed = 0;
    let blamed = 0;
    let inconclusive = 0;
    let unmoved = 0;
    const silent: string[] = [];
    for (const { expr, at } of cases) {
      const r = check(expr, { at });
      const o = outcome(r);
      if (r.blame === "autograd") blamed++;
      if (o === "fail") failed++;
      if (o === "inconclusive") inconclusive++;
      if (o !== "pass") continue;
      const right = autogradLeg(unfaulty(expr, tag), toValues(at)).gradients;
      let move = 0;
      for (const [name, g] of Object.entries(r.gradients)) {
        const a = g.autograd as number;
        const b = right.get(name)![0]!;
        if (a !== b) move = Math.max(move, Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));
      }
      if (move === 0) unmoved++;
      else silent.push(`${move.toExponential(0)}: ${print(expr)} at ${JSON.stringify(at)}`);
    }
    console.log(
      `(d) planted relative fault ${delta.toExponential(0)} in every custom op's backward, ${cases.length} compositions: caught (exit 1) ${pct(failed, cases.length)} (autograd blamed ${pct(blamed, cases.length)}), inconclusive (exit 3) ${pct(inconclusive, cases.length)}, exit 0 ${cases.length - failed - inconclusive}: the fault leaves the gradient untouched in ${unmoved}, moves it (relative) in ${silent.length}`,
    );
    for (const s of silent) console.log(`    ${s}`);
  }
}

/** softmaxOk with its backward `y·(g − Σg·y)` changed by `wrong` (identity: the correct op). */
function softmaxWith(name: string, wrong: (dx: number, dot: number, y: number) => number) {
  return defineOp({
    ...softmaxOk.definition,
    name,
    backward: ({ out: y, grad: g }) => {
      const dot = y.reduce((a, yi, i) => a + yi * g[i]!, 0);
      return [y.map((yi, i) => wrong(yi * (g[i]! - dot), dot, yi))];
    },
  });
}

/** A sigmoid whose backward reads its output, `out·(1 − out)`, times `factor`. */
function sigmoidWith(name: string, factor: number) {
  return defineOp({
    name,
    arity: 1,
    forward: (a) => 1 / (1 + Math.exp(-a)),
    backward: ({ out, grad }) => [grad * out * (1 - out) * factor],
    formula: (a) => `1/(1+exp(-(${a})))`,
  });
}

/** (e)'s points: 3-vectors, half saturated (components in ±40, where y ≈ 1 and 1 − y cancels), half in ±4. */
function vectorPoints(): number[][] {
  return fc
    .sample(
      fc.tuple(
        fc.boolean(),
        fc.array(fc.integer({ min: -4000, max: 4000 }), { minLength: 3, maxLength: 3 }),
      ),
      { numRuns: n(300), seed: 29 },
    )
    .map(([wide, ks]) => ks.map((k) => k / (wide ? 100 : 1000)));
}

function readsOutput(): void {
  const points = vectorPoints();
  const w = [1, -2, 0.5];
  const exits = (checks: [string, Point][]) => {
    const t0 = performance.now();
    let fail = 0;
    let inconclusive = 0;
    for (const [text, at] of checks) {
      const o = outcome(check(text, { at }));
      if (o === "fail") fail++;
      if (o === "inconclusive") inconclusive++;
    }
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    return `exit 1 ${pct(fail, checks.length)}, exit 3 ${pct(inconclusive, checks.length)} (${s} s)`;
  };
  const softmaxes = [
    softmaxWith("trustSoftmax", (dx) => dx),
    softmaxWith("trustSoftmaxF1e6", (dx) => dx * (1 + 1e-6)),
    softmaxWith("trustSoftmaxF1e8", (dx) => dx * (1 + 1e-8)),
    softmaxWith("trustSoftmaxNoDot", (dx, dot, y) => dx + y * dot),
  ];
  console.log(
    `(e) backwards that read their output, ${points.length} points (x ∈ 3-vectors, half with components in ±40, half in ±4); the first of each group correct (exit 1: a false alarm), the others wrong (exit 1: caught)`,
  );
  for (const op of softmaxes) {
    const name = op.definition.name;
    const jacobian = exits(points.map((x) => [`${name}(x)`, { x }]));
    const summed = exits(points.map((x) => [`sum(${name}(x)*w)`, { x, w }]));
    console.log(`    ${name}(x), Jacobian: ${jacobian}; sum(${name}(x)*w): ${summed}`);
  }
  for (const [name, factor] of [
    ["trustSigmoid", 1],
    ["trustSigmoidF1e6", 1 + 1e-6],
  ] as const) {
    sigmoidWith(name, factor);
    console.log(`    ${name}(x), at x₀: ${exits(points.map((x) => [`${name}(x)`, { x: x[0]! }]))}`);
  }
}

/** A softmax whose backward computes y from x again (off by `factor`). */
function recomputingSoftmax(name: string, factor: number) {
  const forward = softmaxOk.definition.forward;
  return defineOp({
    ...softmaxOk.definition,
    name,
    backward: ({ args, grad: g }) => {
      const y = Array.from(
        forward({ args, shapes: [[args[0]!.length]], outShape: [args[0]!.length] }),
      );
      const dot = y.reduce((a, yi, i) => a + yi * g[i]!, 0);
      return [y.map((yi, i) => yi * (g[i]! - dot) * factor)];
    },
  });
}

function recomputesForward(): void {
  // x uniform in [−40, 40]: past |x| ≈ 15, 1 − s holds few of s's bits.
  const xs = fc.sample(fc.integer({ min: -40_000, max: 40_000 }), { numRuns: n(300), seed: 31 });
  console.log(
    `(f) a backward that recomputes its forward (s = σ(x), then s·(1 − s)), ${xs.length} points x ∈ [−40, 40]; the first correct (exit 1: a false alarm), the others wrong (exit 1: caught)`,
  );
  for (const [name, factor] of [
    ["trustSigmoidAgain", 1],
    ["trustSigmoidAgainF1e6", 1 + 1e-6],
    ["trustSigmoidAgainF1e8", 1 + 1e-8],
  ] as const) {
    recomputingSigmoid(name, factor);
    const rs = xs.map((k) => check(`${name}(x)`, { at: { x: k / 1000 } }));
    const fail = rs.filter((r) => outcome(r) === "fail").length;
    const three = rs.filter((r) => r.verdict === "inconclusive").length;
    console.log(`    ${name}(x): exit 1 ${pct(fail, rs.length)}, exit 3 ${pct(three, rs.length)}`);
  }
  // The softmax, its Jacobian at (e)'s points (3-vectors, half with components in ±40).
  const points = vectorPoints();
  for (const [name, factor] of [
    ["trustSoftmaxAgain", 1],
    ["trustSoftmaxAgainF1e6", 1 + 1e-6],
  ] as const) {
    recomputingSoftmax(name, factor);
    const rs = points.map((x) => check(`${name}(x)`, { at: { x } }));
    const fail = rs.filter((r) => outcome(r) === "fail").length;
    const three = rs.filter((r) => r.verdict === "inconclusive").length;
    console.log(
      `    ${name}(x), Jacobian, ${points.length} points as (e): exit 1 ${pct(fail, rs.length)}, exit 3 ${pct(three, rs.length)}`,
    );
  }
}

export function run(): void {
  falseAlarms();
  honestyFigures();
  falseAgrees();
  plantedFaults();
  readsOutput();
  recomputesForward();
}
