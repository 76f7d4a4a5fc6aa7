/**
 * Tracing: runs a TypeScript function over Tensors once and reads the expression back from the
 * `origin` every op-made tensor records. Input tensors become variables, 0-d constant tensors and
 * plain-number arguments become numbers, and a tensor used twice becomes one shared node.
 */
import { GradtrioError } from "../errors.ts";
import { call, type Expr, num, variable, variablesOf } from "../expr/ast.ts";
import { arityOf, isConstant } from "../expr/ops.ts";
import type { Value } from "../expr/point.ts";
import { formatShape } from "../expr/shapes.ts";
import { recordOrigins, setTracedReads } from "./grad-mode.ts";
import { Tensor, tensor } from "./tensor.ts";
import { warn } from "./warnings.ts";

/**
 * Traces `fn` at the point `values` (one input tensor per name, in order) into an `Expr`.
 * Throws a GradtrioError when the result uses something the expression language cannot say: an
 * op outside it (`reshape`, `sum_dim`, …), a constant tensor that is not 0-d, a non-tensor result.
 *
 * @example
 * ```ts
 * const e = trace((x) => x.pow(2).sin(), ["x"], toValues({ x: 3 }));
 * print(e); // "sin(x^2)"
 * ```
 */
export function trace(
  fn: (...args: Tensor[]) => Tensor,
  names: readonly string[],
  values: ReadonlyMap<string, Value>,
): Expr {
  if (typeof fn !== "function")
    throw new GradtrioError("INVALID_ARGUMENT", "trace: expected a function over tensors");
  const exprs = new Map<Tensor, Expr>();
  const inputs = names.map((name) => {
    const v = values.get(name);
    if (v === undefined)
      throw new GradtrioError("UNKNOWN_VARIABLE", `trace: no value for the input '${name}'`);
    if (isConstant(name) || arityOf(name) !== undefined)
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `trace: '${name}' is a reserved name, not a variable name`,
      );
    const t = tensor(Float64Array.from(v.data), { shape: v.shape });
    exprs.set(t, variable(name));
    return t;
  });
  let out: unknown;
  const reads = new Set<object>();
  const previous = setTracedReads(reads);
  try {
    out = recordOrigins(() => fn(...inputs));
  } catch (e) {
    if (e instanceof GradtrioError) throw e;
    throw new GradtrioError("INVALID_ARGUMENT", `trace: the function threw: ${describeError(e)}`);
  } finally {
    setTracedReads(previous);
  }
  if (typeof out !== "number" && !(out instanceof Tensor))
    throw new GradtrioError("INVALID_ARGUMENT", "trace: the function must return a Tensor");
  const expr = typeof out === "number" ? num(out) : toExpr(out, exprs);
  // As PyTorch's "element 0 of tensors does not require grad": a result no Tensor op connects
  // to any input would get gradient 0 from all three legs, a silent agreement.
  if (names.length > 0 && variablesOf(expr).length === 0)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      "trace: the function's result does not depend on its inputs through the Tensor API (.data, .item() and Number(...) leave the graph); compute it with Tensor ops",
    );
  // As PyTorch's TracerWarning: a number read from the inputs is a constant to every leg.
  const read = [...reads].find((t) => t instanceof Tensor && reaches(t, inputs));
  if (read !== undefined)
    warn(
      `trace: the function read .item() (${(read as Tensor).data[0]}) of a tensor computed from its inputs; the trace keeps that number as a constant, so no leg differentiates through it: keep the computation in Tensor ops (fine where it only picks a branch)`,
    );
  return expr;
}

/** Whether `t` was computed from one of `inputs` (through the origins ops recorded). */
function reaches(t: Tensor, inputs: readonly Tensor[]): boolean {
  const seen = new Set<Tensor>();
  const stack = [t];
  while (stack.length > 0) {
    const u = stack.pop()!;
    if (inputs.includes(u)) return true;
    if (seen.has(u)) continue;
    seen.add(u);
    for (const a of u.origin?.args ?? []) if (typeof a !== "number") stack.push(a);
  }
  return false;
}

/** Children first, with an explicit stack: a traced chain 10^5 ops long must not overflow. */
function toExpr(root: Tensor, exprs: Map<Tensor, Expr>): Expr {
  const stack: Tensor[] = [root];
  while (stack.length > 0) {
    const t = stack[stack.length - 1]!;
    if (exprs.has(t)) {
      stack.pop();
      continue;
    }
    const origin = t.origin;
    if (origin === null) {
      exprs.set(t, constantOf(t));
      stack.pop();
      continue;
    }
    // Check the op before its arguments: an op outside the language may carry anything.
    const arity = arityOf(origin.op);
    if (arity === undefined)
      throw new GradtrioError(
        "UNKNOWN_FUNCTION",
        `trace: the function uses '${origin.op}', which the expression language does not have`,
      );
    if (origin.args.length !== arity)
      throw new GradtrioError(
        "ARITY",
        `trace: '${origin.op}' was recorded with ${origin.args.length} argument(s); the expression language's takes ${arity}`,
      );
    const before = stack.length;
    for (const a of origin.args) if (typeof a !== "number" && !exprs.has(a)) stack.push(a);
    if (stack.length > before) continue;
    stack.pop();
    exprs.set(
      t,
      call(
        origin.op,
        origin.args.map((a) => (typeof a === "number" ? num(a) : exprs.get(a)!)),
      ),
    );
  }
  return exprs.get(root)!;
}

/** A tensor no op made and no input is: a constant, expressible only as a 0-d number. */
function constantOf(t: Tensor): Expr {
  if (t.shape.length === 0) return num(t.data[0]!);
  throw new GradtrioError(
    "INVALID_ARGUMENT",
    `trace: a constant tensor of shape ${formatShape(t.shape)} cannot appear in an expression (only 0-d constants can); pass it as an input`,
  );
}

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
