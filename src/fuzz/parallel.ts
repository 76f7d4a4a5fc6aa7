/**
 * Running a fuzz or a gate on several worker threads (tinypool), or in this thread with the
 * event loop free between cases (progress timers, Ctrl-C). The work is the tasks of `fuzzRounds`
 * and the gate's check entries; results are merged in task order, so the outcome is the same for
 * any number of workers.
 */
import { AsyncResource } from "node:async_hooks";
import { availableParallelism } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import Tinypool from "tinypool";
import { GradtrioError, isIntegerIn } from "../errors.ts";
import { Claims, runClaimed } from "./claims.ts";
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
} from "./fuzz.ts";
import { integerFromEnv, MAX_WORKERS } from "./limits.ts";
import type { FuzzSettings, WorkerTask } from "./worker.ts";

/** Validates a number of threads: an integer from 1 to MAX_WORKERS (256). */
export function checkWorkers(n: number): number {
  if (!isIntegerIn(n, 1, MAX_WORKERS))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `workers must be an integer from 1 to ${MAX_WORKERS}, got ${n}`,
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
  /**
   * Starts a round whose tasks the threads claim for themselves (`claims.ts`): every ready pool
   * thread gets `task(slot)` (slots 1, 2, …), and one that becomes ready during the round joins it
   * while `open()`. This thread claims its part meanwhile; `answers()` then waits for the pool's.
   */
  share<T>(task: (slot: number) => WorkerTask, open: () => boolean): { answers(): Promise<T[]> };
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
  /** Pool threads ready to take tasks. */
  let ready = 0;
  /** Rounds of claimed tasks in progress: a thread that becomes ready joins them. */
  const rounds = new Set<() => void>();
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
          ready++;
          free += PER_WORKER;
          for (const join of rounds) join();
          pump();
        },
        () => {},
      ),
    );
  return {
    threads,
    run: <T>(task: WorkerTask, here: () => T) =>
      new Promise<T>((resolve, reject) => {
        // Run here, `here` keeps its caller's async context (a gate entry's: its strays are its).
        queue.push({
          task,
          here: AsyncResource.bind(here),
          resolve: resolve as (v: unknown) => void,
          reject,
        });
        pump();
      }),
    share: <T>(task: (slot: number) => WorkerTask, open: () => boolean) => {
      const answers: Promise<T>[] = [];
      const join = () => {
        if (!closed && open() && answers.length < threads - 1) {
          const answer: Promise<T> = pool.run(task(answers.length + 1));
          // Read by `answers()`; a round abandoned before (this thread's task threw, Ctrl-C)
          // must not leave a rejection unhandled.
          answer.catch(() => {});
          answers.push(answer);
        }
      };
      for (let i = 0; i < ready; i++) join();
      rounds.add(join);
      return {
        answers: () => {
          rounds.delete(join);
          return Promise.all(answers);
        },
      };
    },
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
 * Cases (fuzz runs × ops) a thread must have to pay for its start on a spare core: loading the
 * modules and V8 compiling the code again (set when that was ~1500 cases' CPU of a warm thread,
 * before issue 14's work; not re-measured on more than 2 cores since).
 */
export const CASES_PER_THREAD = 1500;
/**
 * Cores a busy JavaScript thread takes: V8's helper threads (its optimizing compiler and garbage
 * collector) add 45–70% of its own CPU (bench/workers.bench.ts). Up to cores / 1.5 threads, each
 * starts on a core of its own.
 */
export const CORES_PER_THREAD = 1.5;
/**
 * What one more thread costs on cores already taken (2 cores): its start, and V8 compiling the code
 * again (~2.5 s of optimizing-compiler CPU a thread, which one thread gets free on the idle core),
 * compete with the running threads; warm, two threads do 1.69× the work of one. Measured
 * (bench/workers.bench.ts, two ops, the built package): 2 × 5000 runs 0.90×, 2 × 7500 1.02–1.04×,
 * 2 × 20000 1.25×, 2 × 50000 1.47×, 2 × 150000 1.68×. A t-th thread is started once
 * cases × (1/(t − 1) − 1/t) ≥ 7500: the second from 15,000 cases, where it breaks even.
 */
export const CASES_PER_CROWDED_THREAD = 7500;

/**
 * Threads for a job of about `cases` cases (fuzz runs × ops, checks): the number asked for
 * (`--workers`, else GRADTRIO_WORKERS), or as many as pay for their start — one per 1.5 cores,
 * then more up to the cores for a job long enough (`CASES_PER_CROWDED_THREAD`) — with a `note`
 * saying why when that is fewer than the cores, in the job's `unit`: the fuzz's runs (× ops), the
 * gate's cases (a point checked, a random point, an expression fuzzed).
 */
export function plannedWorkers(
  requested: number | undefined,
  cases: number,
  unit: "runs" | "cases",
  cores = availableParallelism(),
): { threads: number; note: string | null } {
  const asked = requested ?? workersFromEnv();
  if (asked !== undefined) return { threads: checkWorkers(asked), note: null };
  const fit = Math.max(1, Math.floor(cores / CORES_PER_THREAD));
  const paid = Math.max(1, Math.floor(cases / CASES_PER_THREAD));
  let threads = Math.min(fit, paid);
  if (threads === fit)
    while (threads < cores && cases / (threads * (threads + 1)) >= CASES_PER_CROWDED_THREAD)
      threads++;
  return {
    threads,
    note:
      threads < cores
        ? `using ${threads} worker thread${threads === 1 ? "" : "s"}, not ${cores}: ${cases} ${unit} are too few to pay for starting more (--workers ${cores} forces ${cores})`
        : null,
  };
}

/**
 * GRADTRIO_WORKERS as a thread count (unset or empty: none), in decimal digits as --workers takes
 * it (0x2, 2e0, +2 and 2.0 were read as 2); anything else is bad input.
 */
function workersFromEnv(): number | undefined {
  return integerFromEnv("GRADTRIO_WORKERS", 1, MAX_WORKERS);
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
/** Cases per judge task on threads: the claims counter's cost, and a result array, per task. */
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
  private readonly t0 = performance.now();
  /** The round being run: its tasks and their claims. */
  private round: { readonly tasks: readonly FuzzTask[]; readonly claims: Claims } | null = null;

  /**
   * @param file the ops module's absolute path, which worker threads load (needed with workers).
   */
  constructor(
    private readonly opts: FuzzOptions,
    private readonly file?: string,
  ) {
    ({ ctx: this.ctx, perOp: this.perOp } = prepareFuzz(opts));
  }

  /** Tasks started and not finished, on any thread, in task order. */
  get inFlight(): ReadonlySet<FuzzTask> {
    const r = this.round;
    return new Set(r === null ? [] : r.claims.inFlight().map((k) => r.tasks[k]!));
  }

  /** The result so far (all of it once `run` has finished). */
  partial(): FuzzResult {
    return fuzzResult(this.ctx, this.perOp, performance.now() - this.t0);
  }

  /**
   * Runs every task, on `workers` or in this thread; rejects with `Interrupted` on `signal`.
   * Each round's tasks are claimed by the threads for themselves (`claims.ts`); the results are
   * read in task order, so the outcome is the same whoever ran what.
   */
  async run(workers: Workers | null, signal?: AbortSignal): Promise<FuzzResult> {
    if (workers !== null && this.file === undefined)
      throw new GradtrioError("INVALID_ARGUMENT", "fuzz: workers need the ops module's path");
    const { defs: _, ...rest } = this.ctx;
    const settings = rest as FuzzSettings;
    const threads = workers?.threads ?? 1;
    // In this thread alone one case per task (the case in flight is exact); on threads a few.
    const width = workers === null ? 1 : threads * PER_THREAD;
    const chunk = workers === null ? 1 : CHUNK;
    const rounds = fuzzRounds(this.ctx, this.perOp, width, this.opts.onProgress, chunk);
    const interrupted = interruption(signal);
    const ops = this.ctx.defs.length;
    let round = rounds.next();
    while (round.done !== true) {
      const tasks = round.value;
      const claims = Claims.create(ops, threads, workers !== null);
      this.round = { tasks, claims };
      const results: FuzzTaskResult[] = new Array(tasks.length);
      const pool = workers?.share<[number, FuzzTaskResult][]>(
        (slot) => ({
          kind: "claims",
          file: this.file!,
          settings,
          tasks,
          buffer: claims.buffer as SharedArrayBuffer,
          ops,
          slot,
        }),
        () => claims.open(tasks.length),
      );
      try {
        for (let k = claims.claim(); k < tasks.length; k = claims.claim()) {
          claims.running(0, k);
          // Let timers, signals and the pool's messages in between tasks.
          await new Promise((r) => setImmediate(r));
          if (signal?.aborted === true) throw new Interrupted();
          results[k] = runClaimed(this.ctx, tasks, claims, k, 0);
        }
        if (pool !== undefined)
          for (const part of await Promise.race([pool.answers(), interrupted]))
            for (const [k, r] of part) results[k] = r;
      } catch (e) {
        claims.stop();
        // The round is over: a thread that becomes ready now does not join it.
        void pool?.answers().catch(() => {});
        throw e;
      }
      round = rounds.next(results);
    }
    this.round = null;
    return this.partial();
  }
}
