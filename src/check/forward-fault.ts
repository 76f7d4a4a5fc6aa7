/**
 * A custom op whose forward gives NaN, or throws, where its arguments are finite and inside its
 * declared domain: the user's code is broken there, not the point out of the domain. `fuzz` fails
 * such an op in its sanity check; `check` convicts it too (exit 1), naming op, phase and point.
 */
import { userThrew } from "../errors.ts";
import { type Expr, postOrder } from "../expr/ast.ts";
import { broadcastAll, broadcastIndex } from "../expr/broadcast.ts";
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
 * The first custom op, innermost first, whose forward gives NaN or throws at finite arguments
 * inside its declared domain, as a sentence (`custom op 'f': its forward returned NaN at 2,
 * inside its declared domain [-5, 5]`; `… its forward threw at 2, inside …: the message`); null
 * when there is none. Run where `expr` has no value or is NaN at the point only: it calls each
 * custom op's forward again, element by element.
 *
 * @example
 * forwardFault(parse("f(x)*0 + x"), toValues({ x: 2 })); // "custom op 'f': its forward returned NaN at 2, …"
 */
export function forwardFault(expr: Expr, values: ReadonlyMap<string, Value>): string | null {
  for (const e of postOrder(expr)) {
    if (e.kind !== "call") continue;
    const def = lookupCustomOp(e.op);
    // A tensor op's NaN or throw never gets here: the engine refuses it (checkedTensorForward).
    if (def === undefined || isTensorOp(def)) continue;
    let args: Value[];
    let idx: Int32Array[];
    try {
      // An argument that cannot be evaluated: an inner op's fault, found first, or none.
      args = e.args.map((a) => evaluate(a, values));
      const shape = broadcastAll(
        args.map((a) => a.shape),
        def.name,
      );
      idx = args.map((a) => broadcastIndex(a.shape, shape));
    } catch {
      continue;
    }
    for (let k = 0; k < idx[0]!.length; k++) {
      const at = args.map((a, i) => a.data[idx[i]![k]!]!);
      if (!at.every((v, i) => insideDeclared(def, i, v))) continue;
      let threw = "";
      try {
        if (!Number.isNaN(def.forward(...at))) continue;
      } catch (err) {
        threw = `: ${userThrew(`${def.name}'s forward`, err)}`;
      }
      return `custom op '${def.name}': its forward ${threw ? "threw" : "returned NaN"} at ${at.length === 1 ? at[0] : `(${at.join(", ")})`}, inside ${domainText(def)}${threw}`;
    }
  }
  return null;
}
