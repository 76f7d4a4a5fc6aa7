/**
 * The gate: a project's gradient suite. Loads a config, runs its checks (at points, at random
 * points of a domain) and fuzzes its op modules, one result per check and per fuzzed op.
 * A check passes by `outcome` (autograd confirmed; an outvoted reference leg is reported, not
 * failed); inconclusive fails unless the entry allows it. An op that fails its sanity check, or
 * an entry that throws, is a failing result: every entry runs.
 */
import { dirname, resolve } from "node:path";
import fc from "fast-check";
import { check } from "../check/check.ts";
import { outcome, referenceOutvoted } from "../check/outcome.ts";
import type { Report } from "../check/report.ts";
import { GradtrioError, isGradtrioError } from "../errors.ts";
import { parse } from "../expr/parse.ts";
import { pointArbitrary } from "./arbitraries.ts";
import {
  type CheckEntry,
  DEFAULT_DOMAIN_RUNS,
  DEFAULT_GATE_SEED,
  type FuzzEntry,
  type GradtrioConfig,
  tolerances,
  validateConfig,
} from "./config.ts";
import { formatCounterexample, formatPoint, formatReport } from "./format.ts";
import { fuzz } from "./fuzz.ts";
import { exportedOps, firstLine, importModule, type LoadedOp, loadOps } from "./load.ts";

export interface GateEntryResult {
  readonly kind: "check" | "fuzz";
  /** The config path of the entry: `checks[0]`, `fuzz[1]`. */
  readonly path: string;
  readonly name: string;
  readonly passed: boolean;
  /**
   * One word or phrase: agree, disagree, inconclusive, "symbolic outvoted" / "numeric outvoted"
   * (a check that passes because autograd and the other reference outvote that leg), no
   * counterexample, counterexample.
   */
  readonly outcome: string;
  /** One line: where and why (the summary row and the JUnit failure message). */
  readonly summary: string;
  /** The report text (failures: the full report or counterexample). */
  readonly details: readonly string[];
  readonly ms: number;
}

export interface GateResult {
  readonly seed: number;
  readonly entries: readonly GateEntryResult[];
  readonly passed: number;
  readonly failed: number;
}

/**
 * Loads and validates a config module (its default export), and registers every op the module
 * itself exports, so that its checks may call them (the module loads with its own copy of the
 * registry). Throws a GradtrioError: IO when missing, MODULE when it throws, INVALID_ARGUMENT
 * (with the entry's path) when malformed.
 */
export async function loadConfig(
  file: string,
  cwd: string,
): Promise<{ config: GradtrioConfig; dir: string; ops: LoadedOp[] }> {
  const mod = await importModule(file, cwd, "config");
  if (!("default" in mod))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `config '${file}' has no default export: export default defineConfig({ … })`,
    );
  const config = validateConfig(mod.default);
  const ops = exportedOps(mod);
  return { config, dir: dirname(resolve(cwd, file)), ops };
}

/** The check rule (`outcome`), with an inconclusive verdict passing where the entry allows it. */
function verdictPasses(r: Report, entry: CheckEntry): boolean {
  const o = outcome(r, { strict: entry.strict === true });
  return o === "pass" || (o === "inconclusive" && entry.allowInconclusive === true);
}

function rethrow(path: string, e: unknown): never {
  if (isGradtrioError(e))
    throw new GradtrioError(e.code, `config: ${path}: ${e.message}`, {
      ...(e.pos === undefined ? {} : { pos: e.pos }),
      ...(e.source === undefined ? {} : { source: e.source }),
    });
  throw e;
}

function runCheck(entry: CheckEntry, path: string, seed: number): GateEntryResult {
  const t0 = performance.now();
  const name = entry.name ?? entry.expr;
  let report: Report;
  let where: string;
  try {
    if ("at" in entry) {
      report = check(entry.expr, { at: entry.at, ...tolerances(entry) });
      where = `at ${formatPoint(entry.at)}`;
    } else {
      const runs = entry.runs ?? DEFAULT_DOMAIN_RUNS;
      let last: Report | null = null;
      const details = fc.check(
        fc.property(pointArbitrary(entry.domain), (at) => {
          last = check(entry.expr, { at, ...tolerances(entry) });
          return verdictPasses(last, entry);
        }),
        { seed, numRuns: runs },
      );
      if (details.failed && details.counterexample !== null) {
        report = check(entry.expr, { at: details.counterexample[0], ...tolerances(entry) });
        where = `at a random point (seed ${seed}, path ${details.counterexamplePath})`;
      } else {
        const error = (details as { errorInstance?: unknown }).errorInstance;
        if (details.failed && error !== undefined && error !== null) throw error;
        report = last!;
        where = `at ${runs} random points`;
      }
    }
  } catch (e) {
    rethrow(path, e);
  }
  const passed = verdictPasses(report, entry);
  // An outvoted reference passes, and says which leg and why.
  const shown = passed && referenceOutvoted(report) ? `${report.blame} outvoted` : report.verdict;
  return {
    kind: "check",
    path,
    name,
    passed,
    outcome: shown,
    summary:
      passed && shown === report.verdict
        ? `${shown} ${where}`
        : `${shown} ${where}${report.reason === null ? "" : `: ${report.reason}`}`,
    details: passed ? [] : formatReport(report),
    ms: performance.now() - t0,
  };
}

function runFuzz(
  entry: FuzzEntry,
  path: string,
  ops: readonly LoadedOp[],
  seed: number,
): GateEntryResult[] {
  const allOps = ops.map((o) => o.definition);
  let result: ReturnType<typeof fuzz>;
  try {
    result = fuzz({
      ops: allOps,
      seed,
      onSanityFailure: "report",
      opsFile: entry.ops,
      ...(entry.runs === undefined ? {} : { runs: entry.runs }),
      ...(entry.maxDepth === undefined ? {} : { maxDepth: entry.maxDepth }),
      ...tolerances(entry),
    });
  } catch (e) {
    rethrow(`${path} (${entry.ops})`, e);
  }
  const allow = entry.allowInconclusive === true;
  return result.perOp.map((s) => {
    const cx = s.counterexample;
    if (s.sanityError !== null)
      return {
        kind: "fuzz" as const,
        path,
        name: `${entry.name ?? entry.ops}: ${s.op}`,
        passed: false,
        outcome: "sanity check failed",
        summary: s.sanityError,
        details: [s.sanityError],
        ms: s.ms,
      };
    const gaveUp = s.gaveUp && !allow;
    const passed = cx === null && !gaveUp;
    const outcome = cx !== null ? "counterexample" : gaveUp ? "inconclusive" : "no counterexample";
    const summary =
      cx !== null
        ? `${cx.expr} at ${formatPoint(cx.at)}: blame ${cx.blame ?? "none"}: ${cx.reason}`
        : gaveUp
          ? `too many inconclusive cases (${s.inconclusive} of ${s.runs})`
          : `${s.runs} runs${s.inconclusive > 0 ? `, ${s.inconclusive} inconclusive skipped` : ""}`;
    return {
      kind: "fuzz" as const,
      path,
      name: `${entry.name ?? entry.ops}: ${s.op}`,
      passed,
      outcome,
      summary,
      details: cx !== null ? formatCounterexample(cx) : gaveUp ? [summary] : [],
      ms: s.ms,
    };
  });
}

/**
 * Runs a validated config. Ops modules load first (so checks may call their ops); a bad entry
 * throws a GradtrioError naming it (`config: checks[2]: …`).
 *
 * @example
 * ```ts
 * const r = await runGate(defineConfig({ checks: [{ expr: "x^2", at: { x: 3 } }] }), { dir: "." });
 * r.failed; // 0
 * ```
 */
export async function runGate(
  config: GradtrioConfig,
  opts: { dir: string; onEntry?: (r: GateEntryResult) => void },
): Promise<GateResult> {
  const c = validateConfig(config);
  const seed = c.seed ?? DEFAULT_GATE_SEED;
  const modules: LoadedOp[][] = [];
  for (const [i, f] of (c.fuzz ?? []).entries()) {
    try {
      modules.push(await loadOps(f.ops, opts.dir));
    } catch (e) {
      rethrow(`fuzz[${i}].ops`, e);
    }
  }
  for (const [i, e] of (c.checks ?? []).entries()) {
    try {
      parse(e.expr);
    } catch (err) {
      rethrow(`checks[${i}].expr`, err);
    }
  }
  const entries: GateEntryResult[] = [];
  const push = (r: GateEntryResult) => {
    entries.push(r);
    opts.onEntry?.(r);
  };
  // An entry that throws fails alone: every entry runs.
  const guarded = (
    path: string,
    kind: GateEntryResult["kind"],
    name: string,
    run: () => GateEntryResult[],
  ) => {
    const t0 = performance.now();
    try {
      for (const r of run()) push(r);
    } catch (e) {
      const summary = firstLine(e);
      push({
        kind,
        path,
        name,
        passed: false,
        outcome: "error",
        summary,
        details: [summary],
        ms: performance.now() - t0,
      });
    }
  };
  for (const [i, e] of (c.checks ?? []).entries())
    guarded(`checks[${i}]`, "check", e.name ?? e.expr, () => [runCheck(e, `checks[${i}]`, seed)]);
  for (const [i, e] of (c.fuzz ?? []).entries())
    guarded(`fuzz[${i}]`, "fuzz", e.name ?? e.ops, () =>
      runFuzz(e, `fuzz[${i}]`, modules[i]!, seed),
    );
  const passed = entries.filter((e) => e.passed).length;
  return { seed, entries, passed, failed: entries.length - passed };
}
