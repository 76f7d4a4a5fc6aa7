/**
 * Running a fuzz or a gate on several worker threads (tinypool), or in this thread with the
 * event loop free between cases (progress timers, Ctrl-C). The work is the tasks of `fuzzRounds`
 * and the gate's check entries; results are merged in task order, so the outcome is the same for
 * any number of workers.
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import Tinypool from "tinypool";
import { GradtrioError } from "../errors.ts";
import {
  type FuzzContext,
  type FuzzOptions,
  type FuzzResult,
  type FuzzTask,
  type FuzzTaskResult,
  fuzzResult,
  fuzzRounds,
  type OpStats,
  prepareFuzz,
  runTask,
} from "./fuzz.ts";
import type { FuzzSettings, WorkerTask } from "./worker.ts";

/** Worker threads when none are asked for: GRADTRIO_WORKERS, else the machine's cores. */
export function defaultWorkers(): number {
  const env = Number(process.env.GRADTRIO_WORKERS);
  return Number.isInteger(env) && env >= 1 ? env : availableParallelism();
}

/** Validates `--workers N`: an integer from 1 to 256. */
export function checkWorkers(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `workers must be an integer from 1 to 256, got ${n}`,
    );
  return n;
}

/** Runs worker tasks: a pool of threads, or none (this thread). */
export interface Workers {
  readonly threads: number;
  run<T>(task: WorkerTask): Promise<T>;
  close(): Promise<void>;
}

/**
 * A pool of `threads` worker threads (none for 1: tasks then run in this thread).
 *
 * @example
 * ```ts
 * const workers = workerPool(2);
 * try { … } finally { await workers.close(); }
 * ```
 */
export function workerPool(threads: number): Workers | null {
  checkWorkers(threads);
  if (threads === 1) return null;
  const pool = new Tinypool({
    filename: fileURLToPath(new URL("./worker-entry.mjs", import.meta.url)),
    minThreads: threads,
    maxThreads: threads,
  });
  return {
    threads,
    run: (task) => pool.run(task),
    close: () => pool.destroy(),
  };
}

/** Thrown by a run that was interrupted (Ctrl-C): what was done so far stays readable. */
export class Interrupted extends Error {
  constructor() {
    super("interrupted");
  }
}

/** A promise that rejects with `Interrupted` when `signal` aborts (never settles without one). */
export function interruption(signal: AbortSignal | undefined): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    if (signal?.aborted === true) reject(new Interrupted());
    signal?.addEventListener("abort", () => reject(new Interrupted()), { once: true });
  });
  p.catch(() => {});
  return p;
}

/** Judge tasks per op per round and per thread: enough to keep every thread busy. */
const PER_THREAD = 4;
/** Cases per judge task on worker threads. */
const CHUNK = 3;

/**
 * One fuzz, run task by task so that it can be watched (`inFlight`, `partial`) and interrupted.
 *
 * @example
 * ```ts
 * const run = new FuzzRun({ ops, seed: 1 }, "/abs/ops.ts");
 * const result = await run.run(workerPool(2));
 * ```
 */
export class FuzzRun {
  readonly ctx: FuzzContext;
  readonly perOp: OpStats[];
  /** Tasks started and not finished, oldest first. */
  readonly inFlight = new Set<FuzzTask>();
  private readonly t0 = performance.now();

  /**
   * @param file the ops module's absolute path, which worker threads load (needed with workers).
   */
  constructor(
    private readonly opts: FuzzOptions,
    private readonly file?: string,
  ) {
    ({ ctx: this.ctx, perOp: this.perOp } = prepareFuzz(opts));
  }

  /** The result so far (all of it once `run` has finished). */
  partial(): FuzzResult {
    return fuzzResult(this.ctx, this.perOp, performance.now() - this.t0);
  }

  /** Runs every task, on `workers` or in this thread; rejects with `Interrupted` on `signal`. */
  async run(workers: Workers | null, signal?: AbortSignal): Promise<FuzzResult> {
    const { defs: _, ...settings } = this.ctx;
    // A task stays in flight until its result is in: an interrupted one is still there.
    const exec = async (task: FuzzTask): Promise<FuzzTaskResult> => {
      this.inFlight.add(task);
      let result: FuzzTaskResult;
      if (workers === null) {
        // Let timers and signals in between cases.
        await new Promise((r) => setImmediate(r));
        if (signal?.aborted === true) throw new Interrupted();
        result = runTask(this.ctx, task);
      } else {
        if (this.file === undefined)
          throw new GradtrioError("INVALID_ARGUMENT", "fuzz: workers need the ops module's path");
        const t: WorkerTask = {
          kind: "fuzz",
          file: this.file,
          settings: settings as FuzzSettings,
          task,
        };
        result = await workers.run<FuzzTaskResult>(t);
      }
      this.inFlight.delete(task);
      return result;
    };
    // In this thread one case per task (the case in flight is exact); on workers a few, which
    // spreads the cost of a message over them.
    const width = workers === null ? 1 : workers.threads * PER_THREAD;
    const chunk = workers === null ? 1 : CHUNK;
    const rounds = fuzzRounds(this.ctx, this.perOp, width, this.opts.onProgress, chunk);
    const interrupted = interruption(signal);
    let round = rounds.next();
    while (round.done !== true) {
      const tasks = round.value;
      let results: FuzzTaskResult[];
      if (workers === null) {
        results = [];
        for (const t of tasks) results.push(await exec(t));
      } else results = await Promise.race([Promise.all(tasks.map(exec)), interrupted]);
      round = rounds.next(results);
    }
    return this.partial();
  }
}
