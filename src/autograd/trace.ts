/**
 * Tracing: runs a TypeScript function over Tensors once and reads the expression back from the
 * `origin` every op-made tensor records. Input tensors become variables, 0-d constant tensors and
 * plain-number arguments become numbers, and a tensor used twice becomes one shared node.
 */
import { GradtrioError, userThrew } from "../errors.ts";
import { call, type Expr, exprEquals, num, variable, variablesOf } from "../expr/ast.ts";
import { arityOf, isConstant } from "../expr/ops.ts";
import type { Value } from "../expr/point.ts";
import { print } from "../expr/print.ts";
import { formatShape } from "../expr/shapes.ts";
import { recordOrigins } from "./grad-mode.ts";
import { Tensor, tensor } from "./tensor.ts";
import { setWarningHandler } from "./warnings.ts";

/**
 * Traces `fn` at the point `values` (one input tensor per name, in order) into an `Expr`.
 * Throws a GradtrioError when the result uses something the expression language cannot say: an
 * op outside it (`reshape`, `sum_dim`, …), a constant tensor that is not 0-d, a non-tensor result,
 * a number read from the inputs `vary` (default: all) and used as a constant (also parsed from
 * their text, which shows every value in full while tracing), or a function that gives
 * different results for the same input.
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
  vary: readonly string[] = names,
): Expr {
  if (typeof fn !== "function")
    throw new GradtrioError("INVALID_ARGUMENT", "trace: expected a function over tensors");
  for (const name of names) {
    if (values.get(name) === undefined)
      throw new GradtrioError("UNKNOWN_VARIABLE", `trace: no value for the input '${name}'`);
    if (isConstant(name) || arityOf(name) !== undefined)
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `trace: '${name}' is a reserved name, not a variable name`,
      );
  }
  swappedParameters(fn, names);
  const at = (name: string) => values.get(name)!.data;
  const expr = traceAt(fn, names, values, at);
  // A function that draws random numbers (or keeps state between calls) has no one gradient.
  const again = quietly(() => retrace(fn, names, values, at));
  if (again === null || !exprEquals(again, expr)) {
    const cause = callsMathRandom(() => retrace(fn, names, values, at))
      ? ": it calls Math.random(); draw the random numbers once, outside the function"
      : "; make it deterministic (random numbers, a clock or state kept between calls change it)";
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `trace: the function gives different results for the same input (${clip(print(expr))}, then ${again === null ? "it threw" : clip(print(again))}), so its gradient cannot be checked${cause}`,
    );
  }
  // As PyTorch's "element 0 of tensors does not require grad": a result no Tensor op connects
  // to any input would get gradient 0 from all three legs, a silent agreement.
  if (names.length > 0 && variablesOf(expr).length === 0)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      "trace: the function's result does not depend on its inputs through the Tensor API (.data, .item() and Number(...) leave the graph); compute it with Tensor ops",
    );
  // Stricter than PyTorch's TracerWarning: every leg differentiates the trace, in which a number
  // read from the inputs (x.mul(x.item())) is a constant, so all three would agree on a wrong value.
  const moved = movedTrace(fn, names, values, vary, expr);
  if (moved !== null)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `trace: the function uses a value read from its inputs as a number (.data, .item(), .toArray(), Number(...), detach(), or parsed from its text: String(x), \`\${x}\`, x.toString()): its trace changes with the point (${clip(print(expr))} here, ${clip(print(moved))} nearby), so every leg would take that number for a constant; compute it with Tensor ops (reading a value only to pick a branch is fine)`,
    );
  return expr;
}

/**
 * The names of `fn`'s parameters when its source text lists plain identifiers only (`(y, x) =>`,
 * `x =>`, `function f(a, b)`, a method `f(a, b) {`); else undefined (a default, a destructuring,
 * a rest parameter, a comment, native code). The text is read, never evaluated.
 */
export function parameterNames(fn: (...args: never[]) => unknown): string[] | undefined {
  const text = Function.prototype.toString.call(fn).replace(/^async\s+/, "");
  if (text.includes("[native code]")) return undefined;
  const single = /^([A-Za-z_$][\w$]*)\s*=>/.exec(text);
  if (single !== null) return [single[1]!];
  const list = /^(?:function\b\s*\*?\s*[\w$]*\s*|[\w$]+\s*)?\(([^()]*)\)/.exec(text);
  if (list === null) return undefined;
  const params = list[1]!.split(",").map((p) => p.trim());
  if (params.length === 1 && params[0] === "") return [];
  if (params.at(-1) === "") params.pop(); // a trailing comma
  return params.every((p) => /^[A-Za-z_$][\w$]*$/.test(p)) ? params : undefined;
}

/**
 * Arguments bind to the point's names by position (the i-th parameter gets the i-th name of
 * `at`, in the order written). A function whose parameters are those very names in another order
 * would be checked at a swapped point in silence: refused, naming both orders.
 */
function swappedParameters(fn: (...args: Tensor[]) => Tensor, names: readonly string[]): void {
  const params = parameterNames(fn);
  if (
    params === undefined ||
    params.length !== names.length ||
    params.every((p, i) => p === names[i]) ||
    new Set(params).size !== params.length ||
    !params.every((p) => names.includes(p))
  )
    return;
  throw new GradtrioError(
    "INVALID_ARGUMENT",
    `trace: the function's parameters (${params.join(", ")}) are the point's names in another order (${names.join(", ")}); arguments bind by position, the i-th parameter to the i-th name of at: give at in the parameters' order, { ${params.join(", ")} }`,
  );
}

/** One trace of `fn`, its inputs' elements given by `data`. */
function traceAt(
  fn: (...args: Tensor[]) => Tensor,
  names: readonly string[],
  values: ReadonlyMap<string, Value>,
  data: (name: string) => Float64Array,
): Expr {
  const exprs = new Map<Tensor, Expr>();
  const inputs = names.map((name) => {
    const t = tensor(Float64Array.from(data(name)), { shape: values.get(name)!.shape });
    exprs.set(t, variable(name));
    return t;
  });
  let out: unknown;
  try {
    out = recordOrigins(() => fn(...inputs));
  } catch (e) {
    if (e instanceof GradtrioError) throw e;
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      // The user's stack on stderr with GRADTRIO_DEBUG=1 (once per function name).
      `trace: the function threw: ${userThrew(`the traced function ${fn.name || "(anonymous)"}`, e)}`,
    );
  }
  if (typeof out !== "number" && !(out instanceof Tensor))
    throw new GradtrioError("INVALID_ARGUMENT", "trace: the function must return a Tensor");
  return typeof out === "number" ? num(out) : toExpr(out, exprs);
}

/**
 * The trace with the inputs `vary` moved slightly off the point (every element), when it differs
 * from `expr` on both sides; else null. A value read only to pick a branch leaves the trace as it
 * is near the point (on one side at least, at a breakpoint); a value used as a number does not.
 */
function movedTrace(
  fn: (...args: Tensor[]) => Tensor,
  names: readonly string[],
  values: ReadonlyMap<string, Value>,
  vary: readonly string[],
  expr: Expr,
): Expr | null {
  if (vary.length === 0) return null;
  let moved: Expr | null = null;
  for (const side of [-1, 1]) {
    // About 2^-20 relative: far above rounding, far below the distance to any branch but a tie.
    const data = (name: string) => {
      const d = values.get(name)!.data;
      return vary.includes(name) ? d.map((x) => x + side * (Math.abs(x) * 2 ** -20 + 2 ** -40)) : d;
    };
    // null: the function fails off the point, nothing to compare
    const e = quietly(() => retrace(fn, names, values, data));
    if (e === null || exprEquals(e, expr)) return null;
    moved = e;
  }
  return moved;
}

/** Another trace, after the first: null when the function throws. */
function retrace(
  fn: (...args: Tensor[]) => Tensor,
  names: readonly string[],
  values: ReadonlyMap<string, Value>,
  data: (name: string) => Float64Array,
): Expr | null {
  try {
    return traceAt(fn, names, values, data);
  } catch {
    return null;
  }
}

/** Runs `f` without warnings: the first trace warned once already. */
function quietly<T>(f: () => T): T {
  const previous = setWarningHandler(() => {});
  try {
    return f();
  } finally {
    setWarningHandler(previous);
  }
}

/**
 * Whether `f` calls Math.random (wrapped while `f` runs, synchronously), to name the cause of
 * a function that is not deterministic only when it is certain.
 */
function callsMathRandom(f: () => unknown): boolean {
  const random = Math.random;
  let called = false;
  Math.random = () => {
    called = true;
    return random();
  };
  try {
    quietly(f);
  } finally {
    Math.random = random;
  }
  return called;
}

const clip = (s: string): string => (s.length <= 60 ? s : `${s.slice(0, 57)}...`);

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
