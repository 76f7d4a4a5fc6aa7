/**
 * A custom op whose forward gives NaN where its arguments are finite and inside its declared
 * domain: the user's code is broken there, not the point out of the domain. `fuzz` fails such an
 * op in its sanity check; `check` convicts it too (exit 1), naming op, phase and point.
 */
import { type Expr, postOrder } from "../expr/ast.ts";
import { broadcastIndex } from "../expr/broadcast.ts";
import {
  type CustomOpDefinition,
  type Interval,
  insideDeclared,
  isTensorOp,
  lookupCustomOp,
} from "../expr/ops.ts";
import type { Value } from "../expr/point.ts";
import { evaluate } from "../numeric/evaluate.ts";

const interval = ([lo, hi]: Interval) => `[${lo}, ${hi}]`;

/** Where the op may be called: "its declared domain [-5, 5]", or the whole line. */
function domainText(def: CustomOpDefinition): string {
  return def.domain === undefined
    ? "its domain (it declares none: the whole line)"
    : `its declared domain ${def.domain.map(interval).join(" × ")}`;
}

/**
 * The first custom op, innermost first, whose forward gives NaN at finite arguments inside its
 * declared domain, as a sentence (`custom op 'f': its forward returned NaN at 2, inside its
 * declared domain [-5, 5]`); null when there is none. Run where `expr` is NaN at the point only:
 * it evaluates each custom op's arguments again.
 *
 * @example
 * forwardNaN(parse("f(x)*0 + x"), toValues({ x: 2 })); // "custom op 'f': its forward returned NaN at 2, …"
 */
export function forwardNaN(expr: Expr, values: ReadonlyMap<string, Value>): string | null {
  for (const e of postOrder(expr)) {
    if (e.kind !== "call") continue;
    const def = lookupCustomOp(e.op);
    // A tensor op's NaN never gets here: the engine refuses it (OpResultError, tensor-op.ts).
    if (def === undefined || isTensorOp(def)) continue;
    let args: Value[];
    let out: Value;
    try {
      args = e.args.map((a) => evaluate(a, values));
      out = evaluate(e, values);
    } catch {
      continue; // a forward that throws is reported by the legs themselves
    }
    const k = out.data.findIndex(Number.isNaN);
    if (k < 0) continue;
    const at = args.map((a) => a.data[broadcastIndex(a.shape, out.shape)[k]!]!);
    if (at.every((v, i) => insideDeclared(def, i, v)))
      return `custom op '${def.name}': its forward returned NaN at ${at.length === 1 ? at[0] : `(${at.join(", ")})`}, inside ${domainText(def)}`;
  }
  return null;
}
