/**
 * fast-check arbitraries for gradient properties: random expressions that mix custom ops with
 * built-ins and keep every custom-op argument inside its declared domain *by construction*
 * (variables range over [-1, 1]; a leaf maps a variable affinely into the argument's interval;
 * a nested call is squashed into it with sin/softplus), and points to evaluate them at.
 */
import fc from "fast-check";
import { GradtrioError, isIntegerIn } from "../errors.ts";
import { call, type Expr, num, variable, variablesOf } from "../expr/ast.ts";
import {
  BUILTIN_OPS,
  type BuiltinOp,
  type CustomOpDefinition,
  type Interval,
  isTensorOp,
  type OpSpec,
} from "../expr/ops.ts";
import type { NestedArray, Point } from "../expr/point.ts";
import { argDomain, fitInto, leafInto, REAL } from "./domain.ts";
import { MAX_DEPTH } from "./limits.ts";
import { type OpLike, resolveOp } from "./op-like.ts";
import { tensorCaseArbitrary } from "./tensor.ts";

export interface ExprArbitraryOptions {
  /** The custom ops to exercise (ops made with `defineOp`, their definitions, or their names). */
  readonly ops: readonly OpLike[];
  /** Variable names; each takes values in [-1, 1]. Default `["x", "y", "z"]`. */
  readonly variables?: readonly string[];
  /** The deepest nesting of calls around and inside the ops (default 3, at least 1). */
  readonly maxDepth?: number;
  /** Mix in built-ins (`sin`, `tanh`, `*`, …) around and inside the ops. Default true. */
  readonly builtins?: boolean;
}

export const DEFAULT_VARIABLES: readonly string[] = ["x", "y", "z"];
export const DEFAULT_MAX_DEPTH = 3;

/** A call of the unary built-in `op` with `e` squashed into the op's declared domain (ops.ts). */
const builtin =
  (op: BuiltinOp) =>
  (e: Expr): Expr => {
    const spec: OpSpec = BUILTIN_OPS[op];
    return call(op, [fitInto(spec.domain?.[0] ?? REAL, e)]);
  };

/**
 * Built-ins wrapped around a real-valued subexpression; each keeps its argument in its domain.
 * No tanh or sigmoid: saturated, their float derivative (1 - t², s(1 - s)) cancels to 0 while
 * the exact one is 1e-15, a difference no op under test is to blame for. The reductions (max,
 * min, logsumexp) see one element here: the fuzz variables are scalars.
 */
const UNARY: Readonly<Record<string, (e: Expr) => Expr>> = {
  sin: builtin("sin"),
  neg: builtin("neg"),
  square: (e) => call("pow", [e, num(2)]),
  cos: builtin("cos"),
  softplus: builtin("softplus"),
  log: builtin("log"),
  scale: (e) => call("mul", [num(2.5), e]),
  erf: builtin("erf"),
  gelu: builtin("gelu"),
  asin: builtin("asin"),
  acos: builtin("acos"),
  atan: builtin("atan"),
  sinh: builtin("sinh"),
  cosh: builtin("cosh"),
  expm1: builtin("expm1"),
  max: builtin("max"),
  min: builtin("min"),
  logsumexp: builtin("logsumexp"),
};
const UNARY_NAMES = Object.keys(UNARY);
/** Binary built-ins; maximum and minimum tie (a kink, inconclusive) only by accident. */
const BINARY = ["mul", "add", "sub", "maximum", "minimum"] as const;

const isReal = (iv: Interval) => !Number.isFinite(iv[0]) && !Number.isFinite(iv[1]);

/** `4*sin(e/4)`: about e for small e, never beyond ±4 (and, unlike tanh, never saturated). */
const withinReach = (e: Expr): Expr =>
  call("mul", [num(4), call("sin", [call("div", [e, num(4)])])]);

interface Resolved {
  readonly defs: readonly CustomOpDefinition[];
  readonly variables: readonly string[];
  readonly maxDepth: number;
  readonly builtins: boolean;
}

function resolveOptions(options: ExprArbitraryOptions): Resolved {
  if (!Array.isArray(options?.ops) || options.ops.length === 0)
    throw new GradtrioError("INVALID_ARGUMENT", "exprArbitrary: give at least one op in `ops`");
  const variables = options.variables ?? DEFAULT_VARIABLES;
  if (variables.length === 0)
    throw new GradtrioError("INVALID_ARGUMENT", "exprArbitrary: give at least one variable");
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!isIntegerIn(maxDepth, 1, MAX_DEPTH))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `maxDepth must be an integer from 1 to ${MAX_DEPTH}, got ${maxDepth}`,
    );
  // Tensor ops have expressions of their own (tensorCaseArbitrary): these are over numbers.
  const defs = [...new Set(options.ops.map(resolveOp))].filter(
    (d): d is CustomOpDefinition => !isTensorOp(d),
  );
  return { defs, variables, maxDepth, builtins: options.builtins ?? true };
}

/** Generators of domain-respecting subexpressions, memoised by (interval, depth). */
class Grammar {
  private readonly memo = new Map<string, fc.Arbitrary<Expr>>();
  private readonly variable: fc.Arbitrary<Expr>;

  constructor(private readonly r: Resolved) {
    this.variable = fc.constantFrom(...r.variables).map((n) => variable(n));
  }

  /** A variable mapped into `target` (on the real line: `x`, or `4*x` to reach past ±1). */
  leaf(target: Interval): fc.Arbitrary<Expr> {
    return fc.tuple(this.variable, fc.boolean()).map(([v, wide]) => leafInto(target, v, wide));
  }

  /** A call of `def` whose arguments are subexpressions of depth < `depth` inside its domain. */
  call(def: CustomOpDefinition, depth: number): fc.Arbitrary<Expr> {
    const args = Array.from({ length: def.arity }, (_, i) =>
      this.expr(argDomain(def, i), depth - 1),
    );
    return fc.tuple(...args).map((a) => call(def.name, a) as Expr);
  }

  /** Any subexpression of depth ≤ `depth` whose value always lies in `target`. */
  expr(target: Interval, depth: number): fc.Arbitrary<Expr> {
    const key = `${target[0]}:${target[1]}:${depth}`;
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    let arb: fc.Arbitrary<Expr>;
    if (depth <= 0) arb = this.leaf(target);
    else {
      const squash = (a: fc.Arbitrary<Expr>) => a.map((e) => fitInto(target, e));
      // Built-in compositions ((4x·4y)² = 256) would push ops far past their working range, where
      // a correct `out*(1 - out)` loses its digits to cancellation: keep them within ±4.
      const squashBuiltin = (a: fc.Arbitrary<Expr>) =>
        a.map((e) => fitInto(target, isReal(target) ? withinReach(e) : e));
      const choices: fc.WeightedArbitrary<Expr>[] = [
        { arbitrary: this.leaf(target), weight: 3 },
        ...this.r.defs.map((d) => ({ arbitrary: squash(this.call(d, depth)), weight: 2 })),
      ];
      if (this.r.builtins) {
        const sub = this.expr(REAL, depth - 1);
        choices.push(
          {
            arbitrary: squashBuiltin(
              fc.tuple(fc.constantFrom(...UNARY_NAMES), sub).map(([w, e]) => UNARY[w]!(e)),
            ),
            weight: 1,
          },
          {
            arbitrary: squashBuiltin(
              fc
                .tuple(fc.constantFrom(...BINARY), sub, this.expr(REAL, depth - 1))
                .map(([op, a, b]) => call(op, [a, b]) as Expr),
            ),
            weight: 1,
          },
        );
      }
      arb = fc.oneof({ withCrossShrink: true }, ...choices);
    }
    this.memo.set(key, arb);
    return arb;
  }

  /**
   * Expressions that contain a call of `focus`, at the root (incoming gradient 1) or inside a
   * built-in or a custom op (incoming gradient ≠ 1), each of its arguments depending on a variable.
   */
  around(focus: CustomOpDefinition): fc.Arbitrary<Expr> {
    const d = this.r.maxDepth;
    const core = this.call(focus, d);
    const choices: fc.WeightedArbitrary<Expr>[] = [{ arbitrary: core, weight: 2 }];
    if (this.r.builtins)
      choices.push(
        {
          arbitrary: fc.tuple(fc.constantFrom(...UNARY_NAMES), core).map(([w, e]) => UNARY[w]!(e)),
          weight: 2,
        },
        {
          arbitrary: fc
            .tuple(fc.constantFrom(...BINARY), core, this.expr(REAL, d - 2))
            .map(([op, a, b]) => call(op, [a, b]) as Expr),
          weight: 1,
        },
      );
    // Inside each op (the focus itself included), in each argument slot.
    for (const outer of this.r.defs)
      for (let slot = 0; slot < outer.arity; slot++) {
        const others = Array.from({ length: outer.arity }, (_, i) =>
          i === slot
            ? core.map((e) => fitInto(argDomain(outer, slot), e))
            : this.expr(argDomain(outer, i), d - 2),
        );
        choices.push({
          arbitrary: fc.tuple(...others).map((a) => call(outer.name, a) as Expr),
          weight: 1,
        });
      }
    return fc.oneof({ withCrossShrink: true }, ...choices);
  }
}

/**
 * Random expressions over custom ops and built-ins, every custom-op argument inside the op's
 * declared `domain` for every point whose variables lie in [-1, 1] (use `unitPointArbitrary`).
 * The root is a call of one of the ops; calls nest up to `maxDepth`.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { check } from "gradtrio";
 * import { exprArbitrary, unitPointArbitrary } from "gradtrio/fuzz";
 * fc.assert(fc.property(exprArbitrary({ ops: [mySquare] }), unitPointArbitrary(["x", "y", "z"]),
 *   (e, at) => check(e, { at }).verdict !== "disagree"));
 * ```
 * @remarks Shrinking goes towards leaves (`x`) and towards the first built-ins (`sin`).
 */
export function exprArbitrary(options: ExprArbitraryOptions): fc.Arbitrary<Expr> {
  const r = resolveOptions(options);
  const g = new Grammar(r);
  return fc.oneof(...r.defs.map((d) => g.call(d, r.maxDepth)));
}

/**
 * Expressions that each contain the op `focus` — at the root, inside a built-in, or inside a
 * custom op (so the gradient flowing into it is not 1) — with arguments inside its domain.
 *
 * @example
 * ```ts
 * fc.sample(opExprArbitrary({ ops: [cube, hypot], focus: cube }), 2);
 * // e.g. [cube(x), sin(cube(hypot(x, 4*y)))]
 * ```
 */
export function opExprArbitrary(
  options: ExprArbitraryOptions & { readonly focus: OpLike },
): fc.Arbitrary<Expr> {
  const r = resolveOptions(options);
  const focus = resolveOp(options.focus);
  if (isTensorOp(focus))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `'${focus.name}' is a tensor op: fuzzCaseArbitrary composes it at shapes that fit its rule`,
    );
  const defs = r.defs.includes(focus) ? r.defs : [...r.defs, focus];
  return new Grammar({ ...r, defs }).around(focus);
}

/**
 * Points with every variable on a grid of step 0.001 in [-1, 1] (readable, shrinks towards 0.5).
 *
 * @example
 * ```ts
 * fc.sample(unitPointArbitrary(["x", "y"]), 1); // e.g. [{ x: 0.25, y: -0.731 }]
 * ```
 */
export function unitPointArbitrary(variables: readonly string[]): fc.Arbitrary<Point> {
  // Shrinks towards 0.5, not 0: at 0 many gradients vanish and a shrunk case would be all 1e-24s.
  const coord = fc.integer({ min: -1500, max: 500 }).map((k) => (k + 500) / 1000);
  return fc.record(Object.fromEntries(variables.map((v) => [v, coord]))) as fc.Arbitrary<Point>;
}

/** An expression and a point holding exactly its variables. */
export interface FuzzCase {
  readonly expr: Expr;
  readonly at: Point;
}

/**
 * Cases for fuzzing one op: `opExprArbitrary` with a point (only the variables it uses); for a
 * tensor op, `tensorCaseArbitrary` (expressions at shapes its rule accepts).
 *
 * @example
 * ```ts
 * fc.assert(fc.property(fuzzCaseArbitrary({ ops: [cube], focus: cube }), ({ expr, at }) =>
 *   check(expr, { at }).verdict !== "disagree"));
 * ```
 */
export function fuzzCaseArbitrary(
  options: ExprArbitraryOptions & { readonly focus: OpLike },
): fc.Arbitrary<FuzzCase> {
  const focus = resolveOp(options.focus);
  if (isTensorOp(focus)) return tensorCaseArbitrary(focus);
  const variables = options.variables ?? DEFAULT_VARIABLES;
  return fc.tuple(opExprArbitrary(options), unitPointArbitrary(variables)).map(([expr, p]) => {
    const at: Point = {};
    for (const v of variablesOf(expr)) at[v] = p[v]!;
    return { expr, at };
  });
}

/** Per variable: its shape (default scalar) and the open interval its elements lie in. */
export type PointDomain = Readonly<
  Record<
    string,
    { readonly shape?: readonly number[]; readonly interval: readonly [number, number] }
  >
>;

/**
 * Random points in a box: each element of each variable uniform in its open interval (shrinking
 * towards the interval's middle).
 *
 * @example
 * ```ts
 * fc.sample(pointArbitrary({ x: { interval: [0, 1] }, w: { shape: [2], interval: [-1, 1] } }), 1);
 * // e.g. [{ x: 0.31, w: [-0.5, 0.92] }]
 * ```
 */
export function pointArbitrary(domain: PointDomain): fc.Arbitrary<Point> {
  const fields: Record<string, fc.Arbitrary<NestedArray>> = {};
  for (const [name, spec] of Object.entries(domain)) {
    const [min, max] = spec.interval;
    if (!(Number.isFinite(min) && Number.isFinite(max) && min < max))
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `${name}.interval must be [lo, hi] with finite lo < hi, got [${min}, ${max}]`,
      );
    // Uniform in the open interval, shrinking towards its middle. Not fc.double: its bias towards
    // special values (subnormals, ±0, the ends) makes points no gradient suite cares about.
    const mid = (min + max) / 2;
    const half = ((max - min) / 2) * (1 - 2 ** -40);
    let a: fc.Arbitrary<NestedArray> = fc
      .integer({ min: -(2 ** 30), max: 2 ** 30 })
      .map((k) => mid + (half * k) / 2 ** 30 + 0);
    const shape = spec.shape ?? [];
    for (let d = shape.length - 1; d >= 0; d--) {
      const n = shape[d]!;
      if (!(Number.isInteger(n) && n >= 1))
        throw new GradtrioError(
          "INVALID_ARGUMENT",
          `${name}.shape must hold positive integers, got [${shape.join(", ")}]`,
        );
      a = fc.array(a, { minLength: n, maxLength: n });
    }
    fields[name] = a;
  }
  return fc.record(fields) as fc.Arbitrary<Point>;
}
