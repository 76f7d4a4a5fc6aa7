/**
 * The symbolic leg for a non-scalar output: the Jacobian from the same CAS templates as the
 * gradient (never a scalarized expression). An expression of elementwise ops is one pass: with a
 * seed of ones, each template's value at element i is the entry of row i in the column of the
 * variable element that i reads (the Jacobian is diagonal, or a column for a broadcast
 * variable). Otherwise one vector–Jacobian product per output element, the templates derived once.
 */
import type { Expr } from "../expr/ast.ts";
import { broadcastIndex } from "../expr/broadcast.ts";
import type { Value } from "../expr/point.ts";
import { isElementwise } from "../expr/structure.ts";
import { expandCustomOps } from "../expr/tensor-op.ts";
import { forwardValues } from "./forward.ts";
import { symbolicPullback } from "./leg.ts";
import { type Declined, declined } from "./outcome.ts";

export type SymbolicJacobianResult =
  | {
      readonly status: "ok";
      /**
       * Row i: ∂out[i]/∂(every input element of the variables `wrt`, flattened in the point's
       * order).
       */
      readonly rows: Float64Array[];
      /** "elementwise": one pass, the structure gave the sparsity; "rows": a pass per row. */
      readonly structure: "elementwise" | "rows";
    }
  | Declined;

/**
 * ∂out/∂inputs of a non-scalar `expr` at the point, by the CAS; with `wrt`, its columns of
 * those variables only.
 *
 * @example
 * const r = symbolicJacobian(parse("x^2"), toValues({ x: [1, 2] }));
 * // r.status === "ok"; r.rows ≈ [[2, 0], [0, 4]]; r.structure === "elementwise"
 */
export function symbolicJacobian(
  input: Expr,
  values: ReadonlyMap<string, Value>,
  wrt: readonly string[] = [...values.keys()],
): SymbolicJacobianResult {
  const expr = expandCustomOps(input);
  if (typeof expr === "string") return { status: "unavailable", reason: expr };
  const fwd = forwardValues(expr, values);
  const out = fwd.get(expr)!;
  const m = out.data.length;
  let total = 0;
  for (const name of wrt) total += values.get(name)!.data.length;
  const rows = Array.from({ length: m }, () => new Float64Array(total));
  try {
    if (isElementwise(expr)) {
      const capture = new Map<string, Float64Array>();
      symbolicPullback(expr, values, fwd, new Float64Array(m).fill(1), capture);
      let o = 0;
      for (const [name, v] of values) {
        if (!wrt.includes(name)) continue;
        const c = capture.get(name);
        if (c !== undefined) {
          const idx = broadcastIndex(v.shape, out.shape);
          for (let i = 0; i < m; i++) rows[i]![o + idx[i]!] = c[i]!;
        }
        o += v.data.length;
      }
      return { status: "ok", rows, structure: "elementwise" };
    }
    const seed = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      seed.fill(0);
      seed[i] = 1;
      const g = symbolicPullback(expr, values, fwd, seed);
      let o = 0;
      for (const [name, v] of values) {
        if (!wrt.includes(name)) continue;
        rows[i]!.set(g.get(name)!, o);
        o += v.data.length;
      }
    }
    return { status: "ok", rows, structure: "rows" };
  } catch (e) {
    return declined(e);
  }
}
