/**
 * The fuzzer: for each custom op, a sanity check of the op alone, then random expressions around
 * it (fast-check), each judged by the three-way `check`. A disagreement is shrunk to a minimal
 * expression and point and comes back with a replay (seed and path). Inconclusive points (kinks,
 * singularities) are not bugs: the property skips them (`fc.pre`).
 */
import fc from "fast-check";
import { check } from "../check/check.ts";
import type { Report } from "../check/report.ts";
import type { LegName } from "../check/verdict.ts";
import { GradtrioError } from "../errors.ts";
import type { CustomOpDefinition } from "../expr/ops.ts";
import type { NestedArray, Point } from "../expr/point.ts";
import { print } from "../expr/print.ts";
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_VARIABLES,
  type FuzzCase,
  fuzzCaseArbitrary,
} from "./arbitraries.ts";
import { tolerances } from "./config.ts";
import { firstLine } from "./load.ts";
import { type OpLike, resolveOp } from "./op-like.ts";
import { type SanityReport, sanityCheck } from "./sanity.ts";

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
  /** Fuzz every op even after a counterexample (each op's own is in `perOp`). Default false. */
  readonly keepGoing?: boolean;
  /** Called after each evaluated case (and once when an op starts and ends). */
  readonly onProgress?: (p: FuzzProgress) => void;
}

export interface FuzzProgress {
  readonly op: string;
  /** 0-based index of the op being fuzzed, and how many ops there are. */
  readonly opIndex: number;
  readonly opCount: number;
  readonly phase: "start" | "run" | "shrink" | "done";
  /** Cases run for this op so far (skipped inconclusive ones included), out of `runs`. */
  readonly runs: number;
  readonly totalRuns: number;
  /** Ops with a counterexample so far. */
  readonly failures: number;
}

export interface OpStats {
  readonly op: string;
  readonly sanity: SanityReport;
  /** Cases generated before the verdict (or all of them). */
  runs: number;
  agree: number;
  /** Skipped: a kink, a singularity, a point outside a domain. */
  inconclusive: number;
  /**
   * Cases where the numeric or the symbolic leg was outvoted by the two others: a defect of
   * gradtrio's leg, not of the op (not counted as a counterexample). The first one is kept.
   */
  legDefects: number;
  legDefect: { expr: string; at: Point; blame: LegName; reason: string } | null;
  /** Property evaluations spent shrinking a counterexample. */
  shrinks: number;
  found: boolean;
  /** This op's shrunk counterexample. */
  counterexample: Counterexample | null;
  /** fast-check gave up: too many inconclusive cases in a row. */
  gaveUp: boolean;
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
  /** The full report of the shrunk case (null when `check` itself threw). */
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

function checkCommand(expr: string, at: Point, opsFile: string): string {
  const args = Object.entries(at).map(
    ([k, v]) =>
      `--at ${shellQuote(`${k}=${typeof v === "number" ? String(v) : JSON.stringify(v)}`)}`,
  );
  return `gradtrio check ${shellQuote(expr)} ${args.join(" ")} --ops ${shellQuote(opsFile)}`;
}

function validate(opts: FuzzOptions): { runs: number; seed: number; maxDepth: number } {
  const runs = opts.runs ?? DEFAULT_RUNS;
  if (!Number.isInteger(runs) || runs < 1)
    throw new GradtrioError("INVALID_ARGUMENT", `runs must be a positive integer, got ${runs}`);
  const seed = opts.seed ?? (Math.random() * 0x7fffffff) | 0;
  if (!Number.isInteger(seed))
    throw new GradtrioError("INVALID_ARGUMENT", `seed must be an integer, got ${seed}`);
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 8)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `max depth must be an integer from 1 to 8, got ${maxDepth}`,
    );
  if (opts.path !== undefined && !/^\d+(:\d+)*$/.test(opts.path))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `path must look like 12:0:3 (as a counterexample reports it), got '${opts.path}'`,
    );
  return { runs, seed, maxDepth };
}

type Outcome =
  | { kind: "agree" }
  | { kind: "inconclusive" }
  | { kind: "legDefect"; report: Report }
  | { kind: "fail"; report: Report | null; error: string | null };

function judgeCase(c: FuzzCase, opts: FuzzOptions): Outcome {
  let report: Report;
  try {
    // check's own error estimates decide; ill-conditioned points come back inconclusive.
    report = check(c.expr, { at: c.at, ...tolerances(opts) });
  } catch (e) {
    return { kind: "fail", report: null, error: firstLine(e) };
  }
  const { autograd, numeric } = report.legs;
  if (autograd.status === "error") {
    // A forward that throws inside the op's domain is a bug of the op, but of no one leg: it
    // silences every leg that evaluates the function (numeric and autograd at least).
    if (numeric.status === "error" || autograd.reason?.includes(": its forward threw: "))
      return {
        kind: "fail",
        report,
        error: `the op's forward threw: ${(numeric.status === "error" ? numeric.reason : autograd.reason) ?? "no reason given"}`,
      };
    // A backward that throws or returns garbage silences the autograd leg alone: that is a bug too.
    return { kind: "fail", report, error: `the autograd leg failed: ${autograd.reason}` };
  }
  // The numeric or the symbolic leg is outvoted by the two others (autograd among them):
  // gradtrio's own leg is wrong, not the op.
  if (report.verdict === "disagree" && (report.blame === "numeric" || report.blame === "symbolic"))
    return { kind: "legDefect", report };
  if (report.verdict === "disagree") return { kind: "fail", report, error: null };
  if (report.verdict === "inconclusive") return { kind: "inconclusive" };
  return { kind: "agree" };
}

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
  const report = outcome.kind === "fail" ? outcome.report : null;
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
    value: report?.value ?? null,
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
      check: checkCommand(expr, c.at, opsFile),
    },
  };
}

/**
 * Fuzzes custom ops: per op, `sanityCheck`, then `runs` random expressions around the op, each
 * checked three ways. Stops at the first counterexample, shrunk to a minimal case.
 * Throws a GradtrioError for bad options or an op that fails its sanity check.
 *
 * @example
 * ```ts
 * const r = fuzz({ ops: [cube], runs: 100, seed: 42 });
 * r.found?.expr;   // e.g. "sin(cube(x))"
 * r.found?.blame;  // "autograd"
 * r.found?.replay.fuzz; // "gradtrio fuzz --ops FILE --seed 42 --path 3:0:1"
 * ```
 */
export function fuzz(opts: FuzzOptions): FuzzResult {
  const { runs, seed, maxDepth } = validate(opts);
  if (!Array.isArray(opts.ops) || opts.ops.length === 0)
    throw new GradtrioError("INVALID_ARGUMENT", "fuzz: give at least one op");
  const defs: CustomOpDefinition[] = [...new Set(opts.ops.map(resolveOp))];
  const opsFile = opts.opsFile ?? "FILE";
  const t0 = performance.now();
  // Every op is checked alone before any is fuzzed: a broken definition is bad input.
  const sanity = defs.map((d) => sanityCheck(d, { seed }));
  const perOp: OpStats[] = [];
  let found: Counterexample | null = null;
  let total = 0;
  for (let i = 0; i < defs.length && (found === null || opts.keepGoing === true); i++) {
    const def = defs[i]!;
    const stats: OpStats = {
      op: def.name,
      sanity: sanity[i]!,
      runs: 0,
      agree: 0,
      inconclusive: 0,
      legDefects: 0,
      legDefect: null,
      shrinks: 0,
      found: false,
      counterexample: null,
      gaveUp: false,
      ms: 0,
      msToDetection: null,
    };
    perOp.push(stats);
    const tOp = performance.now();
    const progress = (phase: FuzzProgress["phase"]) =>
      opts.onProgress?.({
        op: def.name,
        opIndex: i,
        opCount: defs.length,
        phase,
        runs: stats.runs,
        totalRuns: runs,
        failures: perOp.filter((s) => s.found).length,
      });
    progress("start");
    let failing = false;
    const arb = fuzzCaseArbitrary({
      ops: defs,
      focus: def,
      variables: DEFAULT_VARIABLES,
      maxDepth,
    });
    const property = fc.property(arb, (c) => {
      const o = judgeCase(c, opts);
      if (failing) stats.shrinks++;
      else {
        stats.runs++;
        if (o.kind === "agree") stats.agree++;
        else if (o.kind === "inconclusive") stats.inconclusive++;
        else if (o.kind === "legDefect") {
          stats.legDefects++;
          stats.legDefect ??= {
            expr: o.report.expr,
            at: c.at,
            blame: o.report.blame!,
            reason: o.report.reason ?? "",
          };
        } else {
          failing = true;
          stats.found = true;
          stats.msToDetection = performance.now() - tOp;
        }
      }
      progress(failing ? "shrink" : "run");
      fc.pre(o.kind !== "inconclusive");
      return o.kind !== "fail";
    });
    const details = fc.check(property, {
      seed,
      numRuns: runs,
      ...(opts.path === undefined ? {} : { path: opts.path }),
    });
    stats.ms = performance.now() - tOp;
    total += stats.runs;
    if (details.failed && details.counterexample !== null) {
      const c = details.counterexample[0];
      stats.counterexample = counterexample(
        def.name,
        c,
        judgeCase(c, opts),
        seed,
        details.counterexamplePath ?? "",
        maxDepth,
        opsFile,
      );
      found ??= stats.counterexample;
    } else if (details.failed) stats.gaveUp = true;
    progress("done");
  }
  return { found, runs: total, seed, perOp, ms: performance.now() - t0 };
}
