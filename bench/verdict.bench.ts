/**
 * What the verdict says on correct code (issue 9, items 1, 3, 4), figures not pass/fail, over
 * random smooth expressions of the built-ins (no abs, relu, clamp, matmul) in x and y at uniform
 * points of [-2, 2]², with literals from {0.5, 1, 2, 3, 0.25, 1.5} and, in the second and third
 * sets, short decimals such as 2.401; the third set adds the smooth ops of issue 11 (erf, asin…):
 *  - how often the symbolic leg is available, and why it is not (grouped reasons);
 *  - the exit codes `check` gives (`outcome`): pass (0), fail (1), inconclusive (3), and how
 *    many of the inconclusive ones are ill-conditioned points (float64 cannot resolve the
 *    derivative: the rounding analysis) rather than domains, kinks or singularities.
 * VERDICT_N sets the count (default 10^4), VERDICT_VERBOSE=1 prints every non-pass case.
 */
import fc from "fast-check";
import { builtinSignatures, exprArbitrary } from "../properties/arbitraries.ts";
import { check } from "../src/check/check.ts";
import { outcome } from "../src/check/outcome.ts";
import { type Expr, variablesOf } from "../src/expr/ast.ts";

/** The smooth built-ins of issue 9's measurements (scalar-valued, no breakpoints). */
const ORIGINAL =
  "add sub mul div pow neg sin cos tan exp log sqrt tanh sigmoid log1p softplus bce sum mean";
/** The smooth built-ins added since (issue 11). */
const ADDED = "erf gelu asin acos atan sinh cosh expm1 logsumexp";
const opsOf = (names: string) => builtinSignatures.filter((o) => names.split(" ").includes(o.name));
const N = Number(process.env.VERDICT_N ?? 10_000);
const VERBOSE = process.env.VERDICT_VERBOSE === "1";

const uniform = fc.integer({ min: -(2 ** 30), max: 2 ** 30 }).map((k) => (2 * k) / 2 ** 30);
const exact = fc.constantFrom(0.5, 1, 2, 3, 0.25, 1.5);
const decimal = fc.integer({ min: 1, max: 5000 }).map((k) => k / 1000);

function cases(seed: number, n: number, numbers: fc.Arbitrary<number>, ops = opsOf(ORIGINAL)) {
  const gen = fc.tuple(
    exprArbitrary({ variables: ["x", "y"], ops, numbers, maxDepth: 3 }).filter(
      (e) => variablesOf(e).length > 0,
    ),
    fc.record({ x: uniform, y: uniform }),
  );
  return fc.sample(gen, { numRuns: n, seed });
}

/** A reason with its numbers and formulas taken out, so that like reasons group. */
function kind(reason: string): string {
  return reason
    .replace(/"[^"]*"/g, "…")
    .replace(/-?\d[\d.e+-]*/g, "#")
    .replace(/ in .*$/, "")
    .slice(0, 110);
}

function tally(label: string, list: [Expr, { x: number; y: number }][]): void {
  let symbolic = 0;
  const missing = new Map<string, number>();
  const exits = { pass: 0, fail: 0, inconclusive: 0 };
  let outvoted = 0;
  let illConditioned = 0;
  const t0 = performance.now();
  for (const [e, at] of list) {
    const r = check(e, { at });
    const o = outcome(r);
    exits[o]++;
    if (o === "pass" && r.verdict === "disagree") outvoted++;
    if (o === "inconclusive" && r.reason?.startsWith("ill-conditioned")) illConditioned++;
    // Available where the function has a gradient at all (a finite value, no kink).
    const defined = !(o === "inconclusive" && !r.reason?.startsWith("ill-conditioned"));
    if (defined) {
      if (r.legs.symbolic.status === "ok") symbolic++;
      else {
        const k = kind(r.legs.symbolic.reason ?? r.legs.symbolic.status);
        missing.set(k, (missing.get(k) ?? 0) + 1);
      }
    }
    if (VERBOSE && (o !== "pass" || r.legs.symbolic.status !== "ok"))
      console.log(
        `  ${o}: ${r.expr} at ${JSON.stringify(at)}: ${r.reason ?? r.legs.symbolic.reason}`,
      );
  }
  const defined = list.length - (exits.inconclusive - illConditioned);
  const pct = (k: number, n: number) => `${((100 * k) / Math.max(1, n)).toFixed(2)}%`;
  console.log(
    `${label}: ${list.length} checks in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${defined} where the gradient is defined (finite, no kink, inside every domain)`,
  );
  console.log(`  symbolic leg available in ${symbolic} of ${defined} (${pct(symbolic, defined)})`);
  for (const [k, c] of [...missing].sort((a, b) => b[1] - a[1]).slice(0, 8))
    console.log(`    ${c}× ${k}`);
  console.log(
    `  exit 0: ${exits.pass} (${outvoted} with a reference leg outvoted), exit 1: ${exits.fail}, exit 3: ${exits.inconclusive} (${illConditioned} ill-conditioned = ${pct(illConditioned, list.length)} of all checks)`,
  );
}

export function run(): void {
  tally("literals 0.5, 1, 2, 3, 0.25, 1.5", cases(1, N / 2, exact));
  tally("literals also short decimals (k/1000)", cases(2, N / 2, fc.oneof(exact, decimal)));
  tally(
    `with the ops added since (${ADDED})`,
    cases(3, N / 2, fc.oneof(exact, decimal), opsOf(`${ORIGINAL} ${ADDED}`)),
  );
}
