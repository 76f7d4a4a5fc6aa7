/**
 * What an expression's structure alone says about its derivatives (no derivative is taken here):
 * an expression of elementwise ops only has a Jacobian whose every row reads one element of each
 * variable (diagonal, or a column for a broadcast variable). The legs use it to need one pass per
 * variable instead of one per output element.
 */
import { type Expr, postOrder } from "./ast.ts";
import { BUILTIN_OPS, isBuiltinOp, isTensorOp, lookupCustomOp } from "./ops.ts";

/**
 * Whether every op of `expr` is elementwise (built-in elementwise ops and custom elementwise ops).
 *
 * @example
 * isElementwise(parse("sin(x)*y")); // true
 * isElementwise(parse("matmul(A, v)")); // false
 */
export function isElementwise(expr: Expr): boolean {
  for (const e of postOrder(expr)) {
    if (e.kind !== "call") continue;
    if (isBuiltinOp(e.op) ? BUILTIN_OPS[e.op].kind !== "elementwise" : !isCustomElementwise(e.op))
      return false;
  }
  return true;
}

function isCustomElementwise(op: string): boolean {
  const def = lookupCustomOp(op);
  return def !== undefined && !isTensorOp(def);
}
