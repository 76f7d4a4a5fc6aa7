/**
 * `check`: one function, three gradients, one verdict. The legs run independently; a leg that
 * throws or gives up is part of the report, never a crash. Tolerances come from error estimates:
 * the finite-difference estimate for the numeric leg, a first-order rounding bound for the exact
 * legs (src/check/rounding.ts).
 */
import type { DType } from "../autograd/float32.ts";
import { autogradLeg } from "../autograd/leg.ts";
import type { Tensor } from "../autograd/tensor.ts";
import { trace } from "../autograd/trace.ts";
import {
  checkOptionNames,
  GradtrioError,
  isGradtrioError,
  isIntegerIn,
  OpResultError,
} from "../errors.ts";
import type { Expr } from "../expr/ast.ts";
import { ExprMemo } from "../expr/memo.ts";
import { type Program, parseProgram } from "../expr/parse.ts";
import {
  elementLabel,
  fromValue,
  type NestedArray,
  type Point,
  sizeOf,
  toValues,
  type Value,
} from "../expr/point.ts";
import { print } from "../expr/print.ts";
import { checkScalarOutput, inferShapes, type Shape } from "../expr/shapes.ts";
import { FAST_MODE_THRESHOLD, type NumericLegResult, startNumericLeg } from "../numeric/leg.ts";
import { NUMERIC_METHODS, type NumericMethod } from "../numeric/types.ts";
import { sharingForward } from "../symbolic/forward.ts";
import { symbolicLeg, symbolicRounding } from "../symbolic/leg.ts";
import {
  FLOAT32_NOTE,
  FLOAT32_SCALE,
  FLOAT32_TINY,
  float32Range,
  float32Underflow,
  toFloat32,
  validateDtype,
  withFloat32Bound,
} from "./dtype.ts";
import { forwardFault } from "./forward-fault.ts";
import { type HessianLegs, hessianComparisons, hessianLegs } from "./hessian.ts";
import { checkJacobian } from "./jacobian.ts";
import { breakpointReason, convention, gradientElement, kinkReason } from "./kinks.ts";
import { wrtIndices } from "./matrix.ts";
import { asideNote, noVote, symbolicAside } from "./op-formulas.ts";
import { referenceOutvoted } from "./outcome.ts";
import type { InputGradients, LegFailure, LegReport, Report } from "./report.ts";
import {
  EXTREME_LARGE,
  EXTREME_SMALL_32,
  type FlatOp,
  type Overflow,
  type RoundingAnalysis,
  roundingAnalysis,
} from "./rounding.ts";
import {
  allPairsAgree,
  type Comparison,
  comparisonProbe,
  DEFAULT_TOLERANCE,
  finiteMagnitude,
  judge,
  LEGS,
  type LegName,
  NUMERIC_SAFETY,
  pairAgrees,
  pairTolerance,
  type Tolerance,
} from "./verdict.ts";
import { checkBoundNotGiven, wrtNames } from "./wrt.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export { NUMERIC_METHODS, type NumericMethod };

/** What can be checked: expression text, a parsed `Expr`, or a TypeScript function over Tensors. */
export type Subject = string | Expr | ((...args: Tensor[]) => Tensor);

export interface CheckOptions {
  /** The point: NAME → number or (nested) array. For a function subject, its arguments in order. */
  readonly at: Point;
  readonly rtol?: number;
  readonly atol?: number;
  readonly method?: NumericMethod;
  /** Seed for the random direction of fast mode. */
  readonly seed?: number;
  /** Differentiate with respect to these inputs only; the others are constants (data). */
  readonly wrt?: readonly string[];
  /** "float32": autograd and the value in float32 at the point rounded to float32 (src/check/dtype.ts). */
  readonly dtype?: DType;
  /** 2: check the Hessian too (a scalar output only). */
  readonly order?: 1 | 2;
  /**
   * Called as each leg finishes, before the vote (autograd, symbolic, then numeric), with its
   * gradient of each input: the arrays the report's `gradients` will hold (null where the leg has
   * none; a leg that failed or that fast mode left without elementwise partials has none).
   */
  readonly onGradients?: (
    leg: LegName,
    gradients: Readonly<Record<string, NestedArray | null>>,
  ) => void;
}

/** Every option of `check`, the type keeping the list complete (a JavaScript typo is refused). */
export const CHECK_OPTIONS = Object.keys({
  at: true,
  rtol: true,
  atol: true,
  method: true,
  seed: true,
  wrt: true,
  dtype: true,
  order: true,
  onGradients: true,
} satisfies Record<keyof CheckOptions, true>);

/** Parsed expressions by text, least recently used first (Map order). */
const PARSED_LIMIT = 512;
const parsed = new Map<string, Program>();

/**
 * `parseProgram`, memoized by text: the same text gives the same `Expr` objects, so the legs'
 * caches (keyed by `Expr` identity) keep compiled formulas and programs across calls. Parsing
 * depends on the op registry only through names and arities, and a registered op can never be
 * removed or change arity; parse errors are not cached.
 */
export function parseProgramCached(text: string): Program {
  const hit = parsed.get(text);
  if (hit !== undefined) {
    parsed.delete(text);
    parsed.set(text, hit);
    return hit;
  }
  const program = parseProgram(text);
  parsed.set(text, program);
  if (parsed.size > PARSED_LIMIT) parsed.delete(parsed.keys().next().value!);
  return program;
}

/** `parse`, memoized by text (`parseProgramCached(text).output`). */
export function parseCached(text: string): Expr {
  return parseProgramCached(text).output;
}

/** Per expression, its output shape by the variables' shapes (as `shapesKey` writes them). */
const outputShapes = new ExprMemo<Expr, Map<string, Shape>>();

function shapesKey(values: ReadonlyMap<string, Value>): string {
  let k = "";
  for (const [name, v] of values) k += `${name}:${v.shape.join(",")};`;
  return k;
}

/** Shape inference, once per expression and shapes: the output's shape. */
function outputShape(expr: Expr, values: ReadonlyMap<string, Value>): Shape {
  const key = shapesKey(values);
  let seen = outputShapes.get(expr);
  const hit = seen?.get(key);
  if (hit !== undefined) return hit;
  const shapes = new Map([...values].map(([k, v]) => [k, v.shape] as const));
  const shape = inferShapes(expr, shapes).shape;
  if (seen === undefined) outputShapes.set(expr, (seen = new Map()));
  if (seen.size > 64) seen.clear();
  seen.set(key, shape);
  return shape;
}

/**
 * Parses / traces a subject into an `Expr` and its display text (a function: a value read from the
 * inputs `wrt` as a number is refused). Throws GradtrioError.
 */
export function toExpr(
  subject: Subject,
  values: Map<string, Value>,
  wrt?: readonly string[],
): { expr: Expr; text: string } {
  if (typeof subject === "string") {
    const { output, bindings } = parseProgramCached(subject);
    checkBoundNotGiven(bindings, [...values.keys()], subject);
    return { expr: output, text: subject };
  }
  if (typeof subject === "function") {
    const expr = trace(subject, [...values.keys()], values, wrt);
    return { expr, text: print(expr) };
  }
  if (typeof subject === "object" && subject !== null && "kind" in subject)
    return { expr: subject, text: print(subject) };
  throw new GradtrioError(
    "INVALID_ARGUMENT",
    "check: the subject must be an expression, an Expr or a function",
  );
}

interface LegRun<T> {
  result: T | null;
  report: LegReport;
}

/** Runs one leg: its result, or its error as a report (a leg never crashes the check). */
export function runLeg<T>(fn: () => T): LegRun<T> {
  const t0 = performance.now();
  try {
    const result = fn();
    return { result, report: { status: "ok", reason: null, ms: performance.now() - t0 } };
  } catch (e) {
    // A custom op's forward that returned garbage is bad input, not this leg's failure.
    if (e instanceof OpResultError) throw e;
    const ours = isGradtrioError(e);
    const msg = ours
      ? e.message
      : e instanceof RangeError && /call stack/i.test(e.message)
        ? "the expression is nested too deeply for this leg (JavaScript's call stack ran out)"
        : e instanceof Error
          ? e.message
          : String(e);
    const cause: LegFailure = ours
      ? { code: e.code, op: e.op ?? null, phase: e.phase ?? null }
      : { code: "INTERNAL", op: null, phase: null };
    return {
      result: null,
      report: { status: "error", reason: msg, cause, ms: performance.now() - t0 },
    };
  }
}

/** The user's rtol and atol, validated, over the defaults. */
export function validateTolerance(opts: {
  readonly rtol?: number;
  readonly atol?: number;
}): Tolerance {
  const rtol = opts.rtol ?? DEFAULT_TOLERANCE.rtol;
  const atol = opts.atol ?? DEFAULT_TOLERANCE.atol;
  for (const [name, v] of [
    ["rtol", rtol],
    ["atol", atol],
  ] as const)
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
      throw new GradtrioError("INVALID_ARGUMENT", `${name} must be a finite number ≥ 0, got ${v}`);
  return { rtol, atol };
}

function validateMethod(method: unknown): NumericMethod {
  if (method === undefined) return "auto";
  if (!NUMERIC_METHODS.includes(method as NumericMethod))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `method must be one of ${NUMERIC_METHODS.join(", ")}, got ${JSON.stringify(method)}`,
    );
  return method as NumericMethod;
}

function validateOrder(order: unknown): 1 | 2 {
  if (order === undefined || order === 1 || order === 2) return order ?? 1;
  throw new GradtrioError("INVALID_ARGUMENT", `order must be 1 or 2, got ${JSON.stringify(order)}`);
}

function validateSeed(seed: unknown): void {
  if (seed !== undefined && !isIntegerIn(seed, 0, Number.MAX_SAFE_INTEGER))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `seed must be a non-negative integer, got ${typeof seed === "string" ? JSON.stringify(seed) : String(seed)}`,
    );
}

/**
 * Entries beyond which a Jacobian (dense, 8 bytes an entry a leg) or a Hessian (its cost grows as
 * the cube of the input elements: 256² took 7–25 s here, README "Jacobians and Hessians") is not
 * checked.
 */
const MAX_MATRIX_ENTRIES = { Jacobian: 4e6, Hessian: 256 ** 2 } as const;

/** Refuses a Jacobian or Hessian over its MAX_MATRIX_ENTRIES, in one line. */
export function checkMatrixSize(what: "Jacobian" | "Hessian", rows: number, cols: number): void {
  const max = MAX_MATRIX_ENTRIES[what];
  if (rows * cols > max)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `a ${what} of ${rows}×${cols} entries is not checked (over ${max}: ${what === "Jacobian" ? "each leg's is dense" : "its cost grows as the cube of the input elements"}); check ${what === "Jacobian" ? "a scalar of the output (sum(…), one element)" : "the gradient (order 1)"} or fewer inputs`,
    );
}

/**
 * Input elements beyond which an explicit per-element method is refused: it differentiates each
 * element by evaluations of f over all of them, so its cost grows as their square (each limit
 * takes 11–18 s on `mean(sin(x)*w)` here, README "Scale").
 */
const PER_ELEMENT_LIMITS = { richardson: 5000, central: 10000, complex: 20000 } as const;

/** Refuses `method` over its PER_ELEMENT_LIMITS for `n` input elements, in one line. */
export function checkMethodSize(method: NumericMethod, n: number): void {
  if (method === "auto" || method === "fast" || n <= PER_ELEMENT_LIMITS[method]) return;
  throw new GradtrioError(
    "INVALID_ARGUMENT",
    `method ${method} on ${n} input elements is not run (over ${PER_ELEMENT_LIMITS[method]}: it evaluates f over all of them for each element); use --method fast, or the default auto, which takes it above ${FAST_MODE_THRESHOLD} elements`,
  );
}

/** Relative accuracy below which a point's gradient cannot reveal a 1e-6 fault. */
const ILL_CONDITIONED = 1e-6;

/** A rounding bound too large against `magnitude` for a 1e-6 fault to show. */
const loose = (bound: number, magnitude: number): boolean =>
  bound > ILL_CONDITIONED * magnitude && bound > 1e3 * Number.MIN_VALUE;
/** A rounding bound within this many ulps of the chain-rule terms is rounding noise of a sum. */
const NOISE_FLOOR = 1e3 * Number.EPSILON;

function looseElement(
  elements: readonly { name: string; k: number }[],
  bounds: Map<string, Float64Array> | null,
  magnitudes: Map<string, Float64Array> | null,
  symbolic: { bounds: Map<string, Float64Array>; values: Map<string, Float64Array> } | null,
  autograd: Map<string, Float64Array> | null,
  agreed: boolean,
): { name: string; k: number; bound: number; magnitude: number; of: string } | null {
  if (bounds === null || magnitudes === null) return null;
  for (const { name, k } of elements) {
    const bound = bounds.get(name)?.[k] ?? 0;
    const magnitude = magnitudes.get(name)?.[k] ?? 0;
    // Every chain-rule term exactly 0 (cos(y - y), 1^x): the legs' agreement on 0 is exact; the
    // bound only perturbs zeros by errors they do not have.
    if (agreed && magnitude === 0) continue;
    if (loose(bound, magnitude)) return { name, k, bound, magnitude, of: "its terms" };
    // Agreement is no evidence where rounding may exceed 1e-6 of the gradient itself: terms that
    // cancel along different paths ((e^x - 1 - x)/x² near 0: terms of 1e14, a gradient of 0.17)
    // leave every leg the same wrong value. A bound at the noise floor of the terms (a few
    // hundred ulps of them) is a gradient that cancels to about 0 (sin² + cos²): resolved.
    const g = agreed ? Math.abs(autograd?.get(name)?.[k] ?? 0) : Number.POSITIVE_INFINITY;
    if (
      bound > ILL_CONDITIONED * g &&
      bound > NOISE_FLOOR * magnitude &&
      bound > 1e3 * Number.MIN_VALUE
    )
      return { name, k, bound, magnitude: g, of: "the gradient" };
    // The symbolic leg's own bound takes part: a CAS formula that loses more than this cannot
    // vouch for autograd (judge excuses numeric when the exact legs agree within their bounds).
    const own = symbolic?.bounds.get(name)?.[k] ?? 0;
    const scale = Math.max(magnitude, Math.abs(symbolic?.values.get(name)?.[k] ?? 0));
    if (loose(own, scale)) return { name, k, bound: own, magnitude: scale, of: "its terms" };
  }
  return null;
}

/** The reasons the gradient's, the Jacobian's and the Hessian's rules share. */
export const reasons = {
  /**
   * A disagreement that agrees once a flat custom op's rounding counts (`widened`: the comparisons
   * with it): the first failing element and its widened bound (autograd's own, with float32).
   */
  flat(flat: FlatOp, widened: readonly Comparison[], failing: readonly string[]): string {
    const c = widened.find((w) => w.label === failing[0]) ?? widened[0]!;
    const bound = (c.autogradRounding ?? c.rounding).toExponential(1);
    return `ill-conditioned point: custom op '${flat.op}' is flat at ${flat.where}, where a backward that computes it again inside rounds unseen, by up to ±${bound} at ${c.label}: that covers the difference`;
  },
  illConditioned(
    extreme: number,
    format = "float64",
    who = "the legs' different arithmetic",
  ): string {
    const where = Math.abs(extreme) > 1 ? "overflow" : "underflow";
    return `ill-conditioned point: a value of ${extreme} lies near the ${where} limit of ${format}, where ${who} can ${where} differently by more than any rounding bound`;
  },
  noValue(legs: Record<LegName, LegReport>): string {
    const errors = LEGS.filter((l) => legs[l].status === "error").map(
      (l) => `${l}: ${legs[l].reason}`,
    );
    return `the function could not be evaluated at the point (${errors.join("; ") || "no leg gave a value"})`;
  },
  /** Why each leg not in `present` has no vote. */
  missing: (legs: Record<LegName, LegReport>, present: readonly LegName[]): string[] =>
    LEGS.filter((l) => !present.includes(l)).map(
      (l) => `${l}: ${legs[l].reason ?? legs[l].status}`,
    ),
  tooFewLegs: (present: readonly string[], why: string, of = ""): string =>
    `too few legs${of}: only ${present.join(", ") || "none"} ran (${why})`,
  twoLegs: (present: readonly string[], why: string): string =>
    `two legs: ${present.join(" and ")} (${why})`,
  singularity: (legs: readonly string[], what: string): string =>
    `non-finite ${what} from the ${legs.join(" and ")} legs: the point is on a singularity`,
  /** ±∞ from `legs` where a value lies beyond 2^±511: the derivative exceeds float64's range. */
  gradientOverflow: (legs: readonly string[], extreme: number, what: string): string =>
    `the ${what} overflows float64 (±∞ from the ${legs.join(" and ")} legs): a value of ${extreme} lies beyond 2^${Math.abs(extreme) > EXTREME_LARGE ? "" : "-"}511, where a derivative's terms (a square of it, a reciprocal of that) leave float64's range; no singularity is needed for that`,
  /**
   * An intermediate overflows under a finite output: `legs`' non-finite gradients (or, with none,
   * the `disagreement`) are no evidence against a leg.
   */
  overflow(
    o: Overflow,
    value: number | null,
    legs: readonly string[],
    disagreement?: string | null,
  ): string {
    const element = o.args === null ? "" : `: ${o.expr.op}(${o.args.join(", ")}) = ${o.value}`;
    const finite = value === null ? "" : ` (${value})`;
    const head = `${print(o.expr)} overflows ${o.format}${element}, while the function stays finite${finite}`;
    const them = legs.length > 1 ? `the ${legs.join(" and ")} legs` : `the ${legs[0]} leg`;
    return legs.length > 0
      ? `${head}: the chain rule through it multiplies by ∞ (0·∞ = NaN, as in PyTorch), so the non-finite gradient from ${them} is no evidence against a leg`
      : `${head}: past it the legs' rounding has no bound, so their disagreement is no evidence against a leg (${disagreement})`;
  },
};

/** The voting legs (numeric: whether it votes or not) whose gradient is not finite in `wrt`. */
function nonFiniteLegs(e: Evidence): LegName[] {
  return (
    [
      ["symbolic", e.symGrads],
      ["numeric", e.numGrads],
      ["autograd", e.autoGrads],
    ] as const
  )
    .filter(([, m]) => m !== null && !allFinite(m, e.wrt))
    .map(([l]) => l);
}

/** No element of `leg`'s gradient in `wrt` is NaN (its non-finite ones are ±∞). */
function noNaN(e: Evidence, leg: LegName): boolean {
  const m = leg === "symbolic" ? e.symGrads : leg === "numeric" ? e.numGrads : e.autoGrads;
  return e.wrt.every((name) => !(m?.get(name)?.some(Number.isNaN) ?? false));
}

/**
 * The symbolic leg's own rounding bounds (`symbolicRounding`); null when they cannot be had (the
 * leg never crashes the check). A bound that is not a number is read as unbounded where the
 * gradient is finite, and as 0 where it is not (a non-finite value is outvoted, not excused).
 */
function ownSymbolicBounds(
  expr: Expr,
  values: ReadonlyMap<string, Value>,
  grads: Map<string, Float64Array>,
  only?: ReadonlyMap<string, readonly number[]>,
): Map<string, Float64Array> | null {
  let bounds: Map<string, Float64Array> | null;
  try {
    bounds = symbolicRounding(expr, values, only);
  } catch {
    return null;
  }
  if (bounds !== null)
    for (const [name, b] of bounds) {
      const ks = only?.get(name);
      if (ks === undefined && only !== undefined) continue;
      const g = grads.get(name)!;
      for (const k of ks ?? b.keys())
        if (!Number.isFinite(g[k]!)) b[k] = 0;
        else if (Number.isNaN(b[k]!)) b[k] = Number.POSITIVE_INFINITY;
    }
  return bounds;
}

function allFinite(m: Map<string, Float64Array>, names: readonly string[]): boolean {
  for (const name of names) {
    const a = m.get(name);
    if (a !== undefined)
      for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k]!)) return false;
  }
  return true;
}

/**
 * The rules that make a verdict inconclusive, in the order `check` applies them: the first seven
 * before any comparison (the gradient is undefined or untrustworthy; "overflow" and "singularity"
 * read the rounding analysis the vote makes, not its comparison), "too few legs" before the
 * vote, the next three only on a disagreement (no leg is to blame for it), "float32 underflow"
 * on an agreement that only float32's underflow allows, "ill-conditioned" also on an agreement
 * (float64 cannot resolve the derivative). Each is one function of
 * `INCONCLUSIVE_TESTS`. README "How the verdict is reached" lists them one to one
 * (test/readme-rules.test.ts holds the two together).
 */
export const INCONCLUSIVE_RULES = [
  "no value",
  "float32 range",
  "not finite",
  "non-finite nearby",
  "overflow",
  "kink",
  "singularity",
  "too few legs",
  "outside the domain",
  "extreme magnitude",
  "smooth breakpoint",
  "float32 underflow",
  "ill-conditioned",
] as const;
export type InconclusiveRule = (typeof INCONCLUSIVE_RULES)[number];

type Grads = Map<string, Float64Array>;
type NumericResult = NumericLegResult;
type SymbolicResult = ReturnType<typeof symbolicLeg>;

/** A report but for its verdict: what every exit of `check` shares. */
type ReportBase = Pick<
  Report,
  | "expr"
  | "at"
  | "value"
  | "gradients"
  | "legs"
  | "method"
  | "notes"
  | "latex"
  | "directional"
  | "failing"
  | "hessian"
>;

/** What an exit of `check` adds to the report base (`failing` replaces its). */
type VerdictFields = Pick<Report, "verdict" | "blame" | "reason"> &
  Partial<Pick<Report, "rule" | "failing" | "outvoted">>;

/**
 * `base` with a verdict: the keys of `{ ...base, ...fields }` in its order (base's first). Built
 * as one literal: V8 adds keys to an object made by a spread slowly (several µs a report).
 */
function withVerdict(b: ReportBase, v: VerdictFields): Report {
  return {
    expr: b.expr,
    at: b.at,
    value: b.value,
    gradients: b.gradients,
    legs: b.legs,
    method: b.method,
    notes: b.notes,
    latex: b.latex,
    directional: b.directional,
    failing: v.failing === undefined ? b.failing : v.failing,
    ...(b.hessian === undefined ? {} : { hessian: b.hessian }),
    verdict: v.verdict,
    blame: v.blame,
    reason: v.reason,
    ...(v.rule === undefined ? {} : { rule: v.rule }),
    ...(v.outvoted === undefined ? {} : { outvoted: v.outvoted }),
  };
}

/** What the legs said at the point: everything the rules and the vote read. */
interface Evidence extends Pick<CheckInput, "expr" | "values" | "wrt" | "tol" | "f32"> {
  readonly base: ReportBase;
  readonly legs: Record<LegName, LegReport>;
  readonly value: number | null;
  readonly num: NumericResult | null;
  /** False when the numeric leg cannot certify its own answer: its numbers show, it has no vote. */
  readonly numVotes: boolean;
  readonly sym: SymbolicResult | null;
  /** The symbolic leg's gradients where it has a vote (null: none, or set aside). */
  readonly symGrads: Grads | null;
  /** Why the symbolic leg has no vote though it ran: a custom op's formula is not its forward. */
  readonly symbolicAside: string | null;
  /** The elements where the legs that ran differ with a zero rounding bound (`apartElements`). */
  readonly apart: () => Apart;
  readonly numGrads: Grads | null;
  readonly numErrs: Grads | null;
  readonly autoGrads: Grads | null;
  /** f at the point as autograd's forward pass computed it. */
  readonly autoValue: number | null;
  /** A breakpoint the point is on (a breakpoint alone is no kink: relu(x)·x is smooth at 0). */
  readonly breakpoint: string | null;
  /** The legs with a vote, and why each other one has none. */
  readonly available: readonly LegName[];
  readonly missing: readonly string[];
  /** With `order: 2`: the Hessian by each leg. */
  readonly hess: HessianLegs | null;
  /** Rounding bounds had while the numeric leg ran elsewhere (`earlyBounds`), or null. */
  readonly early: EarlyBounds | null;
  /** The vote, computed on first use (after the rules that need no comparison). */
  readonly vote: () => Vote;
}

/** The comparison of the legs: judge's verdict and what the rounding analysis found. */
interface Vote {
  readonly judgment: ReturnType<typeof judge>;
  /** With `order: 2` and a leg without a Hessian: which two legs compared it, and why. */
  readonly hessianNote: string | null;
  /** A disagreement in Hessian entries only. */
  readonly hessianOnly: boolean;
  readonly extreme: number | null;
  /**
   * With float32, a Hessian-only disagreement whose failing entries are all within float32's
   * 2^-63 (≈ 1e-19; their squares underflow it): the largest of their values, else null.
   */
  readonly tinyHessian32: number | null;
  readonly outsideDomain: string | null;
  /** float32: why an element agrees only within what float32's underflow may add, or null. */
  readonly underflow: string | null;
  /** An intermediate that overflows float64 (the rounding analysis's `overflow`). */
  readonly overflow: Overflow | null;
  /** The elements the rounding analysis examined, its bounds and chain-rule magnitudes. */
  readonly examined: readonly { name: string; k: number }[];
  readonly rounding: Grads | null;
  readonly magnitudes: Grads | null;
  readonly ownRounding: Grads | null;
  /**
   * A disagreement that a flat custom op's unseen rounding may account for (`withinFlat`): its
   * reason (`reasons.flat`); else null.
   */
  readonly flat: string | null;
  /**
   * Autograd is blamed, and every failing element was compared at shared intermediates (see
   * `takeVote`): rounding of those is no excuse, so the point's conditioning does not matter.
   */
  readonly sharedBlame: boolean;
}

/** The validated options and the subject as an expression at the point, with its output shape. */
export interface CheckInput {
  readonly expr: Expr;
  readonly text: string;
  readonly values: Map<string, Value>;
  /** The inputs differentiated (`wrt`), in order. */
  readonly wrt: readonly string[];
  readonly tol: Tolerance;
  readonly method: NumericMethod;
  readonly f32: boolean;
  readonly order: 1 | 2;
  readonly shape: Shape;
}

/** Validates the options and turns the subject into an expression. Throws GradtrioError. */
function checkInput(subject: Subject, opts: CheckOptions): CheckInput {
  if (typeof opts !== "object" || opts === null || opts.at === undefined)
    throw new GradtrioError("INVALID_ARGUMENT", "check: give the point as { at: { NAME: value } }");
  checkOptionNames(opts, CHECK_OPTIONS, "check");
  const tol = validateTolerance(opts);
  const method = validateMethod(opts.method);
  validateSeed(opts.seed);
  const f32 = validateDtype(opts.dtype) === "float32";
  const values = f32 ? toFloat32(toValues(opts.at)) : toValues(opts.at);
  const { expr, text } = toExpr(
    subject,
    values,
    typeof subject === "function" ? wrtNames(opts.wrt, [...values.keys()]) : undefined,
  );
  const wrt = wrtNames(opts.wrt, [...values.keys()], {
    bindings: typeof subject === "string" ? parseProgramCached(subject).bindings : [],
  });
  const order = validateOrder(opts.order);
  if (opts.onGradients !== undefined && typeof opts.onGradients !== "function")
    throw new GradtrioError("INVALID_ARGUMENT", "check: onGradients must be a function");
  return { expr, text, values, wrt, tol, method, f32, order, shape: outputShape(expr, values) };
}

/** Runs the three legs (and the Hessian's, with `order: 2`) and gathers what they said. */
function gatherEvidence(input: CheckInput, opts: CheckOptions): Evidence {
  const { expr, text, values, wrt, tol, method, f32, order } = input;
  // The numeric leg starts first (fast mode's partials may run on another thread meanwhile,
  // offload.ts) and finishes last.
  const numericOpts = { method, wrt, ...(opts.seed === undefined ? {} : { seed: opts.seed }) };
  const finishNumeric = startNumericLeg(expr, values, numericOpts);
  // Each leg's gradients as the report's arrays, handed over as soon as the leg has them.
  const arrays = (leg: LegName, m: Grads | null): Record<string, NestedArray | null> => {
    const out: Record<string, NestedArray | null> = {};
    for (const name of wrt) out[name] = legGradient(m, name, values.get(name)!.shape);
    opts.onGradients?.(leg, out);
    return out;
  };
  const autograd = runLeg(() => autogradLeg(expr, values, f32 ? { dtype: "float32" } : {}));
  const autoGrads = autograd.result?.gradients ?? null;
  const autoArrays = arrays("autograd", autoGrads);
  const symbolic = runLeg(() => symbolicLeg(expr, values));
  const sym = symbolic.result;
  const symGrads = sym?.status === "ok" ? sym.gradients : null;
  const symArrays = arrays("symbolic", symGrads);
  const early = finishNumeric.elsewhere
    ? earlyBounds(expr, values, wrt, tol, f32, symGrads, autoGrads)
    : null;
  const timed = runLeg(finishNumeric);
  const num = timed.result?.result ?? null;
  const numGrads = num?.gradients ?? null;
  const numArrays = arrays("numeric", numGrads);
  const hess = order === 2 ? hessianLegs(expr, values, wrt, f32) : null;
  const legs: Record<LegName, LegReport> = {
    symbolic: symbolic.report,
    // The leg's own time where it ran (on a worker thread: not this thread's wait for it).
    numeric: timed.result === null ? timed.report : { ...timed.report, ms: timed.result.ms },
    autograd: autograd.report,
  };
  const notes: string[] = [...(num?.notes ?? []), ...(hess?.notes ?? [])];
  if (sym?.status === "ok" && sym.note !== undefined) notes.push(sym.note);
  const value = f32
    ? (autograd.result?.value ?? num?.value ?? null)
    : (num?.value ?? autograd.result?.value ?? null);
  if (f32) notes.push(FLOAT32_NOTE);

  if (sym !== null && sym.status !== "ok")
    legs.symbolic = { status: sym.status, reason: sym.reason, ms: legs.symbolic.ms };
  const numVotes = num !== null && num.unreliable === undefined;
  if (num?.unreliable !== undefined)
    legs.numeric = { ...legs.numeric, unreliable: true, reason: `unreliable: ${num.unreliable}` };
  const numErrs = num?.errors ?? null;

  const gradients: Record<string, InputGradients> = {};
  for (const name of wrt)
    gradients[name] = {
      symbolic: symArrays[name]!,
      numeric: numArrays[name]!,
      autograd: autoArrays[name]!,
      numericError: legGradient(numErrs, name, values.get(name)!.shape),
      formula: sym?.status === "ok" ? (sym.formulas.get(name) ?? null) : null,
    };
  const latex: Record<string, string> = {};
  if (sym?.status === "ok") for (const [k, l] of sym.latex) latex[k] = l;

  let directional: Report["directional"] = null;
  if (num?.directional !== undefined) {
    // Fast mode: uᵀ·(each exact leg's gradient) beside numeric's uᵀ∇f.
    const { u, value: dn, error: de, method: how, partialsBy } = num.directional;
    const dot = (m: Grads | null) => (m === null ? null : alongU(values, u, (n) => m.get(n)));
    directional = {
      symbolic: dot(symGrads),
      numeric: dn,
      numericError: de,
      autograd: dot(autoGrads),
      method: how,
      partialsBy,
    };
  }
  // The elements where the legs differ (their `apart` ones too), computed once, when first needed:
  // by the look for a custom op's formula that is not its forward, else by the vote.
  let apartAll: Apart | undefined;
  const apart = () =>
    (apartAll ??= apartElements(
      wrt,
      values,
      tol,
      {
        symbolic: symGrads,
        numeric: numVotes ? numGrads : null,
        numericError: numErrs,
        autograd: autoGrads,
      },
      early,
    ));
  // A custom op whose formula is not its forward: the CAS differentiates another function than
  // the one the other legs evaluate, so the symbolic leg has no vote (its numbers still show).
  const aside = symbolicAside(
    symGrads !== null,
    expr,
    values,
    tol,
    () =>
      hess !== null ||
      !numVotes ||
      apart().suspects.length > 0 ||
      (directional !== null && !allPairsAgree({ label: "uᵀ∇f", ...directional, rounding: 0 }, tol)),
    legs,
  );
  const symVotes = aside === null ? symGrads : null;
  const hessVotes =
    aside === null || hess === null
      ? hess
      : {
          ...hess,
          legs: { ...hess.legs, symbolic: null },
          missing: { ...hess.missing, symbolic: noVote(aside) },
        };

  const available = LEGS.filter((l) =>
    l === "symbolic" ? symVotes !== null : l === "numeric" ? numVotes : autoGrads !== null,
  );
  const missing = reasons.missing(legs, available);
  let vote: Vote | undefined;
  const evidence: Evidence = {
    expr,
    values,
    wrt,
    tol,
    f32,
    base: {
      expr: text,
      at: opts.at,
      value,
      gradients,
      legs,
      method: num?.method ?? null,
      notes,
      latex,
      directional,
      failing: [],
      ...(hess === null ? {} : { hessian: hess.report }),
    },
    legs,
    value,
    num,
    numVotes,
    sym,
    symGrads: symVotes,
    symbolicAside: aside,
    apart,
    numGrads,
    numErrs,
    autoGrads,
    autoValue: autograd.result?.value ?? null,
    breakpoint: sym?.status === "kink" ? sym.reason : (num?.breakpoint ?? null),
    available,
    missing,
    hess: hessVotes,
    early,
    vote: () => (vote ??= takeVote(evidence)),
  };
  return evidence;
}

/** The rounding bounds `takeVote` asks for, had early for the elements of `only`. */
interface EarlyBounds {
  readonly only: ReadonlyMap<string, readonly number[]>;
  /** Null where there are no suspects (nothing to bound). */
  readonly analysis: RoundingAnalysis | null;
  readonly own: Map<string, Float64Array> | null;
}

/**
 * While fast mode's numeric leg runs on another thread (this one would wait for it), the
 * rounding bounds the vote will likely ask for, had beforehand: at the elements where symbolic
 * and autograd differ (the vote's suspects wherever numeric has no per-element partial, as on
 * the large variables). A bound at an element does not depend on which others are asked for, so
 * where the vote's request is within this one its numbers are these, to the bit; where not
 * (numeric's partials made another element a suspect), it computes its own. At 10^6 elements this
 * is most of the vote's time (0.4 s), taken off the end of the check. (Every element of the
 * scalars asked for too cost 2 s: a scalar's bound reads every element's error.)
 */
function earlyBounds(
  expr: Expr,
  values: Map<string, Value>,
  wrt: readonly string[],
  tol: Tolerance,
  f32: boolean,
  symGrads: Grads | null,
  autoGrads: Grads | null,
): EarlyBounds | null {
  let size = 0;
  for (const v of values.values()) size += v.data.length;
  if (f32 || size <= FAST_MODE_THRESHOLD || autoGrads === null) return null;
  const only = new Map<string, number[]>();
  const { suspects } = apartElements(wrt, values, tol, {
    symbolic: symGrads,
    numeric: null,
    numericError: null,
    autograd: autoGrads,
  });
  for (const { name, k } of suspects) {
    const ks = only.get(name);
    if (ks === undefined) only.set(name, [k]);
    else ks.push(k);
  }
  // No suspects: nothing to bound (the vote, if it finds none either, asks for nothing).
  if (only.size === 0) return { only, analysis: null, own: null };
  try {
    const analysis = roundingAnalysis(expr, values, only, { float32: false });
    const own = symGrads === null ? null : ownSymbolicBounds(expr, values, symGrads, only);
    return { only, analysis, own };
  } catch {
    return null;
  }
}

/** Whether every element of `request` is in `early`'s. */
function covers(early: EarlyBounds, request: ReadonlyMap<string, readonly number[]>): boolean {
  for (const [name, ks] of request) {
    const have = early.only.get(name);
    if (have === undefined) return false;
    const set = new Set(have);
    for (const k of ks) if (!set.has(k)) return false;
  }
  return true;
}

/** A leg's gradient of `name` as nested arrays (null when the leg has none). */
function legGradient(m: Grads | null, name: string, shape: Shape): NestedArray | null {
  const a = m?.get(name);
  return a === undefined ? null : fromValue({ data: a, shape });
}

/** Element indices per variable. */
function byName(elements: readonly { name: string; k: number }[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { name, k } of elements) {
    const list = out.get(name);
    if (list === undefined) out.set(name, [k]);
    else list.push(k);
  }
  return out;
}

/**
 * `c` compared at intermediates numeric and autograd share (`local`: the bound of the chain
 * rule's arithmetic on them), or null where numeric agrees with autograd that closely anyway, or
 * where there is no such bound. Numeric then resolves autograd. Symbolic may have evaluated other
 * intermediates: it is as far from them as from numeric, plus numeric's estimate. It takes part
 * where it agrees with autograd as closely as numeric should (numeric is outvoted), or differs
 * beyond its own distance (autograd is); else numeric alone contradicts autograd.
 */
function atSharedIntermediates(
  c: Comparison,
  local: number | undefined,
  tol: Tolerance,
): Comparison | null {
  const { numeric: n, autograd: a, symbolic: s } = c;
  if (local === undefined || !Number.isFinite(local)) return null;
  if (n === null || a === null || !Number.isFinite(n) || !Number.isFinite(a)) return null;
  const { symbolicRounding: _, ...tight } = { ...c, rounding: local };
  if (pairAgrees(tight, "numeric", "autograd", tol)) return null;
  if (s !== null && pairAgrees(tight, "symbolic", "autograd", tol)) return tight;
  if (s === null || !Number.isFinite(s)) return { ...tight, symbolic: null };
  const placed = { ...tight, symbolicRounding: Math.abs(s - n) + NUMERIC_SAFETY * c.numericError };
  return Math.abs(s - a) > pairTolerance(placed, "symbolic", "autograd", tol)
    ? placed
    : { ...tight, symbolic: null };
}

/**
 * Σ u_k·g_k over the variables' elements (|u_k|·g_k with `abs`: a bound along u), u flat over
 * the variables in order; a variable without g adds nothing.
 */
function alongU(
  values: ReadonlyMap<string, Value>,
  u: Float64Array,
  g: (name: string) => Float64Array | undefined,
  abs = false,
): number {
  let s = 0;
  let o = 0;
  for (const [name, v] of values) {
    const a = g(name);
    const n = v.data.length;
    if (a !== undefined)
      for (let k = 0; k < n; k++) s += (abs ? Math.abs(u[o + k]!) : u[o + k]!) * a[k]!;
    o += n;
  }
  return s;
}

/** Elements where some pair of legs differs (`suspects`), and where numeric and autograd do. */
interface Apart {
  readonly suspects: readonly { name: string; k: number }[];
  readonly apart: readonly { name: string; k: number }[];
}

/**
 * The elements where some pair of the legs given differs even with a zero rounding bound (the
 * only ones that can fail the vote: every tolerance grows with the bounds), and among them those
 * where numeric and autograd do.
 */
function apartElements(
  wrt: readonly string[],
  values: ReadonlyMap<string, Value>,
  tol: Tolerance,
  legs: {
    readonly symbolic: Grads | null;
    readonly numeric: Grads | null;
    readonly numericError: Grads | null;
    readonly autograd: Grads | null;
  },
  early: EarlyBounds | null = null,
): Apart {
  const probe = comparisonProbe();
  const suspects: { name: string; k: number }[] = [];
  const apart: { name: string; k: number }[] = [];
  for (const name of wrt) {
    // Where numeric has no numbers, `earlyBounds` found these elements with the same legs.
    if (early !== null && !legs.numeric?.has(name) && !legs.numericError?.has(name)) {
      for (const k of early.only.get(name) ?? []) suspects.push({ name, k });
      continue;
    }
    const v = values.get(name)!;
    const s = legs.symbolic?.get(name);
    const a = legs.autograd?.get(name);
    const n = legs.numeric?.get(name);
    const ne = legs.numericError?.get(name);
    for (let k = 0; k < v.data.length; k++) {
      probe.symbolic = s === undefined ? null : s[k]!;
      probe.autograd = a === undefined ? null : a[k]!;
      probe.numeric = n === undefined ? null : n[k]!;
      probe.numericError = ne === undefined ? 0 : ne[k]!;
      if (allPairsAgree(probe, tol)) continue;
      suspects.push({ name, k });
      // Numeric and autograd apart even with a zero rounding bound: the only elements the
      // shared-intermediate comparison below can change.
      if (
        probe.numeric !== null &&
        probe.autograd !== null &&
        !pairAgrees(probe, "numeric", "autograd", tol)
      )
        apart.push({ name, k });
    }
  }
  return { suspects, apart };
}

/**
 * Compares the legs element by element (judge), with the rounding analysis's bounds as the exact
 * legs' tolerances. Only elements where some pair fails with a zero rounding bound can fail at
 * all (every tolerance grows with the bound): the comparisons are built for those alone, which
 * leaves judge's verdict, blame and reason exactly as over all elements.
 */
function takeVote(e: Omit<Evidence, "vote">): Vote {
  const { expr, values, tol, f32, num, numVotes, symGrads, numGrads, numErrs, autoGrads } = e;
  // Without the symbolic leg's vote, the elements where the legs differ are those where numeric
  // and autograd do (the probe's pair tolerance does not depend on the third leg).
  const all = e.apart();
  const { suspects, apart } =
    e.symbolicAside === null ? all : { suspects: all.apart, apart: all.apart };
  const only = byName(suspects);
  // The rounding analysis runs whatever the legs say: where float64 cannot resolve the
  // derivative, the legs may agree on a wrong value ((1-cos(x))/x^2 at 1e-9: all say 1e9, the
  // truth is -8.3e-11). Above the fast-mode size its cost (a pass over every element) is spent on
  // the elements where the legs differ only.
  let size = 0;
  for (const v of values.values()) size += v.data.length;
  const everyElement = size <= FAST_MODE_THRESHOLD;
  const examined = everyElement
    ? [...values].flatMap(([name, v]) => Array.from(v.data, (_, k) => ({ name, k })))
    : suspects;
  // Had while the numeric leg ran elsewhere, where they cover this request (`earlyBounds`).
  const early =
    e.early !== null && !everyElement && e.symbolicAside === null && covers(e.early, only)
      ? e.early
      : null;
  const analysis =
    examined.length === 0
      ? null
      : (early?.analysis ??
        roundingAnalysis(expr, values, everyElement ? undefined : only, { float32: f32 }));
  let extreme = analysis?.extreme ?? null;
  let outsideDomain = analysis?.outsideDomain ?? null;
  let overflow = analysis?.overflow ?? null;
  const rounding = analysis?.bounds ?? null;
  // float32: what its underflow may add to autograd's bound, where the legs differ.
  const underflow =
    f32 && suspects.length > 0
      ? roundingAnalysis(expr, values, only, { tiny: FLOAT32_TINY }).bounds
      : null;
  const ownRounding =
    suspects.length === 0 || symGrads === null
      ? null
      : early !== null
        ? early.own
        : ownSymbolicBounds(expr, values, symGrads, only);
  // Where autograd's forward pass gives the complex step's value to the bit, both evaluated the
  // same float64 intermediates, and the error those carry (1e-8 of the gradient for
  // 650 + 343·sin(…) nested three deep) is common to both: they are compared with the bound of
  // their own arithmetic at those intermediates (`shared`), where a 1e-8 fault of autograd's
  // backward stands out.
  const sameChain =
    !f32 &&
    numVotes &&
    num?.chainValue !== undefined &&
    Number.isFinite(num.chainValue) &&
    num.chainValue === e.autoValue;
  const shared =
    sameChain && apart.length > 0
      ? roundingAnalysis(expr, values, byName(apart), { shared: true }).bounds
      : null;
  const sharedLabels = new Set<string>();
  const comparisons: Comparison[] = [];
  // One comparison per suspect element, in their order (`withinFlat` reads them so).
  for (const { name, k } of suspects) {
    const v = values.get(name)!;
    const s = symGrads?.get(name);
    const a = autoGrads?.get(name);
    const n = numVotes ? numGrads?.get(name) : undefined;
    const ne = numErrs?.get(name);
    const r = rounding?.get(name);
    const own = ownRounding?.get(name)?.[k];
    const c: Comparison = {
      label: elementLabel(name, v.shape, k),
      symbolic: s === undefined ? null : s[k]!,
      autograd: a === undefined ? null : a[k]!,
      numeric: n === undefined ? null : n[k]!,
      numericError: ne === undefined ? 0 : ne[k]!,
      // Without the rounding analysis (custom op without usable rule), fall back on a few ulps.
      rounding:
        r === undefined ? 8 * Number.EPSILON * finiteMagnitude(s?.[k] ?? 0, a?.[k] ?? 0) : r[k]!,
      ...(own === undefined ? {} : { symbolicRounding: own }),
    };
    const chained = atSharedIntermediates(c, shared?.get(name)?.[k], tol);
    if (chained !== null) sharedLabels.add(c.label);
    comparisons.push(f32 ? withFloat32Bound(c, underflow?.get(name)?.[k]) : (chained ?? c));
  }
  const directional = e.base.directional;
  if (directional !== null && num?.directional !== undefined && numVotes) {
    // Fast mode: numeric gives uᵀ∇f; compare it with uᵀ·(each exact leg's gradient).
    const { u, value: dn, error: de } = num.directional;
    const c: Mutable<Comparison> = {
      label: "uᵀ∇f",
      symbolic: symGrads === null ? null : directional.symbolic,
      autograd: directional.autograd,
      numeric: dn,
      numericError: de,
      rounding: 0,
    };
    if (!allPairsAgree(c, tol)) {
      // uᵀ∇f mixes every element: this comparison needs the bound of each.
      const whole = roundingAnalysis(expr, values, undefined, { float32: f32 });
      extreme ??= whole.extreme;
      outsideDomain ??= whole.outsideDomain;
      overflow ??= whole.overflow;
      const all = whole.bounds;
      const dr = all === null ? 0 : alongU(values, u, (n) => all.get(n), true);
      c.rounding = dr;
      if (f32) {
        // What float32's underflow adds along u, as for each element.
        const tiny = roundingAnalysis(expr, values, undefined, { tiny: FLOAT32_TINY }).bounds;
        const du = tiny === null ? 0 : alongU(values, u, (n) => tiny.get(n), true);
        Object.assign(c, withFloat32Bound(c, du));
      }
      const own = symGrads === null ? null : ownSymbolicBounds(expr, values, symGrads);
      if (own !== null) {
        const ds = alongU(values, u, (n) => own.get(n), true);
        // An unbounded own bound would let symbolic agree with anything here: structural only.
        if (Number.isFinite(ds)) c.symbolicRounding = ds;
      }
      comparisons.push(c);
    }
  }
  let hessianNote: string | null = null;
  const hessianLabels = new Set<string>();
  if (e.hess !== null) {
    const { present, why } = hessianLegsPresent(e.hess);
    if (present.length === 2)
      hessianNote = `Hessian by two legs: ${present.join(" and ")} (${why})`;
    const hc = hessianComparisons(e.hess, tol);
    for (const c of hc) hessianLabels.add(c.label);
    comparisons.push(...(f32 ? hc.map((c) => withFloat32Bound(c)) : hc));
  }
  const judgment = judge(comparisons, tol);
  return {
    judgment,
    flat:
      judgment.verdict === "disagree" && analysis != null && analysis.flat !== null
        ? withinFlat(
            expr,
            values,
            only,
            f32,
            analysis,
            analysis.flat,
            comparisons,
            suspects,
            judgment.failing,
            tol,
          )
        : null,
    hessianOnly:
      judgment.verdict === "disagree" && judgment.failing.every((l) => hessianLabels.has(l)),
    sharedBlame:
      judgment.verdict === "disagree" &&
      judgment.outvoted.length === 0 &&
      judgment.failing.every((l) => sharedLabels.has(l)),
    hessianNote,
    extreme,
    tinyHessian32: f32 ? tinyHessian(comparisons, judgment.failing, hessianLabels) : null,
    outsideDomain,
    underflow: f32 && judgment.verdict === "agree" ? float32Underflow(comparisons, tol) : null,
    overflow,
    examined,
    rounding,
    magnitudes: analysis?.magnitudes ?? null,
    ownRounding,
  };
}

/** `Vote.tinyHessian32`: the largest |value| of the failing entries, all Hessian's, if ≤ 2^-63. */
function tinyHessian(
  comparisons: readonly Comparison[],
  failing: readonly string[],
  hessianLabels: ReadonlySet<string>,
): number | null {
  if (failing.length === 0 || !failing.every((l) => hessianLabels.has(l))) return null;
  let big = 0;
  for (const c of comparisons)
    if (failing.includes(c.label))
      for (const v of [c.symbolic, c.numeric, c.autograd])
        if (v !== null) big = Math.max(big, Math.abs(v));
  return big <= EXTREME_SMALL_32 ? big : null;
}

/**
 * Whether every comparison agrees once a flat custom op's windows count at their cap
 * (`roundingAnalysis`'s `flat`): a rule that recomputes its forward where the forward does not
 * move by an ulp over the window (σ past x ≈ 28: 1 − s from an s that rounds) rounds in ways no
 * probe sees, by up to that much. Such a disagreement is no evidence against the rule: null when
 * some element still disagrees (or none widened), else its reason (`reasons.flat`).
 * `elements[i]` is the element `comparisons[i]` compares (the others are no element's).
 */
function withinFlat(
  expr: Expr,
  values: Map<string, Value>,
  only: ReadonlyMap<string, readonly number[]>,
  f32: boolean,
  analysis: RoundingAnalysis,
  flat: FlatOp,
  comparisons: readonly Comparison[],
  elements: readonly { name: string; k: number }[],
  failing: readonly string[],
  tol: Tolerance,
): string | null {
  const wide = roundingAnalysis(expr, values, only, { float32: f32, flat: true }).bounds;
  if (wide === null || analysis.bounds === null) return null;
  const base = analysis.bounds;
  let widenedAny = false;
  // What the flat op's windows add to each element's bound, added to the bound it was compared
  // with (which may be the bound at shared intermediates), and to float32's bound of autograd.
  const widened = comparisons.map((c, i): Comparison => {
    const at = elements[i];
    if (at === undefined) return c;
    const extra = (wide.get(at.name)?.[at.k] ?? 0) - (base.get(at.name)?.[at.k] ?? 0);
    if (!(extra > 0)) return c;
    widenedAny = true;
    return c.autogradRounding === undefined
      ? { ...c, rounding: c.rounding + extra }
      : {
          ...c,
          rounding: c.rounding + extra,
          autogradRounding: c.autogradRounding + FLOAT32_SCALE * extra,
        };
  });
  return widenedAny && judge(widened, tol).verdict === "agree"
    ? reasons.flat(flat, widened, failing)
    : null;
}

/** A rule's test: the reason the verdict is inconclusive, or null when the rule does not apply. */
type InconclusiveTest = (e: Evidence) => string | null;

/** One test per rule (a total Record: the compiler refuses a rule without one). */
const INCONCLUSIVE_TESTS: Record<InconclusiveRule, InconclusiveTest> = {
  "no value": (e) => (e.value === null ? reasons.noValue(e.legs) : null),
  "float32 range": (e) => {
    const value64 = e.num?.value;
    return e.f32 && !Number.isFinite(e.value) && value64 !== undefined && Number.isFinite(value64)
      ? float32Range(e.value!, value64)
      : null;
  },
  "not finite": (e) => {
    const value = e.value!;
    if (Number.isFinite(value)) return null;
    const where = roundingAnalysis(e.expr, e.values).outsideDomain;
    return `the function is not finite at the point (value ${value}): ${
      where !== null
        ? `outside the domain: ${where}`
        : Number.isNaN(value)
          ? "NaN, though no argument was found outside its op's domain (an overflow's ∞ − ∞ or 0·∞, or an op's own NaN)"
          : "the value overflows float64"
    }`;
  },
  "non-finite nearby": (e) =>
    e.num?.nonFinite === undefined
      ? null
      : `non-finite value near the point: ${e.num.nonFinite.where}`,
  // exp(710) = ∞ under sigmoid (1): the backward meets 0·∞ = NaN, as PyTorch's does. Autograd's
  // non-finite gradient there is no evidence against it, nor two references' for it. A finite
  // autograd against one such reference is left to the vote (the other reference decides).
  overflow: (e) => {
    const legs = nonFiniteLegs(e);
    if (!legs.includes("autograd") && legs.length < 2) return null;
    const o = e.vote().overflow;
    return o === null ? null : reasons.overflow(o, e.value!, legs);
  },
  // A breakpoint alone is no kink (relu(x)·x is smooth at 0): one-sided derivatives decide.
  kink: (e) => {
    // Only the differentiated inputs' kinks count (relu(x)·y with wrt y: ∂f/∂y = relu(x)).
    // The index set only when there are kinks: a 10⁶-element input would build it for nothing.
    const found = e.num?.kinks ?? [];
    if (found.length > 0) {
      const keep = new Set(wrtIndices(e.values, e.wrt));
      const kinks = found.filter((k) => keep.has(k.coordinate));
      if (kinks.length > 0)
        return kinkReason(
          kinks,
          (k) => gradientElement(e.autoGrads, e.values, k.coordinate),
          e.breakpoint,
          "the function",
          convention(e.expr),
        );
    }
    // The gradient may have a kink where the function has none (relu(x)·x at 0).
    if (e.hess != null && e.hess.kinks.length > 0)
      return kinkReason(
        e.hess.kinks,
        (k) => k.autograd,
        e.breakpoint,
        "the gradient",
        convention(e.expr),
      );
    return null;
  },
  // One leg alone with a non-finite gradient is outvoted like any other wrong value (a CAS
  // answer that is NaN where the function is smooth); two or more mean a singularity.
  singularity: (e) => {
    const legs = nonFiniteLegs(e);
    if (legs.length < 2) return null;
    // ±∞ (no NaN) where a value lies beyond 2^±511: a finite derivative past float64's range
    // (∂(x/y)/∂y = −1e400 at y = 1e-200), not a singularity. On a domain edge it is one (sqrt at 0).
    const v = e.vote();
    return v.extreme !== null && v.outsideDomain === null && legs.every((l) => noNaN(e, l))
      ? reasons.gradientOverflow(legs, v.extreme, "gradient")
      : reasons.singularity(legs, "gradient");
  },
  "too few legs": (e) => {
    if (e.available.length < 2) return reasons.tooFewLegs(e.available, e.missing.join("; "));
    if (e.hess === null) return null;
    const { present, why } = hessianLegsPresent(e.hess);
    if (present.length < 2) return reasons.tooFewLegs(present, why, " for the Hessian");
    // The references differing where autograd has no Hessian contradict nothing under test.
    const v = e.hess.legs.autograd === null ? e.vote() : null;
    return v?.hessianOnly === true
      ? `${reasons.tooFewLegs(present, why, " for the Hessian")}; they differ (${v.judgment.reason}) and autograd, the code under test, has no Hessian to side with either`
      : null;
  },
  // An argument on or past its op's domain edge (bce's p at 1) leaves the gradient undefined
  // even where the value is finite (exp(bce(1, x)) = 0): no leg is to blame.
  "outside the domain": (e) => {
    const v = e.vote();
    return v.judgment.verdict === "disagree" && v.outsideDomain !== null
      ? `outside the domain: ${v.outsideDomain}`
      : null;
  },
  // Near the ends of float64's range a disagreement is no evidence against a leg.
  "extreme magnitude": (e) => {
    const v = e.vote();
    if (v.judgment.verdict !== "disagree") return null;
    if (v.extreme !== null) return reasons.illConditioned(v.extreme);
    // autograd's float32 Hessian entries within 2^-63: its double backward's underflow is unbounded.
    if (v.tinyHessian32 !== null)
      return reasons.illConditioned(v.tinyHessian32, "float32", "the Hessian's double backward");
    // Past an infinite intermediate the rounding analysis has no bounds for the legs: no evidence
    // against autograd (a reference outvoted by the two others stands).
    return v.overflow === null || referenceOutvoted(v.judgment)
      ? null
      : reasons.overflow(v.overflow, e.value!, [], v.judgment.reason);
  },
  "smooth breakpoint": (e) => {
    const v = e.vote();
    return v.judgment.verdict === "disagree" && e.breakpoint !== null
      ? breakpointReason(e.breakpoint, v.judgment.reason, convention(e.expr))
      : null;
  },
  // Autograd's float32 value is off a reference by float32's underflow only: no fault to be seen.
  "float32 underflow": (e) => e.vote().underflow,
  // Where rounding alone may move a gradient element by more than 1e-6 of its terms, a fault of
  // that size cannot be told from rounding: say so rather than agree or blame.
  "ill-conditioned": (e) => {
    const v = e.vote();
    if (v.flat !== null) return v.flat;
    if (v.sharedBlame) return null;
    const agreed = v.judgment.verdict === "agree";
    const loose = looseElement(
      v.examined,
      v.rounding,
      v.magnitudes,
      v.ownRounding === null || e.symGrads === null
        ? null
        : { bounds: v.ownRounding, values: e.symGrads },
      e.autoGrads,
      agreed,
    );
    return loose === null
      ? null
      : `ill-conditioned point: rounding alone may move the gradient at ${elementLabel(loose.name, e.values.get(loose.name)!.shape, loose.k)} by ±${loose.bound.toExponential(1)} (${loose.of === "its terms" ? "its terms are" : "it is"} of size ${loose.magnitude.toExponential(1)}): float64 cannot resolve the derivative there, so the legs cannot be compared${agreed ? " (they agree, possibly on a wrong value)" : ""}`;
  },
};

/**
 * The autograd leg is the code under test: a backward rule that throws (or returns no number per
 * argument) where the function is defined contradicts it, whatever the references say. Checked
 * after the rules on the point itself, before "too few legs".
 */
function autogradFailed(e: Evidence): Report | null {
  if (e.autoGrads !== null || e.legs.autograd.status !== "error") return null;
  return withVerdict(e.base, {
    verdict: "disagree",
    blame: "autograd",
    reason: `the autograd leg failed: ${e.legs.autograd.reason}`,
  });
}

/**
 * A custom op's forward that is NaN, or throws, at finite arguments inside its declared domain is
 * the user's code broken at the point, not the point outside the domain: autograd (the code under
 * test, custom ops included) is blamed, as `fuzz` fails such an op. Checked before "no value"
 * (a throw leaves no value) and "not finite".
 */
function forwardFailed(e: Evidence): Report | null {
  if (e.value !== null && !Number.isNaN(e.value)) return null;
  const reason = forwardFault(e.expr, e.values);
  return reason === null
    ? null
    : withVerdict(e.base, { verdict: "disagree", blame: "autograd", reason });
}

/** The legs that have a Hessian, and why each other one has none. */
function hessianLegsPresent(hess: HessianLegs): { present: LegName[]; why: string } {
  const present = LEGS.filter((l) => hess.legs[l] !== null);
  const why = LEGS.filter((l) => hess.legs[l] === null)
    .map((l) => `${l}: ${hess.missing[l] ?? "no Hessian"}`)
    .join("; ");
  return { present, why };
}

/** The vote's verdict, when no rule made it inconclusive. */
function conclusion(e: Evidence): Report {
  const { judgment, hessianNote, sharedBlame } = e.vote();
  const legsNote =
    e.available.length === 2 ? reasons.twoLegs(e.available, e.missing.join("; ")) : null;
  const shared = sharedBlame
    ? "; compared at the float64 intermediates numeric and autograd share (the same f(x) to the bit), whose rounding is common to both"
    : "";
  const aside = asideNote(e.symbolicAside);
  return withVerdict(e.base, {
    verdict: judgment.verdict,
    blame: judgment.blame,
    reason:
      judgment.reason !== null
        ? `${judgment.reason}${shared}${aside}`
        : [legsNote, hessianNote].filter((n) => n !== null).join("; ") || null,
    failing: judgment.failing,
    outvoted: judgment.outvoted,
  });
}

/**
 * Checks the gradient of `subject` at a point three ways (the Jacobian of a non-scalar output,
 * the Hessian too with `order: 2`), as a pipeline: gather the legs' evidence, apply the
 * inconclusive rules in order (INCONCLUSIVE_RULES; the autograd leg's own failure is a
 * disagreement, judged before "too few legs", and so is a custom op's forward NaN or throwing
 * inside its domain, before "no value"), then the vote.
 *
 * @example
 * const r = check("sin(x^2)", { at: { x: 3 } });
 * r.verdict; // "agree"
 * r.gradients.x.autograd; // -5.466781571308061
 */
export function check(subject: Subject, opts: CheckOptions): Report {
  const input = checkInput(subject, opts);
  const { expr, text, shape } = input;
  // The differentiated input elements (`wrt`'s): the others are constants to every leg.
  let n = 0;
  for (const name of input.wrt) n += input.values.get(name)!.data.length;
  if (shape.length !== 0 && input.order === 1) {
    checkMatrixSize("Jacobian", sizeOf(shape), n);
    return checkJacobian(input, opts.at);
  }
  checkScalarOutput(shape, { expr, source: text, for: "a Hessian (order 2)" });
  if (input.order === 2) checkMatrixSize("Hessian", n, n);
  checkMethodSize(input.method, n);
  // The symbolic leg and its own rounding bound evaluate the same forward values.
  return sharingForward(() => {
    const e = gatherEvidence(input, opts);
    for (const rule of INCONCLUSIVE_RULES) {
      const failed =
        rule === "no value" ? forwardFailed(e) : rule === "too few legs" ? autogradFailed(e) : null;
      if (failed !== null) return failed;
      const reason = INCONCLUSIVE_TESTS[rule](e);
      if (reason !== null)
        return withVerdict(e.base, { verdict: "inconclusive", blame: null, reason, rule });
    }
    return conclusion(e);
  });
}
