/**
 * Kinks from evidence. A piecewise op on its breakpoint (relu at 0, clamp with coinciding
 * bounds) is where the chain rule takes a convention; whether the *function* has a kink there is
 * decided by the numeric leg's one-sided derivatives, each certified by its own step sequences:
 * `abs(x)` at 0 has one (left −1, right 1), `relu(x)·x` has none (both sides 0). An oscillating
 * smooth function is no kink, whatever its one-sided slopes at aliased steps.
 */
import { type Expr, postOrder } from "../expr/ast.ts";
import { branchesOf, isBuiltinOp } from "../expr/ops.ts";
import type { Value } from "../expr/point.ts";
import type { Kink } from "../numeric/types.ts";

const fmt = (x: number): string => String(Number(x.toPrecision(12)));

const PYTORCH = "PyTorch's convention";

/**
 * Whose value autograd takes at a breakpoint of `expr`: PyTorch's convention for piecewise
 * built-ins, the user's own backward for custom ops (it is theirs that picks a value there).
 *
 * @example
 * convention(parse("abs(x)")); // "PyTorch's convention"
 * convention(parse("myAbs(x)")); // "the value your backward of 'myAbs' picks there"
 */
export function convention(expr: Expr): string {
  const custom = new Set<string>();
  const piecewise = new Set<string>();
  for (const n of postOrder(expr)) {
    if (n.kind !== "call") continue;
    if (!isBuiltinOp(n.op)) custom.add(n.op);
    else if (branchesOf(n.op) !== undefined || n.op === "max" || n.op === "min")
      piecewise.add(n.op);
  }
  if (custom.size === 0) return PYTORCH;
  const yours = `your backward of ${[...custom].map((o) => `'${o}'`).join(", ")}`;
  return piecewise.size === 0
    ? `the value ${yours} picks there`
    : `the value the backward rules pick there (${PYTORCH} for ${[...piecewise].join(", ")}, ${yours})`;
}

/** autograd's value of the flat element `coordinate` (the variables concatenated in order). */
export function gradientElement(
  grads: ReadonlyMap<string, Float64Array> | null,
  values: ReadonlyMap<string, Value>,
  coordinate: number,
): number | null {
  if (grads === null) return null;
  let o = 0;
  for (const [name, v] of values) {
    const n = v.data.length;
    if (coordinate < o + n) return grads.get(name)?.[coordinate - o] ?? null;
    o += n;
  }
  return null;
}

/**
 * The reason of an inconclusive verdict at a kink: per element the one-sided derivatives, the
 * subgradient interval between them, and autograd's value there (whose: `rule`, see `convention`),
 * plus the breakpoint the CAS or the complex step saw. `of`: what is not differentiable (the
 * function; for a Hessian, the gradient).
 *
 * @example
 * kinkReason([{ coordinate: 0, label: "x", left: -1, right: 1, leftError: 0, rightError: 0 }],
 *   () => 0, "abs at 0");
 * // "kink: the function is not differentiable here (x: left derivative -1, right derivative 1;
 * //  autograd gives 0, PyTorch's convention, inside the subgradient interval [-1, 1]; abs at 0)"
 */
export function kinkReason<K extends Kink>(
  kinks: readonly K[],
  autograd: (k: K) => number | null,
  breakpoint: string | null,
  of = "the function",
  rule = PYTORCH,
): string {
  const parts = kinks.map((k) => {
    const lo = Math.min(k.left, k.right);
    const hi = Math.max(k.left, k.right);
    const a = autograd(k);
    const slack = k.leftError + k.rightError;
    const convention =
      a === null
        ? ""
        : `; autograd gives ${fmt(a)}, ${rule}, ${
            a >= lo - slack && a <= hi + slack ? "inside" : "outside"
          } the subgradient interval [${fmt(lo)}, ${fmt(hi)}]`;
    return `${k.label ?? `coordinate ${k.coordinate}`}: left derivative ${fmt(k.left)}, right derivative ${fmt(k.right)}${convention}`;
  });
  if (breakpoint !== null) parts.push(breakpoint);
  return `kink: ${of} is not differentiable here (${parts.join("; ")})`;
}

/**
 * The reason of an inconclusive verdict where the legs disagree at a breakpoint the function may
 * well be differentiable at: autograd's chain rule uses the op's convention value there (`rule`:
 * PyTorch's, or a custom op's backward), which need not be the function's derivative
 * (`clamp(c, y, y)` is y, autograd gives 0).
 */
export function breakpointReason(
  breakpoint: string,
  disagreement: string | null,
  rule = PYTORCH,
): string {
  return `a piecewise op sits on its breakpoint (${breakpoint}): autograd uses ${rule === PYTORCH ? `${PYTORCH} there` : rule}, which need not be the derivative of the function${disagreement === null ? "" : ` (${disagreement})`}`;
}
