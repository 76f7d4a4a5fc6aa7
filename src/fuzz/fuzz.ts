/**
 * The fuzzer, per custom op: a sanity check of the op alone; a dense stratified sweep of its
 * domain (`sweep.ts`: narrow faults); then random expressions around it (fast-check), each judged
 * by the three-way `check`. Every op is fuzzed and gets its own verdict: a disagreement is shrunk
 * to a minimal expression and point and comes back with a replay (seed and path), attributed to
 * the op whose backward is wrong at it (an op that failed alone is left out of the others'
 * expressions). Inconclusive points (kinks, singularities) are not bugs: they are skipped.
 *
 * The work is cut into tasks that depend only on their inputs (`sweepOp`, `judgeCases`,
 * `shrinkCase`): the random expressions are a fixed stream per seed, the first failing one is
 * shrunk by replaying its index, so cutting the stream into chunks (workers) changes nothing.
 */
import fc from "fast-check";
import { upstreamGradients } from "../autograd/leg.ts";
import { check, parseCached } from "../check/check.ts";
import { convictsAutograd, outcome, referenceOutvoted } from "../check/outcome.ts";
import type { InputGradients, Report } from "../check/report.ts";
import type { LegName } from "../check/verdict.ts";
import { checkOptionNames, firstLine, GradtrioError, isIntegerIn } from "../errors.ts";
import { type CallExpr, call, type Expr, num, postOrder, variable } from "../expr/ast.ts";
import { usedOnce } from "../expr/memo.ts";
import {
  type CustomOpDefinition,
  isBuiltinOp,
  isTensorOp,
  lookupCustomOp,
  type OpDefinition,
} from "../expr/ops.ts";
import { type NestedArray, type Point, toValues } from "../expr/point.ts";
import { print } from "../expr/print.ts";
import { evaluate } from "../numeric/evaluate.ts";
import { withComposedDerivatives } from "../symbolic/compose.ts";
import { symbolicLeg } from "../symbolic/leg.ts";
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_VARIABLES,
  type FuzzCase,
  fuzzCaseArbitrary,
} from "./arbitraries.ts";
import { tolerances } from "./config.ts";
import { MAX_DEPTH, MAX_RUNS } from "./limits.ts";
import { type OpLike, resolveOp } from "./op-like.ts";
import { type SanityReport, sanityCheck } from "./sanity.ts";
import { fastCheckSeed } from "./seed.ts";
import {
  backwardDeviation,
  formulaDerivatives,
  SWEEP_GRAD,
  SWEEP_POINTS,
  screen,
  sweepPoints,
  tensorScreen,
} from "./sweep.ts";
import { aloneCase, argNames, roundCase, tensorSanityCheck, tensorSweepPoints } from "./tensor.ts";

/** Runs per op when none is given: finds every planted bug of test/fixtures/ops in seconds. */
export const DEFAULT_RUNS = 100;

export interface FuzzOptions {
  /** The ops to fuzz (made with `defineOp`, their definitions, or registered names). */
  readonly ops: readonly OpLike[];
  /** Random expressions per op (default 100). */
  readonly runs?: number;
  /** The fast-check seed (default: a random one, reported in the result). */
  readonly seed?: number;
  /** Deepest nesting of calls (default 3). */
  readonly maxDepth?: number;
  /** Replays one case (and its shrinking) from a reported counterexample. */
  readonly path?: string;
  /** Relative slack on top of the error estimates (default: check's). */
  readonly rtol?: number;
  /** Absolute slack (default: check's). */
  readonly atol?: number;
  /** The ops module's path, as the replay commands should show it. */
  readonly opsFile?: string;
  /**
   * An op that fails its sanity check: "report" (default, as `gradtrio fuzz` and the gate: the op
   * gets `sanityError` in `perOp`, is not fuzzed, the others are, and `ok` is false) or "throw"
   * (the first such op's GradtrioError, before any op is fuzzed).
   */
  readonly onSanityFailure?: "throw" | "report";
  /** Points of each op's domain sweep (default 10^4). */
  readonly sweepPoints?: number;
  /** Called after each evaluated case (and once when an op starts and ends). */
  readonly onProgress?: (p: FuzzProgress) => void;
}

export interface FuzzProgress {
  readonly op: string;
  /** 0-based index of the op being fuzzed, and how many ops there are. */
  readonly opIndex: number;
  readonly opCount: number;
  readonly phase: "start" | "sweep" | "run" | "shrink" | "done";
  /** Cases run for this op so far (skipped inconclusive ones included), out of `runs`. */
  readonly runs: number;
  readonly totalRuns: number;
  /** Ops with a counterexample so far. */
  readonly failures: number;
}

export interface OpStats {
  readonly op: string;
  /** The sanity check's report, or null when it failed (`sanityError` says why). */
  readonly sanity: SanityReport | null;
  /** Why the op failed its sanity check (null when it passed, or with `onSanityFailure: "throw"`). */
  sanityError: string | null;
  /** The domain sweep: points screened, suspects sent to `check`, and its time. */
  sweep: { points: number; suspects: number; ms: number };
  /** Random expressions generated before the verdict (or all of them); none after a sweep's. */
  runs: number;
  agree: number;
  /** Skipped: a kink, a singularity, a point outside a domain. */
  inconclusive: number;
  /**
   * Cases where the numeric or the symbolic leg was outvoted by the two others: a defect of
   * gradtrio's leg, not of the op (not counted as a counterexample). The first one is kept.
   */
  legDefects: number;
  legDefect: {
    expr: string;
    at: Point;
    /** The outvoted reference leg; null when two were, in different elements (`reason` names them). */
    blame: LegName | null;
    reason: string;
  } | null;
  /** Failing cases whose wrong backward is another op's (that op's own fuzzing reports it). */
  elsewhere: number;
  /** Property evaluations spent shrinking a counterexample. */
  shrinks: number;
  found: boolean;
  /** This op's shrunk counterexample. */
  counterexample: Counterexample | null;
  /** fast-check gave up: too many inconclusive cases in a row. */
  gaveUp: boolean;
  /** With `path`: why it ran no case of this op (the path names none of its cases), else null. */
  notAtPath: string | null;
  ms: number;
  /** Milliseconds until the first failing case was generated (before shrinking). */
  msToDetection: number | null;
}

export interface LegValues {
  readonly symbolic: NestedArray | null;
  readonly numeric: NestedArray | null;
  readonly autograd: NestedArray | null;
  readonly numericError: NestedArray | null;
}

export interface Counterexample {
  /** The op being fuzzed when the case was found. */
  readonly op: string;
  readonly expr: string;
  readonly at: Point;
  readonly value: number | null;
  readonly verdict: "disagree" | "error";
  readonly blame: LegName | null;
  readonly reason: string;
  /** Per input: the three legs' gradients. */
  readonly gradients: Record<string, LegValues>;
  /**
   * The full report of the shrunk case (null when `check` itself threw), with the formulas its
   * replay `check` shows.
   */
  readonly report: Report | null;
  readonly seed: number;
  readonly path: string;
  readonly replay: {
    /** `gradtrio fuzz --ops FILE --seed S --path P` */
    readonly fuzz: string;
    /** `gradtrio check 'EXPR' --at x=… --ops FILE` */
    readonly check: string;
  };
}

export interface FuzzResult {
  /**
   * No counterexample and every op passed its sanity check (`gradtrio fuzz` exits 0). Test this,
   * not `found`: an op that failed its sanity check has no counterexample.
   */
  readonly ok: boolean;
  /** The first op's counterexample, or null. */
  readonly found: Counterexample | null;
  /** Cases run over all ops. */
  readonly runs: number;
  readonly seed: number;
  readonly perOp: readonly OpStats[];
  readonly ms: number;
}

/** Shell-quotes a word when it needs it (single quotes, POSIX style). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * `gradtrio check 'EXPR' --at x=… --ops FILE…`: the command that checks one case (each ops
 * module once, none for an expression of built-ins; with the tolerances and `--strict` given).
 */
export function checkCommand(
  expr: string,
  at: Point,
  opsFiles: readonly string[],
  opts: { readonly rtol?: number; readonly atol?: number; readonly strict?: boolean } = {},
): string {
  const args = Object.entries(at).map(
    ([k, v]) =>
      `--at ${shellQuote(`${k}=${typeof v === "number" ? String(v) : JSON.stringify(v)}`)}`,
  );
  for (const f of opsFiles) args.push(`--ops ${shellQuote(f)}`);
  if (opts.rtol !== undefined) args.push(`--rtol ${opts.rtol}`);
  if (opts.atol !== undefined) args.push(`--atol ${opts.atol}`);
  if (opts.strict === true) args.push("--strict");
  return `gradtrio check ${shellQuote(expr)} ${args.join(" ")}`;
}

/** Every option of `fuzz` (the type keeps the list complete). */
const FUZZ_OPTIONS = Object.keys({
  ops: true,
  runs: true,
  seed: true,
  maxDepth: true,
  path: true,
  rtol: true,
  atol: true,
  opsFile: true,
  onSanityFailure: true,
  sweepPoints: true,
  onProgress: true,
} satisfies Record<keyof FuzzOptions, true>);

function validate(opts: FuzzOptions): { runs: number; seed: number; maxDepth: number } {
  if (typeof opts !== "object" || opts === null)
    throw new GradtrioError("INVALID_ARGUMENT", "fuzz: give the options as { ops: [...] }");
  checkOptionNames(opts, FUZZ_OPTIONS, "fuzz");
  const runs = opts.runs ?? DEFAULT_RUNS;
  if (!isIntegerIn(runs, 1, MAX_RUNS))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `runs must be an integer from 1 to ${MAX_RUNS}, got ${runs}`,
    );
  const seed = opts.seed ?? (Math.random() * 0x7fffffff) | 0;
  // Non-negative, as the CLI, check and a gate config take it: fast-check reads a seed's low 32
  // bits as a signed integer, so −s and 2³² − s would run the same fuzz.
  if (!isIntegerIn(seed, 0, Number.MAX_SAFE_INTEGER))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `seed must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${seed}`,
    );
  if (![undefined, "throw", "report"].includes(opts.onSanityFailure))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `onSanityFailure must be "report" or "throw", got ${JSON.stringify(opts.onSanityFailure)}`,
    );
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!isIntegerIn(maxDepth, 1, MAX_DEPTH))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `max depth must be an integer from 1 to ${MAX_DEPTH}, got ${maxDepth}`,
    );
  const points = opts.sweepPoints ?? SWEEP_POINTS;
  if (!isIntegerIn(points, 1, Number.POSITIVE_INFINITY))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `sweep points must be a positive integer, got ${points}`,
    );
  if (opts.path !== undefined) checkPath(opts.path, points);
  return { runs, seed, maxDepth };
}

/**
 * A replay path as a counterexample reports it: `sweep:K` (point K of the op's sweep) or
 * `K:i:j…` (case K of the stream, then its i-th shrink, that one's j-th…). Throws a GradtrioError
 * naming what is wrong: a part that is empty or no whole number, a case or point past the last
 * one. Whether the shrinks exist is known when the case is replayed (`shrinkCase`).
 */
function checkPath(path: unknown, points: number): void {
  const bad = (why: string) =>
    new GradtrioError(
      "INVALID_ARGUMENT",
      `path '${String(path)}': ${why} (a path looks like 12:0:3 or sweep:42, as a counterexample reports it)`,
    );
  if (typeof path !== "string") throw bad("not a string");
  if (path.trim() === "") throw bad("empty");
  const sweep = path.startsWith("sweep:");
  const parts = (sweep ? path.slice(6) : path).split(":");
  if (sweep && parts.length > 1) throw bad("a sweep point has no shrink steps");
  parts.forEach((part, k) => {
    const what = sweep ? "the sweep point" : k === 0 ? "the case index" : `shrink step ${k}`;
    if (part === "")
      throw bad(`${what} is empty${k === parts.length - 1 && k > 0 ? " (a trailing ':')" : ""}`);
    if (!/^\d+$/.test(part)) throw bad(`${what} '${part}' is not a whole number ≥ 0`);
  });
  const first = Number(parts[0]);
  // A sweep point past the sweep's end is no case: replaying it would report nothing checked.
  if (sweep && first >= points)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `path '${path}' is no case: the sweep has points sweep:0 to sweep:${points - 1}`,
    );
  // Reaching case K skips the K before it: one past the last a fuzz runs would take hours.
  if (!sweep && first >= MAX_RUNS)
    throw bad(
      `case ${parts[0]} is past the last case a fuzz runs (at most ${MAX_RUNS} runs: cases 0 to ${MAX_RUNS - 1})`,
    );
}

type Outcome =
  | { kind: "agree" }
  | { kind: "inconclusive" }
  | { kind: "legDefect"; report: Report }
  | { kind: "fail"; report: Report | null; error: string | null };

function judgeCase(c: FuzzCase, opts: { rtol?: number; atol?: number }): Outcome {
  let report: Report;
  try {
    // check's own error estimates decide; ill-conditioned points come back inconclusive. The
    // symbolic leg composes each op's CAS derivative (derived once) instead of deriving anew.
    // A case's expression is checked once: its programs are not worth caching (programs.ts).
    report = usedOnce(() =>
      withComposedDerivatives(() => check(c.expr, { at: c.at, ...tolerances(opts) })),
    );
  } catch (e) {
    return { kind: "fail", report: null, error: firstLine(e) };
  }
  const { autograd, numeric } = report.legs;
  // A forward that throws at finite arguments inside the op's declared domain is convicted by
  // check itself, as a NaN there is (src/check/forward-fault.ts): its verdict and reason stand.
  const forwardConvicted = convictsAutograd(report) && autograd.cause?.phase === "forward";
  if (autograd.status === "error" && !forwardConvicted) {
    // A forward that throws elsewhere (outside its declared domain) is a bug of the op, but of no
    // one leg: it silences every leg that evaluates the function (numeric and autograd at least).
    if (numeric.status === "error" || autograd.cause?.phase === "forward")
      return {
        kind: "fail",
        report,
        error: `the op's forward threw: ${(numeric.status === "error" ? numeric.reason : autograd.reason) ?? "no reason given"}`,
      };
    // A backward that throws or returns garbage silences the autograd leg alone: that is a bug too.
    return { kind: "fail", report, error: `the autograd leg failed: ${autograd.reason}` };
  }
  // check's exit rule: a reference leg outvoted by the two others (autograd among them) is
  // gradtrio's own leg being wrong, not the op.
  const o = outcome(report);
  if (o === "fail") return { kind: "fail", report, error: null };
  if (o === "inconclusive") return { kind: "inconclusive" };
  return referenceOutvoted(report) ? { kind: "legDefect", report } : { kind: "agree" };
}

/**
 * Whether a failing case convicts autograd: blamed by the two references, or its leg failed (a
 * backward or forward that throws, a check that could not run), not a disagreement with no
 * majority. A shrink step keeps a conviction: it may not trade it for a weaker failure.
 */
function convicts(o: Outcome): boolean {
  return o.kind === "fail" && (o.report === null || o.error !== null || convictsAutograd(o.report));
}

/**
 * `report` with the display formulas (and their LaTeX) that `gradtrio check EXPR --at …` shows
 * for it. Judging composes derivatives and builds no formulas (a fifth of a case); a reported
 * case is derived once more, whole and from its printed text, as its replay `check` derives it.
 * The judged numbers stay as they are. No formula (null) where the replay would show none: the
 * CAS cannot derive the expression.
 */
function withFormulas(report: Report, expr: string, at: Point): Report {
  let sym: ReturnType<typeof symbolicLeg>;
  try {
    sym = symbolicLeg(parseCached(expr), toValues(at));
  } catch {
    return report;
  }
  if (sym.status !== "ok") return report;
  const gradients: Record<string, InputGradients> = {};
  for (const [name, g] of Object.entries(report.gradients))
    gradients[name] = { ...g, formula: sym.formulas.get(name) ?? null };
  return { ...report, gradients, latex: Object.fromEntries(sym.latex) };
}

/** The reported form of a failing case: called once per counterexample, after any shrinking. */
function counterexample(
  op: string,
  c: FuzzCase,
  outcome: Outcome,
  seed: number,
  path: string,
  maxDepth: number,
  opsFile: string,
): Counterexample {
  const expr = print(c.expr);
  const report =
    outcome.kind === "fail" && outcome.report !== null
      ? withFormulas(outcome.report, expr, c.at)
      : null;
  const error = outcome.kind === "fail" ? outcome.error : "the case no longer fails when replayed";
  const gradients: Record<string, LegValues> = {};
  for (const [name, g] of Object.entries(report?.gradients ?? {}))
    gradients[name] = {
      symbolic: g.symbolic,
      numeric: g.numeric,
      autograd: g.autograd,
      numericError: g.numericError,
    };
  const depth = maxDepth === DEFAULT_MAX_DEPTH ? "" : ` --max-depth ${maxDepth}`;
  return {
    op,
    expr,
    at: c.at,
    value: typeof report?.value === "number" ? report.value : null,
    verdict: report?.verdict === "disagree" && error === null ? "disagree" : "error",
    blame:
      error === null
        ? (report?.blame ?? null)
        : error.startsWith("the autograd")
          ? "autograd"
          : null,
    reason: error ?? report?.reason ?? "the legs disagree",
    gradients,
    report,
    seed,
    path,
    replay: {
      fuzz: `gradtrio fuzz --ops ${shellQuote(opsFile)} --seed ${seed} --path ${path}${depth}`,
      check: checkCommand(expr, c.at, [opsFile]),
    },
  };
}

/** What every task needs: the (registered) ops and the settings. All but `defs` is plain data. */
export interface FuzzContext {
  readonly defs: readonly OpDefinition[];
  readonly runs: number;
  readonly seed: number;
  readonly maxDepth: number;
  readonly sweepPoints: number;
  readonly path: string | undefined;
  readonly rtol?: number;
  readonly atol?: number;
  readonly opsFile: string;
}

/** One op's sweep: points screened, suspects sent to `check`, and what it found. */
export interface SweepOutcome {
  readonly points: number;
  readonly suspects: number;
  readonly shrinks: number;
  readonly ms: number;
  readonly counterexample: Counterexample | null;
}

/** A judged random expression (the case stream of one op, in order). */
export type CaseResult =
  | { readonly kind: "agree" | "inconclusive" | "fail" | "elsewhere" }
  | {
      readonly kind: "legDefect";
      readonly legDefect: NonNullable<OpStats["legDefect"]>;
    };

export interface ShrinkOutcome {
  readonly counterexample: Counterexample | null;
  readonly shrinks: number;
  /** The case at the path, judged before any shrinking (null: the path leads to no case). */
  readonly replayed: CaseResult | null;
  /** Why the path leads to no case of the op's stream (null: it leads to one). */
  readonly noCase: string | null;
}

/** A unit of fuzzing work: its result depends on the context and the task alone. */
export type FuzzTask =
  | { readonly kind: "sweep"; readonly op: number }
  | {
      readonly kind: "judge";
      readonly op: number;
      readonly trusted: readonly number[];
      readonly from: number;
      readonly to: number;
    }
  | {
      readonly kind: "shrink";
      readonly op: number;
      readonly trusted: readonly number[];
      readonly path: string;
    };

export type FuzzTaskResult = SweepOutcome | readonly CaseResult[] | ShrinkOutcome;

/** Suspects of one sweep sent to `check` before the op is taken to be right. */
const MAX_SUSPECTS = 16;

/**
 * Sweeps one op's domain (`sweep.ts`) and confirms the first suspects with `check` on the op
 * alone (`op(x)`, then `2.5*op(x)`: the incoming gradient the sweep used; a tensor op:
 * `sum(w*op(x))`, the cotangent w its screen used).
 */
export function sweepOp(ctx: FuzzContext, opIndex: number): SweepOutcome {
  const t0 = performance.now();
  const def = ctx.defs[opIndex]!;
  if (isTensorOp(def)) {
    const pointAt = tensorSweepPoints(def, ctx.seed, ctx.sweepPoints);
    return sweepLoop(ctx, def.name, t0, def.formula === undefined, (k) => {
      const p = pointAt(k);
      return tensorScreen(def, p) ? [aloneCase(def, p)] : [];
    });
  }
  const n = def.arity;
  const pts = sweepPoints(def, ctx.seed, ctx.sweepPoints);
  const formula = formulaDerivatives(def);
  const names = argNames(n);
  const vars = names.map((v) => variable(v));
  const exprs: Expr[] = [
    call(def.name, vars),
    call("mul", [num(SWEEP_GRAD), call(def.name, vars)]),
  ];
  const twoLegs = formula === null || formula.includes(null);
  return sweepLoop(ctx, def.name, t0, twoLegs, (k) => {
    // A plain array (what the op's backward is given), filled without an iterator.
    const args: number[] = [];
    for (let i = 0; i < n; i++) args.push(pts[k * n + i]!);
    if (screen(def, args, SWEEP_GRAD, formula) < 0) return [];
    const at: Point = Object.fromEntries(names.map((v, i) => [v, args[i]!]));
    return exprs.map((expr) => ({ expr, at }));
  });
}

/**
 * The sweep's points in order (only point K when replaying `sweep:K`): `suspect(k)` screens
 * point k, giving the checks that confirm it (none when it passes the screen); the first
 * confirmed case is shrunk to the fewest significant digits at which it still fails, and
 * reported with path `sweep:K`. With two legs (no formula to derive) a lone failing point may be
 * the finite differences misled by a kink a hair away: a second failing point corroborates (a
 * replay needs none).
 */
function sweepLoop(
  ctx: FuzzContext,
  op: string,
  t0: number,
  twoLegs: boolean,
  suspect: (k: number) => readonly FuzzCase[],
): SweepOutcome {
  const only = ctx.path?.startsWith("sweep:") === true ? Number(ctx.path.slice(6)) : undefined;
  const needed = only === undefined && twoLegs ? 2 : 1;
  let first: { k: number; c: FuzzCase; outcome: Outcome } | null = null;
  let confirmed = 0;
  let suspects = 0;
  let shrinks = 0;
  let screened = 0;
  const end = only === undefined ? ctx.sweepPoints : Math.min(only + 1, ctx.sweepPoints);
  for (let k = only ?? 0; k < end && suspects < MAX_SUSPECTS && confirmed < needed; k++) {
    screened++;
    const cases = suspect(k);
    if (cases.length === 0) continue;
    suspects++;
    for (const c of cases) {
      const outcome = judgeCase(c, ctx);
      if (outcome.kind !== "fail") continue;
      confirmed++;
      if (first !== null) break;
      first = { k, c, outcome };
      for (let d = 1; d < 17; d++) {
        const short = roundCase(c, d);
        if (JSON.stringify(short.at) === JSON.stringify(c.at)) break;
        shrinks++;
        const o = judgeCase(short, ctx);
        if (o.kind === "fail" && (convicts(o) || !convicts(outcome))) {
          first = { k, c: short, outcome: o };
          break;
        }
      }
      break;
    }
  }
  const found = confirmed < needed ? null : first;
  return {
    points: screened,
    suspects,
    shrinks,
    ms: performance.now() - t0,
    counterexample:
      found === null
        ? null
        : counterexample(
            op,
            found.c,
            found.outcome,
            ctx.seed,
            `sweep:${found.k}`,
            ctx.maxDepth,
            ctx.opsFile,
          ),
  };
}

/** Relative deviation below which a backward counts as exact (the formula rounds too). */
const EXACT_BACKWARD = 2 ** -42;

/**
 * Whose backward a failing case convicts: an op with a call failing the screen at its own
 * arguments (the focus first); else the op whose backward strays furthest (`backwardDeviation`).
 * Each call is screened with the gradient it received in the case's reverse pass (a backward may
 * be wrong only for some: `|grad|` for `grad`), SWEEP_GRAD where that is 0 or not to be had.
 */
function culprit(c: FuzzCase, focus: OpDefinition): "focus" | "other" {
  const values = toValues(c.at);
  const calls: { e: CallExpr; def: CustomOpDefinition }[] = [];
  for (const e of postOrder(c.expr)) {
    if (e.kind !== "call" || isBuiltinOp(e.op)) continue;
    const def = lookupCustomOp(e.op);
    // A tensor op is fuzzed in expressions of its own (no other custom op in them).
    if (def !== undefined && !isTensorOp(def)) calls.push({ e, def });
  }
  let upstream: (Float64Array | null)[] = [];
  try {
    upstream = upstreamGradients(
      c.expr,
      values,
      calls.map(({ e }) => e),
    );
  } catch {
    // a backward that throws: its op is screened as in the sweep
  }
  let otherFlagged = false;
  let focusDeviation = 0;
  let otherDeviation = 0;
  for (let k = 0; k < calls.length; k++) {
    const { e, def } = calls[k]!;
    const args = e.args.map((a) => evaluate(a, values).data[0]!);
    if (!args.every(Number.isFinite)) continue;
    const g = upstream[k]?.[0];
    const grad = g !== undefined && g !== 0 && Number.isFinite(g) ? g : SWEEP_GRAD;
    const formula = formulaDerivatives(def);
    if (screen(def, args, grad, formula) >= 0) {
      if (def === focus) return "focus";
      otherFlagged = true;
    } else if (!otherFlagged) {
      const deviation = backwardDeviation(def, args, grad, formula);
      if (def === focus) focusDeviation = Math.max(focusDeviation, deviation);
      else otherDeviation = Math.max(otherDeviation, deviation);
    }
  }
  if (otherFlagged) return "other";
  return otherDeviation > Math.max(focusDeviation, EXACT_BACKWARD) ? "other" : "focus";
}

/**
 * `c` judged for `focus`. With `convicting` (shrinking a case that convicts autograd), a failure
 * that does not convict it is no counterexample: inconclusive, which the shrinker passes over.
 */
function judgeFor(
  ctx: FuzzContext,
  focus: OpDefinition,
  c: FuzzCase,
  convicting = false,
): CaseResult {
  const o = judgeCase(c, ctx);
  if (o.kind === "fail" && convicting && !convicts(o)) return { kind: "inconclusive" };
  if (o.kind === "fail") return { kind: culprit(c, focus) === "other" ? "elsewhere" : "fail" };
  if (o.kind === "legDefect")
    return {
      kind: "legDefect",
      legDefect: {
        expr: o.report.expr,
        at: c.at,
        blame: o.report.blame,
        reason: o.report.reason ?? "",
      },
    };
  return { kind: o.kind };
}

function caseArbitrary(
  ctx: FuzzContext,
  opIndex: number,
  trusted: readonly number[],
): fc.Arbitrary<FuzzCase> {
  return fuzzCaseArbitrary({
    ops: trusted.map((i) => ctx.defs[i]!),
    focus: ctx.defs[opIndex]!,
    variables: DEFAULT_VARIABLES,
    maxDepth: ctx.maxDepth,
  });
}

/**
 * The case streams generated so far, per context, op and trusted set. A case once judged is let
 * go (`undefined`): what the legs cache per expression (compiled programs, formulas) is keyed by
 * the case's expression, and would otherwise stay alive for the whole fuzz (~40 KB a case).
 */
const streams = new WeakMap<FuzzContext, Map<string, (FuzzCase | undefined)[]>>();

/**
 * Cases `from`…`to − 1` of one op's stream (the same cases fast-check's `check` generates);
 * `judged`: they are being judged, and the stream lets them go.
 */
export function casesOf(
  ctx: FuzzContext,
  opIndex: number,
  trusted: readonly number[],
  from: number,
  to: number,
  judged = false,
): FuzzCase[] {
  let byKey = streams.get(ctx);
  if (byKey === undefined) streams.set(ctx, (byKey = new Map()));
  const key = `${opIndex}|${trusted.join(",")}`;
  let cases = byKey.get(key);
  if (cases === undefined) byKey.set(key, (cases = []));
  if (cases.length < to) {
    // Grown by doubling, each case generated once: fast-check's path N is the stream from its
    // case N on (the rng jumps over the cases before it without generating them).
    const numRuns = Math.max(to, Math.min(ctx.runs, Math.max(64, 2 * cases.length)));
    const more = fc.sample(caseArbitrary(ctx, opIndex, trusted), {
      ...fastCheckSeed(ctx.seed),
      numRuns: numRuns - cases.length,
      path: String(cases.length),
    });
    for (const c of more) cases.push(c);
  }
  let out = cases.slice(from, to);
  // Asked again for cases let go (the case in flight of an interrupted run): made anew.
  if (out.includes(undefined))
    out = fc.sample(caseArbitrary(ctx, opIndex, trusted), {
      ...fastCheckSeed(ctx.seed),
      numRuns: to - from,
      path: String(from),
    });
  if (judged) cases.fill(undefined, from, to);
  return out as FuzzCase[];
}

/** Judges cases `from`…`to − 1` of an op's stream, up to the first failing one. */
export function judgeCases(
  ctx: FuzzContext,
  opIndex: number,
  trusted: readonly number[],
  from: number,
  to: number,
): CaseResult[] {
  const focus = ctx.defs[opIndex]!;
  const out: CaseResult[] = [];
  for (const c of casesOf(ctx, opIndex, trusted, from, to, true)) {
    const r = judgeFor(ctx, focus, c);
    out.push(r);
    if (r.kind === "fail") break;
  }
  return out;
}

/**
 * Replays the case at `path` (a case index, or a reported path) and, if it fails, shrinks it.
 * The case alone is judged first: one that passes is the answer (fast-check, given a path, would
 * go on to the cases after it), with no shrinks. A path that is no case of this op's stream (a
 * shrink step past the shrinks there are) comes back as `noCase`, saying why.
 */
export function shrinkCase(
  ctx: FuzzContext,
  opIndex: number,
  trusted: readonly number[],
  path: string,
): ShrinkOutcome {
  const focus = ctx.defs[opIndex]!;
  let evaluations = 0;
  const arbitrary = caseArbitrary(ctx, opIndex, trusted);
  // Set once the case at the path is judged: its shrinks keep a conviction of autograd.
  let convicting = false;
  const property = fc.property(arbitrary, (c) => {
    evaluations++;
    const r = judgeFor(ctx, focus, c, convicting);
    fc.pre(r.kind !== "inconclusive");
    return r.kind !== "fail";
  });
  // The property's stream: its arbitrary in a tuple (as fc.property has it).
  const stream = fc.tuple(arbitrary);
  const first = caseAt(stream, ctx.seed, path);
  if (first === null)
    return {
      counterexample: null,
      shrinks: 0,
      replayed: null,
      noCase: noCase(stream, ctx.seed, path),
    };
  const replayed = judgeFor(ctx, focus, first);
  if (replayed.kind !== "fail") return { counterexample: null, shrinks: 0, replayed, noCase: null };
  convicting = convicts(judgeCase(first, ctx));
  const details = fc.check(property, { ...fastCheckSeed(ctx.seed), numRuns: ctx.runs, path });
  if (!details.failed || details.counterexample === null)
    return { counterexample: null, shrinks: Math.max(0, evaluations - 1), replayed, noCase: null };
  const c = details.counterexample[0];
  return {
    counterexample: counterexample(
      focus.name,
      c,
      judgeCase(c, ctx),
      ctx.seed,
      details.counterexamplePath ?? path,
      ctx.maxDepth,
      ctx.opsFile,
    ),
    shrinks: Math.max(0, evaluations - 1),
    replayed,
    noCase: null,
  };
}

type CaseStream = fc.Arbitrary<[FuzzCase]>;

/** The case at `path` of a property's stream (null: the path leads to none). */
function caseAt(stream: CaseStream, seed: number, path: string): FuzzCase | null {
  return casesAt(stream, seed, path, 1)[0] ?? null;
}

/** Up to `count` cases from `path` on: its case and the ones after it in the same list. */
function casesAt(stream: CaseStream, seed: number, path: string, count: number): FuzzCase[] {
  try {
    return fc.sample(stream, { ...fastCheckSeed(seed), path, numRuns: count }).map(([c]) => c);
  } catch (e) {
    // A shrink step before the last one past the shrinks there are.
    if (e instanceof Error && e.message.startsWith("Unable to replay")) return [];
    throw e;
  }
}

/** Why `path` leads to no case: the first shrink step past the shrinks of the case before it. */
function noCase(stream: CaseStream, seed: number, path: string): string {
  const parts = path.split(":");
  for (let k = 1; k < parts.length; k++) {
    const at = parts.slice(0, k).join(":");
    const step = Number(parts[k]);
    const shrinks = casesAt(stream, seed, `${at}:0`, Math.min(step + 1, MAX_RUNS)).length;
    if (shrinks <= step)
      return shrinks === 0
        ? `case ${at} shrinks no further: there is no ${at}:${parts[k]}`
        : `case ${at} has ${shrinks} shrink${shrinks === 1 ? "" : "s"}, ${at}:0 to ${at}:${shrinks - 1}: there is no ${at}:${parts[k]}`;
  }
  return `there is no case ${path}`;
}

/** Runs one task in this process. */
export function runTask(ctx: FuzzContext, task: FuzzTask): FuzzTaskResult {
  if (task.kind === "sweep") return sweepOp(ctx, task.op);
  if (task.kind === "judge") return judgeCases(ctx, task.op, task.trusted, task.from, task.to);
  return shrinkCase(ctx, task.op, task.trusted, task.path);
}

/** Counts a judged case in its op's statistics; false (nothing counted) for a failing one. */
function tally(s: OpStats, r: CaseResult): boolean {
  if (r.kind === "fail") return false;
  if (r.kind === "agree") s.agree++;
  else if (r.kind === "inconclusive") s.inconclusive++;
  else if (r.kind === "elsewhere") s.elsewhere++;
  else if (r.kind === "legDefect") {
    s.legDefects++;
    s.legDefect ??= r.legDefect;
  }
  return true;
}

/**
 * The fuzzing of every op as rounds of independent tasks: sweeps, then the random expressions in
 * chunks of `chunk` cases (`width` chunks per op per round), then the shrinking of each op's
 * first failing case. Yields each round's tasks and takes their results in the same order; fills
 * in the per-op statistics. The result depends on the seed alone, not on `width`, `chunk` or on
 * who ran the tasks.
 */
export function* fuzzRounds(
  ctx: FuzzContext,
  perOp: OpStats[],
  width: number,
  onProgress?: (p: FuzzProgress) => void,
  chunk = 1,
): Generator<FuzzTask[], void, FuzzTaskResult[]> {
  const progress = (i: number, phase: FuzzProgress["phase"]) =>
    onProgress?.({
      op: perOp[i]!.op,
      opIndex: i,
      opCount: perOp.length,
      phase,
      runs: perOp[i]!.runs,
      totalRuns: ctx.runs,
      failures: perOp.filter((s) => s.found || s.sanityError !== null).length,
    });
  const sane = perOp.flatMap((s, i) => (s.sanityError === null ? [i] : []));
  for (const op of sane) progress(op, "start");
  const sweeps = (yield sane.map((op) => ({ kind: "sweep" as const, op }))) as SweepOutcome[];
  sane.forEach((op, k) => {
    const r = sweeps[k]!;
    const s = perOp[op]!;
    s.sweep = { points: r.points, suspects: r.suspects, ms: r.ms };
    s.shrinks += r.shrinks;
    s.ms += r.ms;
    if (r.counterexample !== null) {
      s.found = true;
      s.counterexample = r.counterexample;
      s.msToDetection = r.ms;
    }
    progress(op, "sweep");
    if (s.found) progress(op, "done");
  });
  if (ctx.path?.startsWith("sweep:") === true) {
    for (const op of sane) if (!perOp[op]!.found) progress(op, "done");
    return;
  }
  // An op that failed alone stays out of the others' expressions: it would fail them.
  const trusted = sane.filter((op) => !perOp[op]!.found);
  if (ctx.path !== undefined) {
    const out = (yield trusted.map((op) => ({
      kind: "shrink" as const,
      op,
      trusted,
      path: ctx.path!,
    }))) as ShrinkOutcome[];
    const why = out.find((o) => o.noCase !== null)?.noCase;
    if (why !== undefined && out.every((o) => o.noCase !== null)) {
      const op = trusted.length === 1 ? "" : ` for any op (op '${perOp[trusted[0]!]!.op}': `;
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `path '${ctx.path}' is no case of seed ${ctx.seed}${op === "" ? `: ${why}` : `${op}${why})`}`,
      );
    }
    trusted.forEach((op, k) => {
      const s = perOp[op]!;
      const o = out[k]!;
      // An op whose stream has no case at the path (another op's counterexample) ran none.
      if (o.replayed !== null) {
        s.runs = 1;
        tally(s, o.replayed);
        s.shrinks += o.shrinks;
        s.counterexample = o.counterexample;
        s.found = s.counterexample !== null;
      } else s.notAtPath = `path '${ctx.path}' names no case of this op: ${o.noCase}`;
      progress(op, "done");
    });
    return;
  }
  const next = new Map(trusted.map((op) => [op, 0]));
  const t0 = performance.now();
  // Each op's time: its sweep's, then the expressions' so far (read on Ctrl-C), then in all.
  const swept = new Map(trusted.map((op) => [op, perOp[op]!.ms]));
  const elapsed = (op: number) => {
    perOp[op]!.ms = swept.get(op)! + performance.now() - t0;
  };
  while (next.size > 0) {
    const tasks: FuzzTask[] = [];
    for (const [op, from] of next)
      for (let w = 0, f = from; w < width && f < ctx.runs; w++, f += chunk)
        tasks.push({ kind: "judge", op, trusted, from: f, to: Math.min(f + chunk, ctx.runs) });
    const results = (yield tasks) as (readonly CaseResult[])[];
    /** Ops whose stream failed this round, with the failing case's index. */
    const failing: [number, number][] = [];
    for (const op of [...next.keys()]) {
      const s = perOp[op]!;
      let failed = -1;
      for (let k = 0; k < tasks.length && failed < 0; k++) {
        const t = tasks[k]!;
        if (t.op !== op || t.kind !== "judge") continue;
        for (const [j, r] of results[k]!.entries()) {
          s.runs++;
          if (!tally(s, r)) {
            failed = t.from + j;
            break;
          }
          progress(op, "run");
        }
        next.set(op, t.to);
      }
      if (failed >= 0) {
        s.found = true;
        s.msToDetection = performance.now() - t0;
        failing.push([op, failed]);
        next.delete(op);
      } else if (next.get(op)! >= ctx.runs) {
        next.delete(op);
        const conclusive = s.runs - s.inconclusive;
        s.gaveUp = conclusive * 10 < s.runs;
        elapsed(op);
        progress(op, "done");
      } else elapsed(op);
    }
    if (failing.length === 0) continue;
    for (const [op] of failing) progress(op, "shrink");
    const shrunk = (yield failing.map(([op, index]) => ({
      kind: "shrink" as const,
      op,
      trusted,
      path: String(index),
    }))) as ShrinkOutcome[];
    failing.forEach(([op], k) => {
      const s = perOp[op]!;
      s.shrinks += shrunk[k]!.shrinks;
      s.counterexample = shrunk[k]!.counterexample;
      elapsed(op);
      progress(op, "done");
    });
  }
}

/**
 * Validates the options, resolves the ops and runs each one's sanity check: the context of the
 * fuzz's tasks and its per-op statistics (empty but for the sanity checks).
 * Throws a GradtrioError for bad options, and for an op that fails its sanity check when
 * `onSanityFailure` is "throw".
 */
export function prepareFuzz(opts: FuzzOptions): { ctx: FuzzContext; perOp: OpStats[] } {
  const { runs, seed, maxDepth } = validate(opts);
  if (!Array.isArray(opts.ops))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `fuzz: ops must be an array of ops (made with defineOp, or registered names), got ${opts.ops === null ? "null" : typeof opts.ops}${typeof opts.ops === "string" ? " (a module's ops are its exports: import them, or run gradtrio fuzz --ops FILE)" : ""}`,
    );
  if (opts.ops.length === 0)
    throw new GradtrioError("INVALID_ARGUMENT", "fuzz: give at least one op");
  const defs: OpDefinition[] = [...new Set(opts.ops.map(resolveOp))];
  const ctx: FuzzContext = {
    defs,
    runs,
    seed,
    maxDepth,
    sweepPoints: opts.sweepPoints ?? SWEEP_POINTS,
    path: opts.path,
    ...tolerances(opts),
    opsFile: opts.opsFile ?? "FILE",
  };
  // Every op is checked alone before any is fuzzed: a broken definition is bad input.
  const perOp = defs.map((def): OpStats => {
    let sanity: SanityReport | null = null;
    let sanityError: string | null = null;
    try {
      sanity = isTensorOp(def) ? tensorSanityCheck(def, { seed }) : sanityCheck(def, { seed });
    } catch (e) {
      if (opts.onSanityFailure === "throw") throw e;
      sanityError = firstLine(e);
    }
    return {
      op: def.name,
      sanity,
      sanityError,
      sweep: { points: 0, suspects: 0, ms: 0 },
      runs: 0,
      agree: 0,
      inconclusive: 0,
      legDefects: 0,
      legDefect: null,
      elsewhere: 0,
      shrinks: 0,
      found: false,
      counterexample: null,
      gaveUp: false,
      notAtPath: null,
      ms: 0,
      msToDetection: null,
    };
  });
  return { ctx, perOp };
}

/** The result of a finished fuzz: the first op's counterexample first. */
export function fuzzResult(ctx: FuzzContext, perOp: readonly OpStats[], ms: number): FuzzResult {
  const found = perOp.find((s) => s.counterexample !== null)?.counterexample ?? null;
  return {
    ok: found === null && perOp.every((s) => s.sanityError === null),
    found,
    runs: perOp.reduce((a, s) => a + s.runs, 0),
    seed: ctx.seed,
    perOp,
    ms,
  };
}

/**
 * Fuzzes custom ops, every one of them: per op `sanityCheck`, a sweep of its domain, then `runs`
 * random expressions around it, each checked three ways; per op the first failure, shrunk to a
 * minimal case. An op that fails its sanity check is reported (`perOp[i].sanityError`) and not
 * fuzzed, the others are, as `gradtrio fuzz` does: `ok` is false then, though `found` may be null.
 * Throws a GradtrioError for bad options (or, with `onSanityFailure: "throw"`, such an op).
 *
 * @example
 * ```ts
 * const r = fuzz({ ops: [cube], runs: 100, seed: 42 });
 * r.ok;            // false: a counterexample, or an op that failed its sanity check
 * r.found?.expr;   // e.g. "sin(cube(x))"
 * r.found?.blame;  // "autograd"
 * r.found?.replay.fuzz; // "gradtrio fuzz --ops FILE --seed 42 --path 3:0:1"
 * ```
 */
export function fuzz(opts: FuzzOptions): FuzzResult {
  const t0 = performance.now();
  const { ctx, perOp } = prepareFuzz(opts);
  const rounds = fuzzRounds(ctx, perOp, 1, opts.onProgress);
  let round = rounds.next();
  while (round.done !== true) round = rounds.next(round.value.map((t) => runTask(ctx, t)));
  return fuzzResult(ctx, perOp, performance.now() - t0);
}
