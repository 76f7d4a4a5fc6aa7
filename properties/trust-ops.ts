/**
 * Correct custom ops that are hard on a numeric leg (pow-like towers, cube, sin at large x, 2^a),
 * each with a built-in twin: the same function written with built-ins only, so the complex step of
 * the twin expression is an independent ground truth for the derivative of a composition (to a
 * few ulps, with its own rounding estimate). Shared by the honesty properties and
 * bench/trust.bench.ts.
 */
import { defineOp } from "../src/autograd/define-op.ts";
import { call, type Expr, num } from "../src/expr/ast.ts";
import { type Point, toValues } from "../src/expr/point.ts";
import { complexStepGradient } from "../src/numeric/complex-step.ts";
import { flattenValues } from "../src/numeric/evaluate.ts";
import type { NumericMethod } from "../src/numeric/leg.ts";
import { numericLeg } from "../src/numeric/leg.ts";

export const trustPow = defineOp({
  name: "trustPow",
  arity: 2,
  forward: (a, b) => a ** b,
  // d(a^b) = b·a^(b−1) da + a^b·log(a) db
  backward: ({ args: [a, b], out, grad }) => [
    grad * b! * a! ** (b! - 1),
    grad * out * Math.log(a!),
  ],
  formula: (a, b) => `(${a})^(${b})`,
  domain: [
    [0.2, 6],
    [-3, 3],
  ],
});

export const trustCube = defineOp({
  name: "trustCube",
  arity: 1,
  forward: (a) => a * a * a,
  backward: ({ args: [a], grad }) => [3 * a! * a! * grad],
  formula: (a) => `(${a})^3`,
});

/** sin, fuzzed at large arguments (its domain keeps it there). */
export const trustSinBig = defineOp({
  name: "trustSinBig",
  arity: 1,
  forward: Math.sin,
  backward: ({ args: [a], grad }) => [grad * Math.cos(a!)],
  formula: (a) => `sin(${a})`,
  domain: [[300, 1000]],
});

export const trustExp2 = defineOp({
  name: "trustExp2",
  arity: 1,
  forward: (a) => 2 ** a,
  backward: ({ out, grad }) => [grad * out * Math.LN2],
  formula: (a) => `exp(0.6931471805599453*(${a}))`,
});

export const TRUST_OPS = [trustPow, trustCube, trustSinBig, trustExp2] as const;

const TWINS: Readonly<Record<string, (args: Expr[]) => Expr>> = {
  trustPow: ([a, b]) => call("pow", [a!, b!]),
  trustCube: ([a]) => call("mul", [call("mul", [a!, a!]), a!]),
  trustSinBig: ([a]) => call("sin", [a!]),
  trustExp2: ([a]) => call("pow", [num(2), a!]),
};

/** `expr` with every trust op replaced by its built-in twin. */
export function twin(expr: Expr): Expr {
  if (expr.kind !== "call") return expr;
  const args = expr.args.map(twin);
  const t = TWINS[expr.op];
  return t === undefined ? call(expr.op, args) : t(args);
}

/** One element's numeric estimate next to the ground truth. */
export interface Honesty {
  readonly numeric: number;
  readonly error: number;
  /** The twin's complex-step derivative and its own rounding estimate. */
  readonly truth: number;
  readonly truthError: number;
  readonly unreliable: boolean;
  readonly method: string;
}

/**
 * The numeric leg on `expr` at `at`, element by element against the complex step of its twin;
 * null where the twin's complex step does not apply (a kink, a domain edge).
 */
export function honesty(expr: Expr, at: Point, method: NumericMethod = "auto"): Honesty[] | null {
  const values = toValues(at);
  const { x, layout } = flattenValues(values);
  const truth = complexStepGradient(twin(expr), layout, x);
  if (!truth.ok) return null;
  const leg = numericLeg(expr, values, { method });
  if (leg.gradients === null || leg.errors === null) return null;
  const out: Honesty[] = [];
  let o = 0;
  for (const name of values.keys()) {
    const g = leg.gradients.get(name)!;
    const e = leg.errors.get(name)!;
    for (let k = 0; k < g.length; k++)
      out.push({
        numeric: g[k]!,
        error: e[k]!,
        truth: truth.gradient[o + k]!,
        truthError: truth.error[o + k]!,
        unreliable: leg.unreliable !== undefined,
        method: leg.method,
      });
    o += g.length;
  }
  return out;
}
