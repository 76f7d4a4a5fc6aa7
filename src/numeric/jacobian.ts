/**
 * The numeric leg beyond gradients: the Jacobian of a non-scalar output by forward-mode columns
 * (Richardson-extrapolated Jacobian-vector products, each entry with its error estimate) and the
 * Hessian of a scalar output by differences of the gradient (the complex-step gradient where it
 * applies, else Richardson's), from the forward function alone.
 */
import type { Expr } from "../expr/ast.ts";
import { broadcastIndex } from "../expr/broadcast.ts";
import type { Value } from "../expr/point.ts";
import { isElementwise } from "../expr/structure.ts";
import { complexStepGradient } from "./complex-step.ts";
import { compileForwardValue, flattenValues } from "./evaluate.ts";
import { gradient } from "./gradient.ts";
import { jvp } from "./jvp.ts";
import { cachedForward } from "./programs.ts";

export interface NumericMatrix {
  /** The output's value at the point (flat, row-major). */
  readonly value: Float64Array;
  /** Row i, column j: ∂out[i]/∂input[j] (or ∂²f/∂input[i]∂input[j]). */
  readonly rows: Float64Array[];
  /** The error estimate of each entry. */
  readonly errors: Float64Array[];
  /** How the columns were had, for the report's notes. */
  readonly method: string;
}

/**
 * ∂out/∂inputs by forward-mode columns. An expression of elementwise ops reads one element of
 * each variable per output element, so the columns of one variable never share a row: one
 * Jacobian-vector product per variable (along all of its elements at once) gives them all.
 *
 * @example
 * const r = numericJacobian(parse("x^2"), toValues({ x: [1, 2] }));
 * r.rows; // ≈ [[2, 0], [0, 4]], r.errors ≈ 1e-13
 */
export function numericJacobian(expr: Expr, values: ReadonlyMap<string, Value>): NumericMatrix {
  const { x, layout } = flattenValues(values);
  const F = compileForwardValue(expr, layout);
  const out = F(x);
  const value = out.data;
  const m = value.length;
  const n = x.length;
  const rows = Array.from({ length: m }, () => new Float64Array(n));
  const errors = Array.from({ length: m }, () => new Float64Array(n));
  const map = (y: Float64Array) => F(y).data;
  const v = new Float64Array(n);
  if (isElementwise(expr)) {
    for (const [, slot] of layout) {
      const size = slot.shape.reduce((a, b) => a * b, 1);
      v.fill(0);
      v.fill(1, slot.offset, slot.offset + size);
      const col = jvp(map, x, v);
      const idx = broadcastIndex(slot.shape, out.shape);
      for (let i = 0; i < m; i++) {
        rows[i]![slot.offset + idx[i]!] = col.value[i]!;
        errors[i]![slot.offset + idx[i]!] = col.error[i]!;
      }
    }
    return { value, rows, errors, method: "richardson, one column per variable (elementwise)" };
  }
  for (let j = 0; j < n; j++) {
    v.fill(0);
    v[j] = 1;
    const col = jvp(map, x, v);
    for (let i = 0; i < m; i++) {
      rows[i]![j] = col.value[i]!;
      errors[i]![j] = col.error[i]!;
    }
  }
  return { value, rows, errors, method: "richardson, one column per input element" };
}

/**
 * ∂²f/∂inputs² of a scalar `expr`: Richardson-extrapolated differences of the gradient along
 * each input element, the gradient by the complex step (machine precision) where it applies,
 * else by Richardson extrapolation. Each entry carries the outer extrapolation's error estimate
 * plus the inner gradient's error amplified by the outer step.
 *
 * @example
 * numericHessian(parse("x^3"), toValues({ x: 2 })).rows; // ≈ [[12]]
 */
export function numericHessian(expr: Expr, values: ReadonlyMap<string, Value>): NumericMatrix {
  const { x, layout } = flattenValues(values);
  const n = x.length;
  const f = cachedForward(expr, layout);
  const complex = complexStepGradient(expr, layout, x).ok;
  let innerError = 0;
  const grad = (y: Float64Array): Float64Array => {
    if (complex) {
      const c = complexStepGradient(expr, layout, y);
      if (c.ok) {
        // Exact but for rounding, which is that of the terms (log(Σ softmax) = 0: terms of 0.3).
        for (const e of c.error) innerError = Math.max(innerError, e);
        return c.gradient;
      }
    }
    const g = gradient(f, y, { method: "richardson" });
    for (const e of g.error) innerError = Math.max(innerError, e);
    return g.gradient;
  };
  const rows = Array.from({ length: n }, () => new Float64Array(n));
  const errors = Array.from({ length: n }, () => new Float64Array(n));
  const v = new Float64Array(n);
  const scale = x.reduce((s, xi) => Math.max(s, Math.abs(xi)), 1);
  for (let j = 0; j < n; j++) {
    v.fill(0);
    v[j] = 1;
    innerError = 0;
    const col = jvp(grad, x, v);
    // The inner gradient's own error, divided by the smallest step the tableau can use (2^-11
    // of the point's largest element, as `jvp` steps): an honest upper estimate of what it adds to a difference quotient.
    const amplified = innerError / (scale * 2 ** -13);
    for (let i = 0; i < n; i++) {
      rows[i]![j] = col.value[i]!;
      errors[i]![j] = col.error[i]! + amplified;
    }
  }
  return {
    value: Float64Array.of(f(x)),
    rows,
    errors,
    method: complex
      ? "richardson differences of the complex-step gradient"
      : "richardson differences of the richardson gradient",
  };
}
