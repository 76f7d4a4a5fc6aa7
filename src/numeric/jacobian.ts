/**
 * The numeric leg beyond gradients: the Jacobian of a non-scalar output by forward-mode columns
 * (Richardson-extrapolated Jacobian-vector products, each entry with its error estimate) and the
 * Hessian of a scalar output by differences of the gradient (the complex-step gradient where it
 * applies, else Richardson's), from the forward function alone.
 */
import type { Expr } from "../expr/ast.ts";
import { broadcastIndex } from "../expr/broadcast.ts";
import { sizeOf, type Value } from "../expr/point.ts";
import { isElementwise } from "../expr/structure.ts";
import { breakpointAt, complexStepGradient } from "./complex-step.ts";
import { compileForwardValue, flattenValues } from "./evaluate.ts";
import { detectKink, gradient } from "./gradient.ts";
import { jvp } from "./jvp.ts";
import type { Line } from "./line.ts";
import { cachedForward } from "./programs.ts";
import type { Kink } from "./types.ts";

/** A kink of one entry: row `row`, column `coordinate`. */
export interface EntryKink extends Kink {
  readonly row: number;
}

export interface NumericMatrix {
  /** The output's value at the point (flat, row-major). */
  readonly value: Float64Array;
  /** Row i, column j: ∂out[i]/∂input[j] (or ∂²f/∂input[i]∂input[j]). */
  readonly rows: Float64Array[];
  /** The error estimate of each entry. */
  readonly errors: Float64Array[];
  /** How the columns were had, for the report's notes. */
  readonly method: string;
  /** Entries whose one-sided derivatives differ (looked for at a breakpoint only). */
  readonly kinks: EntryKink[];
  /** The breakpoint of a piecewise op the point sits on, in words (`relu at 0`). */
  readonly breakpoint?: string;
}

/**
 * At a breakpoint, the kinks of F's Jacobian from evidence, as the gradient finds them
 * (`detectKink` on each entry's line t → F(x + t·eⱼ)[i]; a column's evaluations serve all of
 * its rows): `rowsOf(j)`, the rows column j may reach. A kink's entry gets the subgradient
 * interval in its error, as in `gradient`. With `beside`, F (a gradient) takes a convention at x
 * itself: each line passes instead through the mean of F's one-sided limits, from F at
 * x ± 2^-46·eⱼ and ± 2^-45·eⱼ (off the breakpoint, below what the one-sided tableaux resolve).
 */
function entryKinks(
  F: (y: Float64Array) => Float64Array,
  x: Float64Array,
  m: NumericMatrix,
  rowsOf: (j: number) => Iterable<number>,
  breakpoint: string | null,
  beside = false,
  cols?: readonly number[],
): Pick<NumericMatrix, "kinks" | "breakpoint"> {
  const kinks: EntryKink[] = [];
  if (breakpoint === null) return { kinks };
  const atX = beside ? null : F(x.slice()).slice();
  const work = x.slice();
  for (let c = 0; c < (cols?.length ?? x.length); c++) {
    const j = cols === undefined ? c : cols[c]!;
    const xj = x[j]!;
    const memo = new Map<number, Float64Array>();
    const column = (t: number): Float64Array => {
      let y = memo.get(t);
      if (y === undefined) {
        work[j] = xj + t;
        y = F(work).slice();
        work[j] = xj;
        memo.set(t, y);
      }
      return y;
    };
    const d = Math.max(1, Math.abs(xj)) * 2 ** -46;
    // Each side's limit linearly extrapolated (2F(±d) − F(±2d)), then their mean: exact for |t|.
    const side = (t: number, i: number) => 2 * column(t)[i]! - column(2 * t)[i]!;
    const f0 = atX ?? column(d).map((_, i) => (side(d, i) + side(-d, i)) / 2);
    for (const i of rowsOf(j)) {
      const line: Line = {
        g0: f0[i]!,
        at(t) {
          line.evaluations++;
          return column(t)[i]!;
        },
        realized: (t) => xj + t - xj,
        scale: Math.max(1, Math.abs(xj)),
        coordinate: c,
        evaluations: 0,
      };
      const est = { derivative: m.rows[i]![c]!, error: m.errors[i]![c]!, step: 0 };
      const k = detectKink(line, { ...est, stencil: "central", evaluations: 0 });
      if (k === null) continue;
      kinks.push({ ...k, row: i });
      const half = Math.abs(k.left - k.right) / 2 + Math.max(k.leftError, k.rightError);
      m.errors[i]![c] = Math.max(m.errors[i]![c]!, half);
    }
  }
  return { kinks, breakpoint };
}

/**
 * ∂out/∂inputs by forward-mode columns. An expression of elementwise ops reads one element of
 * each variable per output element, so the columns of one variable never share a row: one
 * Jacobian-vector product per variable (along all of its elements at once) gives them all.
 * At a breakpoint, the entries' kinks from evidence (`entryKinks`). With `wrt`, the columns of
 * those variables only (the others are constants).
 *
 * @example
 * const r = numericJacobian(parse("x^2"), toValues({ x: [1, 2] }));
 * r.rows; // ≈ [[2, 0], [0, 4]], r.errors ≈ 1e-13
 */
export function numericJacobian(
  expr: Expr,
  values: ReadonlyMap<string, Value>,
  wrt: readonly string[] = [...values.keys()],
): NumericMatrix {
  const { x, layout } = flattenValues(values);
  const F = compileForwardValue(expr, layout);
  const out = F(x);
  const value = out.data;
  const m = value.length;
  // Column c is coordinate cols[c] of x: the elements of `wrt`'s variables.
  const cols: number[] = [];
  for (const [name, slot] of layout)
    if (wrt.includes(name)) for (let k = 0; k < sizeOf(slot.shape); k++) cols.push(slot.offset + k);
  const n = cols.length;
  const rows = Array.from({ length: m }, () => new Float64Array(n));
  const errors = Array.from({ length: m }, () => new Float64Array(n));
  const map = (y: Float64Array) => F(y).data;
  const v = new Float64Array(x.length);
  const breakpoint = breakpointAt(expr, layout, x);
  if (isElementwise(expr)) {
    // The rows of the column of x's coordinate j: the output elements that read input element j.
    const reach: number[][] = Array.from({ length: x.length }, () => []);
    let o = 0; // the first column of the variable
    for (const [name, slot] of layout) {
      if (!wrt.includes(name)) continue;
      const size = sizeOf(slot.shape);
      v.fill(0);
      v.fill(1, slot.offset, slot.offset + size);
      const col = jvp(map, x, v);
      const idx = broadcastIndex(slot.shape, out.shape);
      for (let i = 0; i < m; i++) {
        rows[i]![o + idx[i]!] = col.value[i]!;
        errors[i]![o + idx[i]!] = col.error[i]!;
        reach[slot.offset + idx[i]!]!.push(i);
      }
      o += size;
    }
    const r = { value, rows, errors, method: "richardson, one column per variable (elementwise)" };
    return {
      ...r,
      ...entryKinks(map, x, { ...r, kinks: [] }, (j) => reach[j]!, breakpoint, false, cols),
    };
  }
  for (let c = 0; c < n; c++) {
    v.fill(0);
    v[cols[c]!] = 1;
    const col = jvp(map, x, v);
    for (let i = 0; i < m; i++) {
      rows[i]![c] = col.value[i]!;
      errors[i]![c] = col.error[i]!;
    }
  }
  const r = { value, rows, errors, method: "richardson, one column per input element" };
  return {
    ...r,
    ...entryKinks(map, x, { ...r, kinks: [] }, () => rows.keys(), breakpoint, false, cols),
  };
}

/**
 * ∂²f/∂inputs² of a scalar `expr`: Richardson-extrapolated differences of the gradient along
 * each input element, the gradient by the complex step (machine precision) where it applies,
 * else by Richardson extrapolation. Each entry carries the outer extrapolation's error estimate
 * plus the inner gradient's error amplified by the outer step. At a breakpoint, the kinks of the
 * gradient (`entryKinks`): where the Hessian is not defined. With `coordinates` (flat indices of
 * the input elements, `--wrt`'s), the Hessian over those only: row and column c are coordinate
 * coordinates[c], and neither the gradient nor its differences take the others.
 *
 * @example
 * numericHessian(parse("x^3"), toValues({ x: 2 })).rows; // ≈ [[12]]
 */
export function numericHessian(
  expr: Expr,
  values: ReadonlyMap<string, Value>,
  coordinates?: readonly number[],
): NumericMatrix {
  const { x, layout } = flattenValues(values);
  const n = coordinates?.length ?? x.length;
  const f = cachedForward(expr, layout);
  const breakpoint = breakpointAt(expr, layout, x);
  // On a breakpoint the complex step fails at x itself, but not beside it, where the
  // differences (and the kinks' one-sided lines) evaluate the gradient; nor along the
  // coordinates whose step leaves the breakpoint's op alone (all but x[k] for relu(x[k]) at 0):
  // only those that reach it are left to Richardson.
  const complex =
    breakpoint !== null || complexStepGradient(expr, layout, x, false, coordinates).ok;
  let innerError = 0;
  // The gradient's coordinates `coordinates` (all without it).
  const picked = (g: Float64Array) =>
    coordinates === undefined ? g : Float64Array.from(coordinates, (k) => g[k]!);
  const grad = (y: Float64Array): Float64Array => {
    if (complex) {
      const c = complexStepGradient(expr, layout, y, true, coordinates);
      if (c.ok) {
        // Exact but for rounding, which is that of the terms (log(Σ softmax) = 0: terms of 0.3).
        if (c.notAnalytic !== undefined) {
          const g = gradient(f, y, { method: "richardson", coordinates: c.notAnalytic });
          for (const k of c.notAnalytic) {
            c.gradient[k] = g.gradient[k]!;
            c.error[k] = g.error[k]!;
          }
        }
        for (const e of c.error) innerError = Math.max(innerError, e);
        return picked(c.gradient);
      }
    }
    const g = gradient(f, y, {
      method: "richardson",
      ...(coordinates === undefined ? {} : { coordinates }),
    });
    for (const e of g.error) innerError = Math.max(innerError, e);
    return picked(g.gradient);
  };
  const rows = Array.from({ length: n }, () => new Float64Array(n));
  const errors = Array.from({ length: n }, () => new Float64Array(n));
  const v = new Float64Array(x.length);
  const scale = x.reduce((s, xi) => Math.max(s, Math.abs(xi)), 1);
  for (let j = 0; j < n; j++) {
    v.fill(0);
    v[coordinates === undefined ? j : coordinates[j]!] = 1;
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
  const r = {
    value: Float64Array.of(f(x)),
    rows,
    errors,
    method: complex
      ? "richardson differences of the complex-step gradient"
      : "richardson differences of the richardson gradient",
  };
  return {
    ...r,
    ...entryKinks(grad, x, { ...r, kinks: [] }, () => rows.keys(), breakpoint, true, coordinates),
  };
}
