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
import { convictsAutograd, outcome, outvotedLegs, referenceOutvoted } from "../check/outcome.ts";
import type { Report } from "../check/report.ts";
import { checkBoundNotGiven } from "../check/wrt.ts";
import { firstLine, GradtrioError, isGradtrioError } from "../errors.ts";
import { type Program, parseProgram } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { inferShapes, type Shape } from "../expr/shapes.ts";
import { customOpsOf } from "../numeric/programs.ts";
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
import { checkCommand, DEFAULT_RUNS, type FuzzOptions, type FuzzResult } from "./fuzz.ts";
import type { Shard } from "./limits.ts";
import { exportedOps, importModule, type LoadedOp, loadOps } from "./load.ts";
import { FuzzRun, Interrupted, interruption, type Workers } from "./parallel.ts";
import { fastCheckSeed } from "./seed.ts";
import { shownPath } from "./shown-path.ts";
import { collectStrays, type StrayCollector, strayError } from "./stray.ts";

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

/**
 * What `check` would refuse in a check entry before running a leg, as a parse error is: a
 * variable the point (or domain) gives no value, shapes that do not fit, a bound name given a
 * value. Bad input (exit 2, naming the entry), not a failing test case.
 */
function checkEntryInput(e: CheckEntry, { output, bindings }: Program): void {
  const shapes = new Map<string, Shape>(
    "at" in e
      ? [...toValues(e.at)].map(([k, v]) => [k, v.shape] as const)
      : Object.entries(e.domain).map(([k, s]) => [k, s.shape ?? []] as const),
  );
  checkBoundNotGiven(bindings, [...shapes.keys()], e.expr);
  inferShapes(output, shapes, { source: e.expr });
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

/**
 * Runs one check entry (`path` names it: `checks[2]`). Throws a GradtrioError naming it. A failing
 * one ends with its replay, `gradtrio check … --ops FILE…` with `opsFiles` (the modules defining
 * its custom ops, as paths from where the gate runs).
 */
export function runCheckEntry(
  entry: CheckEntry,
  path: string,
  seed: number,
  opsFiles: readonly string[] = [],
): GateEntryResult {
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
      // Set at the first failure: if it convicts autograd, so must every shrink that replaces it.
      let convicting: boolean | null = null;
      const details = fc.check(
        fc.property(pointArbitrary(entry.domain), (at) => {
          const r = check(entry.expr, { at, ...tolerances(entry) });
          last = r;
          if (verdictPasses(r, entry)) return true;
          convicting ??= convictsAutograd(r);
          // A shrink that fails without convicting is no counterexample: passed over (fuzz's rule).
          fc.pre(!convicting || convictsAutograd(r));
          return false;
        }),
        { ...fastCheckSeed(seed), numRuns: runs },
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
  const shown =
    passed && referenceOutvoted(report) ? `${outvotedLegs(report)} outvoted` : report.verdict;
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
    details: passed
      ? []
      : [
          ...formatReport(report),
          "replay:",
          `  ${checkCommand(entry.expr, report.at, opsFiles, { ...tolerances(entry), strict: entry.strict === true })}`,
        ],
    ms: performance.now() - t0,
  };
}

async function runFuzz(
  entry: FuzzEntry,
  path: string,
  ops: readonly LoadedOp[],
  seed: number,
  dir: string,
  run: RunOptions,
): Promise<GateEntryResult[]> {
  let result: FuzzResult;
  try {
    const fuzzRun = new FuzzRun(
      {
        ops: ops.map((o) => o.definition),
        seed,
        onSanityFailure: "report",
        // The replay commands run where the gate ran, not in the config's directory.
        opsFile: shownPath(resolve(dir, entry.ops), run.cwd ?? process.cwd()),
        ...(entry.runs === undefined ? {} : { runs: entry.runs }),
        ...(entry.maxDepth === undefined ? {} : { maxDepth: entry.maxDepth }),
        ...tolerances(entry),
        ...(run.onProgress === undefined ? {} : { onProgress: run.onProgress }),
      },
      resolve(dir, entry.ops),
    );
    run.started?.(fuzzRun);
    result = await fuzzRun.run(run.workers ?? null, run.signal);
  } catch (e) {
    if (e instanceof Interrupted) throw e;
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

/** How a gate runs: on worker threads or not, one shard of it, watched and interruptible. */
export interface RunOptions {
  /** Worker threads (null or absent: this thread). Checks then need `configFile`. */
  readonly workers?: Workers | null;
  /** Where the replay commands are run (default: the process's working directory). */
  readonly cwd?: string;
  /** The config module's absolute path: worker threads load it to run its checks. */
  readonly configFile?: string;
  /** Run only the `index`-th (1-based) of `count` disjoint parts of the entries. */
  readonly shard?: Shard;
  /** Rejects the run with `Interrupted`. */
  readonly signal?: AbortSignal;
  /** Each fuzz entry's run, when it starts (to watch it). */
  readonly started?: (run: FuzzRun) => void;
  readonly onProgress?: FuzzOptions["onProgress"];
}

/**
 * About how many cases a gate (or one shard of it) runs: a check at a point one, a check over a
 * domain its runs, a fuzz entry its runs per op (a module that does not load counts one op: the
 * run reports it). What `plannedWorkers` weighs.
 */
export async function gateCases(
  config: GradtrioConfig,
  dir: string,
  shard?: Shard,
): Promise<number> {
  const c = validateConfig(config);
  const checks = (c.checks ?? []).map((e) => ("at" in e ? 1 : (e.runs ?? DEFAULT_DOMAIN_RUNS)));
  const fuzz = await Promise.all(
    (c.fuzz ?? []).map(async (f) => {
      const ops = await loadOps(f.ops, dir).then(
        (o) => o.length,
        () => 1,
      );
      return (f.runs ?? DEFAULT_RUNS) * ops;
    }),
  );
  return [...checks, ...fuzz].filter((_, k) => inShard(k, shard)).reduce((a, b) => a + b, 0);
}

/** The k-th (0-based) entry, checks then fuzz entries, is in `shard`'s part (dealt round-robin). */
function inShard(k: number, shard: Shard | undefined): boolean {
  return shard === undefined || k % shard.count === shard.index - 1;
}

/** An entry of a gate before it runs. */
export type PlannedEntry = Pick<GateEntryResult, "kind" | "path" | "name">;

/** The entries a gate (or one shard of it) runs, in order: checks, then fuzz entries. */
export function plannedEntries(config: GradtrioConfig, shard?: Shard): PlannedEntry[] {
  const c = validateConfig(config);
  const planned: PlannedEntry[] = [
    ...(c.checks ?? []).map((e, i) => ({
      kind: "check" as const,
      path: `checks[${i}]`,
      name: e.name ?? e.expr,
    })),
    ...(c.fuzz ?? []).map((e, i) => ({
      kind: "fuzz" as const,
      path: `fuzz[${i}]`,
      name: e.name ?? e.ops,
    })),
  ];
  return planned.filter((_, k) => inShard(k, shard));
}

/**
 * The ops modules a check entry's replay loads, as paths from where the gate runs: for each
 * custom op its expression calls, the first fuzz entry's module that exports it, else the config
 * module (whose own exports the gate registers too), each once.
 */
function replayOps(
  c: GradtrioConfig,
  modules: readonly (readonly LoadedOp[])[],
  run: Pick<RunOptions, "cwd" | "configFile"> & { readonly dir: string },
): (e: CheckEntry) => string[] {
  const cwd = run.cwd ?? process.cwd();
  const files = (c.fuzz ?? []).map((f, i) => ({
    file: shownPath(resolve(run.dir, f.ops), cwd),
    names: new Set(modules[i]!.map((o) => o.definition.name)),
  }));
  return (e) => {
    const out = new Set<string>();
    for (const op of customOpsOf(parseProgram(e.expr).output)) {
      const file =
        files.find((f) => f.names.has(op))?.file ??
        (run.configFile === undefined ? undefined : shownPath(run.configFile, cwd));
      if (file !== undefined) out.add(file);
    }
    return [...out];
  };
}

/** Outcomes of the entries an interrupted gate did not finish: started, or never run. */
export const INTERRUPTED = "interrupted";
export const NOT_RUN = "not run";

/**
 * The entries of `planned` without a result in `done`, as failed results: "interrupted" where
 * `started` has them (they were running), else "not run"; what an interrupted gate reports.
 */
export function unfinishedEntries(
  planned: readonly PlannedEntry[],
  done: readonly GateEntryResult[],
  started: ReadonlySet<string>,
): GateEntryResult[] {
  const finished = new Set(done.map((d) => d.path));
  return planned
    .filter((p) => !finished.has(p.path))
    .map((p) => {
      const ran = started.has(p.path);
      const summary = ran
        ? "interrupted (Ctrl-C) while it ran"
        : "not run: the gate was interrupted (Ctrl-C)";
      return {
        ...p,
        passed: false,
        outcome: ran ? INTERRUPTED : NOT_RUN,
        summary,
        details: [summary],
        ms: 0,
      };
    });
}

/**
 * Runs a validated config. Ops modules load first (so checks may call their ops); a bad entry
 * throws a GradtrioError naming it (`config: checks[2]: …`). With a shard, only its entries run:
 * the entries (checks, then fuzz entries) are dealt round-robin, the k-th (0-based) to shard
 * k mod N + 1, so the shards are disjoint and together run every entry exactly once.
 *
 * @example
 * ```ts
 * const r = await runGate(defineConfig({ checks: [{ expr: "x^2", at: { x: 3 } }] }), { dir: "." });
 * r.failed; // 0
 * ```
 */
export async function runGate(
  config: GradtrioConfig,
  opts: {
    dir: string;
    /** An entry starts (its path: `checks[0]`). */
    onStart?: (path: string) => void;
    onEntry?: (r: GateEntryResult) => void;
  } & RunOptions,
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
    let program: Program;
    try {
      program = parseProgram(e.expr);
    } catch (err) {
      rethrow(`checks[${i}].expr`, err);
    }
    try {
      checkEntryInput(e, program);
    } catch (err) {
      rethrow(`checks[${i}]`, err);
    }
  }
  const workers = opts.workers ?? null;
  if (workers !== null && opts.configFile === undefined)
    throw new GradtrioError("INVALID_ARGUMENT", "gate: worker threads need the config's file");
  // An entry that throws fails alone: every entry runs. Its strays' collector stays open until
  // every entry has run (`settle`): a stray its code leaves behind later (a timer of its op)
  // fails it, not the entry running then.
  const open: StrayCollector[] = [];
  const guarded = async (
    path: string,
    kind: GateEntryResult["kind"],
    name: string,
    run: () => Promise<GateEntryResult[]>,
  ): Promise<() => Promise<GateEntryResult[]>> => {
    const t0 = performance.now();
    opts.onStart?.(path);
    const failed = (e: unknown, ms: number): GateEntryResult[] => {
      const summary = firstLine(e);
      const r: GateEntryResult = {
        kind,
        path,
        name,
        passed: false,
        outcome: "error",
        summary,
        details: [summary],
        ms,
      };
      return [r];
    };
    // A promise its code rejects unhandled, a timer's throw: the entry fails (CLI).
    const strays = collectStrays();
    open.push(strays);
    let rs: GateEntryResult[];
    let error = false;
    try {
      rs = await strays.run(run);
      await strays.throwFirst();
    } catch (e) {
      if (e instanceof Interrupted) throw e;
      rs = failed(e, performance.now() - t0);
      error = true;
    }
    const ms = performance.now() - t0;
    for (const r of rs) opts.onEntry?.(r);
    return async () => {
      const [late] = await strays.end();
      return late === undefined || error ? rs : failed(strayError(late), ms);
    };
  };
  const opsOf = replayOps(c, modules, opts);
  const checkJob = (e: CheckEntry, i: number) => () =>
    guarded(`checks[${i}]`, "check", e.name ?? e.expr, async () => {
      const ops = opsOf(e);
      return [
        workers === null
          ? runCheckEntry(e, `checks[${i}]`, seed, ops)
          : await workers.run<GateEntryResult>(
              { kind: "check", config: opts.configFile!, index: i, ops },
              () => runCheckEntry(e, `checks[${i}]`, seed, ops),
            ),
      ];
    });
  const fuzzJob = (e: FuzzEntry, i: number) => () =>
    guarded(`fuzz[${i}]`, "fuzz", e.name ?? e.ops, () =>
      runFuzz(e, `fuzz[${i}]`, modules[i]!, seed, opts.dir, opts),
    );
  const jobs = [...(c.checks ?? []).map(checkJob), ...(c.fuzz ?? []).map(fuzzJob)].filter((_, k) =>
    inShard(k, opts.shard),
  );
  // On worker threads the entries run side by side; the results keep the config's order.
  let settle: (() => Promise<GateEntryResult[]>)[] = [];
  let results: GateEntryResult[][];
  try {
    if (workers !== null)
      settle = await Promise.race([
        Promise.all(jobs.map((job) => job())),
        interruption(opts.signal),
      ]);
    else
      for (const job of jobs) {
        // Let timers and signals in between entries.
        await new Promise((r) => setImmediate(r));
        if (opts.signal?.aborted === true) throw new Interrupted();
        settle.push(await job());
      }
    results = await Promise.all(settle.map((s) => s()));
  } finally {
    // Interrupted: the entries' collectors close too (their strays then go to the command's).
    await Promise.all(open.map((s) => s.end()));
  }
  const entries = results.flat();
  const passed = entries.filter((e) => e.passed).length;
  return { seed, entries, passed, failed: entries.length - passed };
}
