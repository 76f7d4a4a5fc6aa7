/**
 * `gradtrio fuzz --ops FILE [--runs N] [--seed S] [--max-depth D] [--path P] [--workers N] [--json]`:
 * loads the ops a module exports, fuzzes each (on N worker threads), prints each failing op's
 * shrunk counterexample (the three legs, the blame, the replay commands) or "no counterexample in
 * N runs". Ctrl-C prints the summary so far and the replay of the case in flight.
 * An op that fails its sanity check is reported as failed (not fuzzed), as the gate does.
 * Exit 0 nothing found, 1 found (or an op failed its sanity check), 2 bad input, 130 interrupted.
 */
import { resolve } from "node:path";
import { reportToJson } from "../check/report.ts";
import { GradtrioError } from "../errors.ts";
import { print } from "../expr/print.ts";
import { formatCounterexample, formatPoint } from "../fuzz/format.ts";
import {
  type Counterexample,
  casesOf,
  checkCommand,
  DEFAULT_RUNS,
  type FuzzResult,
  shellQuote,
} from "../fuzz/fuzz.ts";
import { loadOps } from "../fuzz/load.ts";
import {
  checkWorkers,
  FuzzRun,
  Interrupted,
  plannedWorkers,
  workerPool,
} from "../fuzz/parallel.ts";
import { collectStrays } from "../fuzz/stray.ts";
import { type CliIO, EXIT } from "./io.ts";
import { progressIntervalMs, progressReporter } from "./progress.ts";
import { reportError } from "./report-error.ts";

export interface FuzzFlags {
  readonly ops: string;
  readonly runs?: number;
  readonly seed?: number;
  readonly maxDepth?: number;
  readonly json?: boolean;
  /** Replay path of a reported counterexample (needs --seed). */
  readonly path?: string;
  /** Worker threads (default: as many as the cores and the job pay for; see plannedWorkers). */
  readonly workers?: number;
}

/**
 * What was running when the fuzz was interrupted: the case in flight and the commands that
 * replay it (the fuzz from its case index, and the plain check).
 */
export function inFlightLines(run: FuzzRun, file: string): string[] {
  const task = [...run.inFlight][0];
  if (task === undefined) return [];
  const { ctx } = run;
  const op = ctx.defs[task.op]!.name;
  const fuzzCmd = `gradtrio fuzz --ops ${shellQuote(file)} --seed ${ctx.seed}`;
  if (task.kind === "sweep")
    return [`in flight: the sweep of op '${op}' over its domain`, "replay:", `  ${fuzzCmd}`];
  const index = task.kind === "judge" ? task.from : Number(task.path.split(":")[0]);
  const c = casesOf(ctx, task.op, task.trusted, index, index + 1)[0]!;
  const expr = print(c.expr);
  return [
    `in flight: op '${op}', case ${index}: ${expr} at ${formatPoint(c.at)}`,
    "replay:",
    `  ${fuzzCmd} --path ${index}`,
    `  ${checkCommand(expr, c.at, [file])}`,
  ];
}

function counterexampleJson(cx: Counterexample): Record<string, unknown> {
  return {
    op: cx.op,
    expr: cx.expr,
    at: cx.at,
    value: cx.value,
    verdict: cx.verdict,
    blame: cx.blame,
    reason: cx.reason,
    gradients: cx.gradients,
    seed: cx.seed,
    path: cx.path,
    replay: cx.replay,
    report: cx.report === null ? null : reportToJson(cx.report),
  };
}

/** The result as data: what `--json` prints. */
export function fuzzResultToJson(file: string, r: FuzzResult): Record<string, unknown> {
  return {
    ops: file,
    seed: r.seed,
    runs: r.runs,
    found: r.found === null ? null : counterexampleJson(r.found),
    perOp: r.perOp.map((s) => ({
      op: s.op,
      sanityError: s.sanityError,
      sweep: { points: s.sweep.points, suspects: s.sweep.suspects, ms: Math.round(s.sweep.ms) },
      runs: s.runs,
      agree: s.agree,
      inconclusive: s.inconclusive,
      legDefects: s.legDefects,
      elsewhere: s.elsewhere,
      shrinks: s.shrinks,
      found: s.found,
      gaveUp: s.gaveUp,
      notAtPath: s.notAtPath,
      ms: Math.round(s.ms),
      formulaChecked: s.sanity?.formulaChecked ?? false,
      legDefect: s.legDefect,
      counterexample: s.counterexample === null ? null : counterexampleJson(s.counterexample),
    })),
    ms: Math.round(r.ms),
  };
}

/** `path`: the --path replayed (a sweep point is no run: each op's line names the point instead). */
function printText(file: string, r: FuzzResult, io: CliIO, path?: string): void {
  io.out(`gradtrio fuzz: ${r.perOp.length} op(s) from ${file}, seed ${r.seed}`);
  const sweepPoint = path?.startsWith("sweep:") === true ? path : undefined;
  for (const s of r.perOp) {
    // At a sweep point the op alone was screened there (a suspect: checked three ways).
    const atPoint = sweepPoint !== undefined && s.sweep.points > 0;
    const status =
      s.sanityError !== null
        ? "SANITY CHECK FAILED"
        : s.found
          ? "COUNTEREXAMPLE"
          : s.gaveUp
            ? "gave up"
            : s.notAtPath !== null
              ? "no case at --path"
              : "ok";
    const extra = [
      s.counterexample?.path.startsWith("sweep:") === true
        ? "found alone by the sweep of its domain"
        : atPoint
          ? `the op alone at point ${sweepPoint.slice(6)} of its domain sweep: ${s.sweep.suspects > 0 ? "a suspect of the screen, checked three ways" : "passed the screen"}`
          : "",
      s.inconclusive > 0 ? `${s.inconclusive} inconclusive skipped` : "",
      // Only a counterexample is shrunk (a replay that passes evaluated cases, shrank nothing).
      s.shrinks > 0 && s.counterexample !== null
        ? `shrunk in ${s.shrinks} step${s.shrinks === 1 ? "" : "s"}`
        : "",
      s.sanity === null || s.sanity.formulaChecked ? "" : "no formula: two legs",
    ]
      .filter((x) => x !== "")
      .join(", ");
    io.out(
      `  ${s.op.padEnd(16)} ${atPoint ? sweepPoint.padStart(10) : `${String(s.runs).padStart(5)} runs`}  ${status}${extra === "" ? "" : `  (${extra})`}  ${(s.ms / 1000).toFixed(1)} s`,
    );
    if (s.sanity?.note != null) io.out(`    note: ${s.sanity.note}`);
    if (s.sanityError !== null) io.out(`    ${s.sanityError}`);
    if (s.notAtPath !== null) io.out(`    note: ${s.notAtPath}`);
    if (s.legDefect !== null)
      io.out(
        `    note: ${s.legDefects} case(s) where gradtrio's ${s.legDefect.blame ?? "symbolic and numeric"} leg${s.legDefect.blame === null ? "s were" : " was"} outvoted (not your op), e.g. ${s.legDefect.expr}: ${s.legDefect.reason}`,
      );
    if (s.gaveUp)
      io.out(`    too many inconclusive cases (${s.inconclusive}): check the op's declared domain`);
  }
  const insane = r.perOp.filter((s) => s.sanityError !== null).length;
  if (r.found === null)
    io.out(
      `no counterexample ${sweepPoint === undefined ? `in ${r.runs} runs` : `at ${sweepPoint}`}${insane === 0 ? "" : `; ${insane} op(s) failed the sanity check (not fuzzed)`}`,
    );
  for (const s of r.perOp)
    if (s.counterexample !== null)
      for (const line of formatCounterexample(s.counterexample)) io.out(line);
}

/**
 * Runs `gradtrio fuzz` and returns the exit code.
 *
 * @example
 * ```ts
 * const io = memoryIO();
 * await fuzzCommand({ ops: "test/fixtures/ops/ignores-grad.bug.ts", seed: 1 }, io); // 1
 * ```
 */
export async function fuzzCommand(opts: FuzzFlags, io: CliIO): Promise<number> {
  try {
    if (typeof opts.ops !== "string" || opts.ops === "")
      throw new GradtrioError("INVALID_ARGUMENT", "fuzz: give the ops module with --ops FILE");
    if (opts.path !== undefined && opts.seed === undefined)
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        "--path replays a case of one seed: give --seed too (the counterexample prints both)",
      );
    if (opts.workers !== undefined) checkWorkers(opts.workers);
    progressIntervalMs();
    const loaded = await loadOps(opts.ops, io.cwd);
    const runs = opts.runs ?? DEFAULT_RUNS;
    const file = resolve(io.cwd, opts.ops);
    const { threads, note } = plannedWorkers(
      opts.workers,
      opts.path === undefined ? runs * loaded.length : 1,
      "runs",
    );
    // The threads start loading the ops while this one runs their sanity checks.
    const pool = workerPool(threads, { ops: [file] });
    let run: FuzzRun;
    try {
      run = new FuzzRun(
        {
          ops: loaded.map((o) => o.definition),
          runs,
          opsFile: opts.ops,
          // As the gate: an op that fails its sanity check is reported failed, the others fuzzed.
          onSanityFailure: "report",
          onProgress: (p) => progress.onProgress(p),
          ...(opts.seed === undefined ? {} : { seed: opts.seed }),
          ...(opts.maxDepth === undefined ? {} : { maxDepth: opts.maxDepth }),
          ...(opts.path === undefined ? {} : { path: opts.path }),
        },
        file,
      );
    } catch (e) {
      await pool?.close();
      throw e;
    }
    // Said once the options are known good: bad input stays one line.
    if (note !== null && opts.path === undefined) io.err(`fuzz: ${note}`);
    // Started after the notice and stopped before the summary: on a terminal the bar redraws
    // its line (and goes back to it when it stops) over whatever was printed meanwhile.
    const progress = progressReporter(io, "fuzz", runs * loaded.length);
    const interrupt = new AbortController();
    const onSigint = () => interrupt.abort();
    process.on("SIGINT", onSigint);
    // A promise the ops reject unhandled, a timer's throw: the run stops, bad input (exit 2).
    const strays = collectStrays(() => interrupt.abort());
    let result: FuzzResult;
    try {
      result = await run.run(pool, interrupt.signal);
      await strays.endOrThrow();
    } catch (e) {
      progress.stop();
      await strays.endOrThrow();
      if (!(e instanceof Interrupted)) throw e;
      const partial = run.partial();
      const flight = inFlightLines(run, opts.ops);
      if (opts.json === true)
        io.out(
          JSON.stringify(
            { ...fuzzResultToJson(opts.ops, partial), interrupted: true, inFlight: flight },
            null,
            2,
          ),
        );
      else {
        printText(opts.ops, partial, io, opts.path);
        io.out(`interrupted (Ctrl-C) after ${partial.runs} runs`);
        for (const line of flight) io.out(line);
      }
      return EXIT.interrupted;
    } finally {
      process.off("SIGINT", onSigint);
      progress.stop();
      await pool?.close();
    }
    if (opts.json === true) io.out(JSON.stringify(fuzzResultToJson(opts.ops, result), null, 2));
    else printText(opts.ops, result, io, opts.path);
    return result.ok ? EXIT.ok : EXIT.fail;
  } catch (e) {
    return reportError(e, io);
  }
}
