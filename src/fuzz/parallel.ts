/**
 * Running a fuzz or a gate on several worker threads (tinypool), or in this thread with the
 * event loop free between cases (progress timers, Ctrl-C). The work is the tasks of `fuzzRounds`
 * and the gate's check entries; results are merged in task order, so the outcome is the same for
 * any number of workers.
 */
import { availableParallelism } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import Tinypool from "tinypool";
import { GradtrioError } from "../errors.ts";
import {
  type CaseResult,
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

/** Validates `--workers N`: an integer from 1 to 256. */
export function checkWorkers(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `workers must be an integer from 1 to 256, got ${n}`,
    );
  return n;
}

/**
 * Runs tasks on `threads` threads: this one and a pool of `threads − 1` worker threads. This
 * thread is warm already (it loaded the ops and ran their sanity checks), so it takes tasks too:
 * one thread fewer to start and to warm up (every worker compiles the code again: a second of CPU).
 */
export interface Workers {
  readonly threads: number;
  /** Runs `task` on the first free thread: a worker, or this one, where `here` does the same work. */
  run<T>(task: WorkerTask, here: () => T): Promise<T>;
  close(): Promise<void>;
}

/** What every worker thread loads as it starts, before its first task. */
export interface Preload {
  /** Ops modules (absolute paths). */
  readonly ops?: readonly string[];
  /** A gate config (absolute path). */
  readonly config?: string;
}

/** Tasks queued on a worker thread at once: the next is there when one ends. */
const PER_WORKER = 2;

/**
 * `threads` threads for tasks (null for 1: tasks then run in this thread alone, in order). The
 * pool's threads start at once and load `preload` (the ops module, the config) while this thread
 * goes on (sanity checks, sweeps); each takes tasks once it is ready.
 *
 * @example
 * ```ts
 * const workers = workerPool(2, { ops: ["/abs/ops.ts"] });
 * try { … } finally { await workers?.close(); }
 * ```
 */
export function workerPool(threads: number, preload: Preload = {}): Workers | null {
  checkWorkers(threads);
  if (threads === 1) return null;
  const pool = new Tinypool({
    filename: fileURLToPath(new URL("./worker-entry.mjs", import.meta.url)),
    minThreads: threads - 1,
    maxThreads: threads - 1,
    concurrentTasksPerWorker: PER_WORKER,
    workerData: preload,
  });
  interface Job {
    readonly task: WorkerTask;
    readonly here: () => unknown;
    readonly resolve: (v: unknown) => void;
    readonly reject: (e: unknown) => void;
  }
  const queue: Job[] = [];
  let closed = false;
  let hereScheduled = false;
  /** Tasks the ready worker threads can take now. */
  let free = 0;
  const pump = () => {
    while (free > 0 && queue.length > 0) {
      const job = queue.shift()!;
      free--;
      pool
        .run(job.task)
        .then(job.resolve, job.reject)
        .finally(() => {
          free++;
          pump();
        });
    }
    if (!hereScheduled && queue.length > 0) {
      hereScheduled = true;
      // After the event loop's turn: messages, timers and signals come in between tasks.
      setImmediate(runHere);
    }
  };
  const runHere = () => {
    hereScheduled = false;
    const job = closed ? undefined : queue.shift();
    if (job === undefined) return;
    try {
      job.resolve(job.here());
    } catch (e) {
      job.reject(e);
    }
    pump();
  };
  // A thread is ready once it has loaded (a module that fails to load fails its first task).
  const loading: Promise<void>[] = [];
  for (let i = 0; i < threads - 1; i++)
    loading.push(
      pool.run({ kind: "ready" } satisfies WorkerTask).then(
        () => {
          free += PER_WORKER;
          pump();
        },
        () => {},
      ),
    );
  return {
    threads,
    run: <T>(task: WorkerTask, here: () => T) =>
      new Promise<T>((resolve, reject) => {
        queue.push({ task, here, resolve: resolve as (v: unknown) => void, reject });
        pump();
      }),
    close: async () => {
      closed = true;
      queue.length = 0;
      // A thread terminated while it still loads modules can take the process down with it
      // (seen once: a V8 trap as a short gate ended): let loading end first, for at most 3 s.
      await Promise.race([Promise.all(loading), delay(3000, undefined, { ref: false })]);
      await pool.destroy();
    },
  };
}

/**
 * Cases (fuzz runs × ops) a thread must have to pay for its start: loading the modules and V8
 * compiling the code again, ~2 s of CPU in all, what ~1500 cases cost a warm thread.
 */
export const CASES_PER_THREAD = 1500;
/**
 * Cores a busy JavaScript thread takes: V8's helper threads (its optimizing compiler and garbage
 * collector) add 45–70% of its own CPU (bench/workers.bench.ts). With one worker on two cores
 * they run on the second: a second worker would share both with them.
 */
export const CORES_PER_THREAD = 1.5;

/**
 * Threads for a job of about `cases` cases (fuzz runs × ops, checks): the number asked for
 * (`--workers`, else GRADTRIO_WORKERS), or as many as the cores hold and the job pays for, with a
 * `note` saying why when that is fewer than the cores.
 */
export function plannedWorkers(
  requested: number | undefined,
  cases: number,
): { threads: number; note: string | null } {
  const env = Number(process.env.GRADTRIO_WORKERS);
  const asked = requested ?? (Number.isInteger(env) && env >= 1 ? env : undefined);
  if (asked !== undefined) return { threads: checkWorkers(asked), note: null };
  const cores = availableParallelism();
  const fit = Math.max(1, Math.floor(cores / CORES_PER_THREAD));
  const paid = Math.max(1, Math.floor(cases / CASES_PER_THREAD));
  const threads = Math.min(fit, paid);
  const why =
    threads === paid && paid < fit
      ? `${cases} runs are too few to pay for starting more`
      : `each thread's V8 compiler and GC keep half a core more busy`;
  return {
    threads,
    note:
      threads < cores
        ? `using ${threads} worker thread${threads === 1 ? "" : "s"}, not ${cores}: ${why} (--workers ${cores} forces ${cores})`
        : null,
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

/** Judge tasks per op per round and per thread: the threads wait for each other once a round. */
const PER_THREAD = 16;
/** Cases per judge task on threads (~15 ms): a message's cost spread over them. */
const CHUNK = 8;

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

  /**
   * A round's tasks, a few at a time in order (every thread busy, `threads` more queued). Once an
   * op's case fails, its later judge tasks are not run: the round's results are read up to that
   * case only (`fuzzRounds`), so they get an empty result and the outcome stays the same.
   */
  private async inOrder(
    tasks: readonly FuzzTask[],
    threads: number,
    exec: (t: FuzzTask) => Promise<FuzzTaskResult>,
  ): Promise<FuzzTaskResult[]> {
    const results: FuzzTaskResult[] = new Array(tasks.length);
    /** Per op, the index of its first failing case known so far. */
    const failedAt = new Map<number, number>();
    let next = 0;
    const feed = async () => {
      while (next < tasks.length) {
        const k = next++;
        const t = tasks[k]!;
        if (t.kind === "judge" && t.from > (failedAt.get(t.op) ?? Number.POSITIVE_INFINITY)) {
          results[k] = [];
          continue;
        }
        const r = await exec(t);
        results[k] = r;
        if (t.kind !== "judge") continue;
        const j = (r as readonly CaseResult[]).findIndex((c) => c.kind === "fail");
        if (j >= 0) failedAt.set(t.op, Math.min(failedAt.get(t.op) ?? t.from + j, t.from + j));
      }
    };
    await Promise.all(Array.from({ length: 2 * threads }, feed));
    return results;
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
        result = await workers.run<FuzzTaskResult>(t, () => runTask(this.ctx, task));
      }
      this.inFlight.delete(task);
      return result;
    };
    // In this thread alone one case per task (the case in flight is exact); on threads a few.
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
      } else
        results = await Promise.race([this.inOrder(tasks, workers.threads, exec), interrupted]);
      round = rounds.next(results);
    }
    return this.partial();
  }
}
