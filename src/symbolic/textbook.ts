/**
 * Ops that the CAS templates cannot cross, in their textbook form over ops they can: the softmax
 * of a vector as exp(a)/sum(exp(a)), logsumexp(a) as log(sum(exp(a))). The CAS differentiates
 * the textbook form, so the symbolic leg still shares no derivative rule with autograd. (It
 * evaluates without the max-shift: where exp overflows, the leg says the formula overflows.)
 */
import { type CallExpr, call, type Expr, postOrder } from "../expr/ast.ts";
import type { Value } from "../expr/point.ts";
import { forwardValues } from "./forward.ts";

const REWRITTEN = new Set(["softmax", "logsumexp"]);
const memo = new WeakMap<Expr, Map<string, Expr>>();

/**
 * `expr` with every softmax of a vector and every logsumexp in textbook form (the same object
 * when there is none), memoized per expression and shapes: the leg's plans are kept per `Expr`.
 *
 * @example
 * print(textbookForm(parse("softmax(x)"), toValues({ x: [1, 2] }))); // "exp(x)/sum(exp(x))"
 */
export function textbookForm(expr: Expr, values: ReadonlyMap<string, Value>): Expr {
  const nodes = postOrder(expr);
  if (!nodes.some((e) => e.kind === "call" && REWRITTEN.has(e.op))) return expr;
  let shapes = "";
  for (const [name, v] of values) shapes += `${name}:${v.shape.join(",")};`;
  let byShapes = memo.get(expr);
  const hit = byShapes?.get(shapes);
  if (hit !== undefined) return hit;
  const fwd = nodes.some((e) => e.kind === "call" && e.op === "softmax")
    ? forwardValues(expr, values)
    : null;
  const done = new Map<Expr, Expr>();
  for (const e of nodes) {
    if (e.kind !== "call") {
      done.set(e, e);
      continue;
    }
    const args = e.args.map((a) => done.get(a)!);
    const same = args.every((a, i) => a === e.args[i]);
    let out: Expr = same ? e : ({ ...e, args } as CallExpr);
    if (e.op === "logsumexp") out = call("log", [call("sum", [call("exp", args)])], e.pos);
    // Over the last dimension: a vector's is the whole sum (a matrix's rows stay as they are).
    else if (e.op === "softmax" && fwd!.get(e.args[0]!)!.shape.length <= 1) {
      const ea = call("exp", args);
      out = call("div", [ea, call("sum", [ea])], e.pos);
    }
    done.set(e, out);
  }
  const out = done.get(expr)!;
  if (byShapes === undefined) memo.set(expr, (byShapes = new Map()));
  if (byShapes.size > 64) byShapes.clear();
  byShapes.set(shapes, out);
  return out;
}
