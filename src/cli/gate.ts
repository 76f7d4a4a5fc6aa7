/**
 * `gradtrio gate [CONFIG] [--junit FILE]`: runs a project's gradient suite, prints a summary
 * table, optionally writes JUnit XML (one test case per check and per fuzzed op, the report in
 * `<failure>`; always written, also when the config is bad). With no CONFIG, the first of
 * gradtrio.config.{ts,mts,js,mjs,cjs} in the working directory. Exit 0 when everything passes,
 * 1 otherwise, 2 for a bad config.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import pc from "picocolors";
import xmlbuilder from "xmlbuilder";
import { firstLine, GradtrioError, isGradtrioError } from "../errors.ts";
import {
  type GateEntryResult,
  type GateResult,
  gateCases,
  INTERRUPTED,
  loadConfig,
  NOT_RUN,
  plannedEntries,
  runGate,
  unfinishedEntries,
} from "../fuzz/gate.ts";
import { parseShard, type Shard } from "../fuzz/limits.ts";
import {
  checkWorkers,
  type FuzzRun,
  Interrupted,
  plannedWorkers,
  workerPool,
} from "../fuzz/parallel.ts";
import { collectStrays } from "../fuzz/stray.ts";
import { inFlightLines } from "./fuzz.ts";
import { type CliIO, EXIT } from "./io.ts";
import { progressIntervalMs, progressReporter } from "./progress.ts";
import { afterReport, reportError } from "./report-error.ts";

export interface GateFlags {
  /** The config module (default: the first gradtrio.config.{ts,mts,js,mjs,cjs} in the working directory). */
  readonly config?: string;
  /** Where to write the JUnit XML report. */
  readonly junit?: string;
  /** `I/N`: run the I-th of N disjoint parts of the entries. */
  readonly shard?: string;
  /** Worker threads (default: as many as the cores and the job pay for; see plannedWorkers). */
  readonly workers?: number;
}

/** The configs `gradtrio gate` looks for, in this order, when it is given none. */
export const DEFAULT_CONFIGS = ["ts", "mts", "js", "mjs", "cjs"].map((e) => `gradtrio.config.${e}`);

/** The first default config in `cwd`; a GradtrioError naming every candidate when there is none. */
function defaultConfig(cwd: string): string {
  const found = DEFAULT_CONFIGS.find((f) => existsSync(resolve(cwd, f)));
  if (found === undefined)
    throw new GradtrioError(
      "IO",
      "no config given and no gradtrio.config.{ts,mts,js,mjs,cjs} in the working directory",
    );
  return found;
}

/**
 * The JUnit XML of a gate run: one suite, one test case per entry, a failing entry's report in
 * its `<failure>`. Characters XML cannot hold (terminal escapes) are dropped. A shard's file
 * names its shard in a property; its test cases are named as in the whole run, so the shards'
 * files together hold each test case once.
 */
export function gateJUnit(result: GateResult, shard?: Shard): string {
  const count = (o: string) => result.entries.filter((e) => e.outcome === o).length;
  // An interrupted gate's unfinished entries: errors (they were running) and skipped (not run).
  const errors = count(INTERRUPTED);
  const skipped = count(NOT_RUN);
  const counts = {
    tests: result.entries.length,
    failures: result.failed - errors - skipped,
    errors,
    skipped,
  };
  const root = xmlbuilder
    .create("testsuites", { encoding: "UTF-8" }, {}, { invalidCharReplacement: "" })
    .att(counts);
  const suite = root.ele("testsuite", { name: "gradtrio gate", ...counts });
  const properties = suite.ele("properties");
  properties.ele("property", { name: "seed", value: String(result.seed) });
  if (shard !== undefined)
    properties.ele("property", { name: "shard", value: `${shard.index}/${shard.count}` });
  if (errors + skipped > 0) properties.ele("property", { name: "interrupted", value: "true" });
  for (const e of result.entries) {
    const tc = suite.ele("testcase", {
      classname: `gradtrio.${e.kind}`,
      name: `${e.path} ${e.name}`,
      time: (e.ms / 1000).toFixed(3), // seconds, to the millisecond
    });
    if (e.outcome === NOT_RUN) tc.ele("skipped", { message: e.summary });
    else if (e.outcome === INTERRUPTED) tc.ele("error", { message: e.summary, type: e.outcome });
    else if (!e.passed)
      tc.ele("failure", { message: failureMessage(e), type: e.outcome }).dat(e.details.join("\n"));
  }
  return root.end({ pretty: true });
}

/** The outcome and the summary, the outcome once (a check's summary begins with its verdict). */
function failureMessage(e: GateEntryResult): string {
  return e.summary.startsWith(`${e.outcome} `) ? e.summary : `${e.outcome}: ${e.summary}`;
}

const entries = (n: number) => `${n} ${n === 1 ? "entry" : "entries"}`;

function row(e: GateEntryResult, color: boolean): string {
  const mark = e.passed ? "PASS" : "FAIL";
  const painted = color ? (e.passed ? pc.green(mark) : pc.red(mark)) : mark;
  return `${painted}  ${e.kind.padEnd(5)}  ${e.name}  —  ${e.summary}`;
}

function junitError(shown: string, e: unknown): GradtrioError {
  return new GradtrioError(
    "IO",
    `cannot write the JUnit report '${shown}': ${e instanceof Error ? e.message : String(e)}`,
  );
}

/** Creates the report's directory and checks the report can be written (leaving no file behind). */
function probeWritable(out: string, shown: string): void {
  if (existsSync(out) && statSync(out).isDirectory())
    throw new GradtrioError("IO", `cannot write the JUnit report '${shown}': it is a directory`);
  try {
    mkdirSync(dirname(out), { recursive: true });
    const existed = existsSync(out);
    closeSync(openSync(out, "a"));
    if (!existed) unlinkSync(out);
  } catch (e) {
    throw junitError(shown, e);
  }
}

/**
 * Runs `gradtrio gate` and returns the exit code.
 *
 * @example
 * ```ts
 * await gateCommand({ config: "gradtrio.config.ts", junit: "reports/gradients.xml" }, io); // 0
 * ```
 */
export async function gateCommand(opts: GateFlags, io: CliIO): Promise<number> {
  // Named in the JUnit file when the gate cannot run.
  let file = opts.config ?? "gradtrio.config.{ts,mts,js,mjs,cjs}";
  // What user code leaves behind outside the entries (each entry has its own): bad input.
  const strays = collectStrays();
  try {
    file = opts.config ?? defaultConfig(io.cwd);
    const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
    if (opts.workers !== undefined) checkWorkers(opts.workers);
    progressIntervalMs();
    const { config, dir } = await loadConfig(file, io.cwd);
    // An unwritable report path is bad input: found before the (long) run, not after it.
    if (opts.junit !== undefined) probeWritable(resolve(io.cwd, opts.junit), opts.junit);
    const color = io.isTTY && process.env.NO_COLOR === undefined;
    const progress = progressReporter(io, "gate", 0);
    const runs: FuzzRun[] = [];
    const started = new Set<string>();
    const done: GateEntryResult[] = [];
    const { threads, note } = plannedWorkers(
      opts.workers,
      await gateCases(config, dir, shard),
      "cases",
    );
    // Said with the results: a bad entry (found while the gate runs) stays one error line.
    const say = () => {
      if (note !== null) io.err(`gate: ${note}`);
    };
    const pool = workerPool(threads, { config: resolve(io.cwd, file) });
    const interrupt = new AbortController();
    const onSigint = () => interrupt.abort();
    process.on("SIGINT", onSigint);
    let result: GateResult;
    try {
      result = await runGate(config, {
        dir,
        cwd: io.cwd,
        workers: pool,
        configFile: resolve(io.cwd, file),
        signal: interrupt.signal,
        onProgress: progress.onProgress,
        onStart: (path) => started.add(path),
        onEntry: (e) => {
          done.push(e);
          if (!e.passed) progress.failed();
        },
        started: (run) => {
          runs.push(run);
          progress.expect(run.ctx.runs * run.ctx.defs.length);
        },
        ...(shard === undefined ? {} : { shard }),
      });
    } catch (e) {
      // Before anything is printed: on a terminal the bar goes back to its line when it stops.
      progress.stop();
      if (!(e instanceof Interrupted)) throw e;
      await strays.endOrThrow();
      const seed = config.seed ?? 0;
      const passed = done.filter((d) => d.passed).length;
      result = { seed, entries: done, passed, failed: done.length - passed };
      // The JUnit file has every entry: the unfinished ones as errors or skipped, never green.
      const rest = unfinishedEntries(plannedEntries(config, shard), done, started);
      const all = { ...result, entries: [...done, ...rest], failed: result.failed + rest.length };
      say();
      report(file, result, shard, color, opts.junit, io, all);
      const cut = rest.filter((r) => r.outcome === INTERRUPTED).length;
      io.out(
        `interrupted (Ctrl-C) after ${entries(done.length)}; interrupted: ${cut}, not run: ${rest.length - cut}`,
      );
      for (const run of runs)
        if (run.inFlight.size > 0)
          for (const line of inFlightLines(run, run.ctx.opsFile)) io.out(line);
      return EXIT.interrupted;
    } finally {
      process.off("SIGINT", onSigint);
      progress.stop();
      await pool?.close();
    }
    await strays.endOrThrow();
    say();
    report(file, result, shard, color, opts.junit, io);
    return result.failed === 0 ? EXIT.ok : EXIT.fail;
  } catch (e) {
    await strays.end();
    if (opts.junit !== undefined) writeErrorJUnit(resolve(io.cwd, opts.junit), file, e);
    return reportError(e, io);
  }
}

/** The summary table, the failures' details, and the JUnit file. */
function report(
  file: string,
  result: GateResult,
  shard: Shard | undefined,
  color: boolean,
  junitFile: string | undefined,
  io: CliIO,
  junitResult = result,
): void {
  const part = shard === undefined ? "" : `, shard ${shard.index}/${shard.count}`;
  io.out(`gradtrio gate: ${file} (seed ${result.seed}${part})`);
  for (const e of result.entries) io.out(row(e, color));
  for (const e of result.entries.filter((e) => !e.passed)) {
    io.out("");
    io.out(`${e.path} ${e.name}:`);
    for (const l of e.details) io.out(`  ${l}`);
  }
  io.out("");
  io.out(`${result.passed} passed, ${result.failed} failed (${entries(result.entries.length)})`);
  if (junitFile === undefined) return;
  const out = resolve(io.cwd, junitFile);
  try {
    writeFileSync(out, gateJUnit(junitResult, shard));
  } catch (e) {
    throw junitError(junitFile, e);
  }
  // An error reported after this (user code's stray once the gate has returned) fails the file
  // too: its test cases and one more, `process`, saying what happened.
  afterReport((e) => {
    const withError = {
      ...junitResult,
      entries: [...junitResult.entries, errorEntry(file, e, "process")],
      failed: junitResult.failed + 1,
    };
    try {
      writeFileSync(out, gateJUnit(withError, shard));
    } catch {
      // The error itself is reported on stderr.
    }
  });
  io.out(`JUnit report: ${junitFile}`);
}

/** An error as a failing test case `path` of the config `file`. */
function errorEntry(file: string, e: unknown, path: string): GateEntryResult {
  const message = isGradtrioError(e) ? e.message : firstLine(e);
  return {
    kind: "check",
    path,
    name: file,
    passed: false,
    outcome: "error",
    summary: message,
    details: [`gradtrio: error: ${message}`],
    ms: 0,
  };
}

/**
 * A gate that cannot run (a bad config, an ops module that does not load) still leaves a JUnit
 * file, one failing test case saying why, so a CI job's report step has something to publish.
 * Nothing is written where the report itself cannot be.
 */
function writeErrorJUnit(out: string, file: string, e: unknown, path = "config"): void {
  const result: GateResult = {
    seed: 0,
    passed: 0,
    failed: 1,
    entries: [errorEntry(file, e, path)],
  };
  try {
    if (existsSync(out) && statSync(out).isDirectory()) return;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, gateJUnit(result));
  } catch {
    // The error itself is what the user needs to see; it is reported on stderr.
  }
}

/**
 * A gate command line that does not parse (`--workers 0`, an unknown option, `--junit` twice)
 * still writes the JUnit file its first `--junit FILE` names: one failing test case `arguments`
 * saying why (`message`, the error line), so CI publishes a failing report, not none.
 */
export function writeArgumentsJUnit(argv: readonly string[], cwd: string, message: string): void {
  let junit: string | undefined;
  for (let i = 1; i < argv.length && junit === undefined; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a === "--junit") junit = argv[i + 1];
    else if (a.startsWith("--junit=")) junit = a.slice("--junit=".length);
  }
  if (junit === undefined || junit === "") return;
  const line = `gradtrio ${argv.join(" ")}`;
  writeErrorJUnit(
    resolve(cwd, junit),
    line,
    new GradtrioError("INVALID_ARGUMENT", message),
    "arguments",
  );
}
