/**
 * A round of fuzz tasks that the threads claim for themselves: a counter in shared memory hands
 * out the next task to whichever thread asks first, so a thread that finishes a task starts the
 * next at once, without a message to this thread and back (which waits while this thread runs a
 * task of its own). Each thread returns its results once the round's tasks are all claimed.
 *
 * The cells (Int32, shared between the threads of one fuzz):
 * - `[0]`: the next task to claim;
 * - `[1 + op]`: the op's first failing case found so far (`NONE` when none): a judge task past it
 *   is skipped, as its results would not be read (`fuzzRounds` stops at the first failure);
 * - `[1 + ops + slot]`: the task the thread in that slot is running (−1 when none), which an
 *   interrupted run reports as in flight.
 */
import {
  type CaseResult,
  type FuzzContext,
  type FuzzTask,
  type FuzzTaskResult,
  runTask,
} from "./fuzz.ts";

const NONE = 0x7fffffff;
/** The counter of a stopped round: past any round's tasks, far from overflowing as threads claim. */
const STOPPED = 1 << 30;

export class Claims {
  private readonly cells: Int32Array;

  /**
   * @param buffer the cells (a SharedArrayBuffer when other threads claim too)
   * @param ops the fuzz's number of ops
   */
  constructor(
    readonly buffer: ArrayBufferLike,
    readonly ops: number,
  ) {
    this.cells = new Int32Array(buffer);
  }

  /** Fresh cells for `ops` ops and `slots` threads, shared with other threads when `shared`. */
  static create(ops: number, slots: number, shared: boolean): Claims {
    const bytes = Int32Array.BYTES_PER_ELEMENT * (1 + ops + slots);
    const claims = new Claims(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes), ops);
    claims.cells.fill(NONE, 1, 1 + ops);
    claims.cells.fill(-1, 1 + ops);
    return claims;
  }

  /** The index of the next unclaimed task (at least the number of tasks once all are claimed). */
  claim(): number {
    return Atomics.add(this.cells, 0, 1);
  }

  /** Whether some of the round's `n` tasks are not claimed yet. */
  open(n: number): boolean {
    return Atomics.load(this.cells, 0) < n;
  }

  /** Leaves no task to claim (an interrupted run): the other threads stop after their current one. */
  stop(): void {
    Atomics.store(this.cells, 0, STOPPED);
  }

  /** The first failing case of `op` found so far (`NONE` when none). */
  failedAt(op: number): number {
    return Atomics.load(this.cells, 1 + op);
  }

  /** Records that case `index` of `op` fails (the smallest such index is kept). */
  fail(op: number, index: number): void {
    const cell = 1 + op;
    for (let seen = Atomics.load(this.cells, cell); index < seen; ) {
      const was = Atomics.compareExchange(this.cells, cell, seen, index);
      if (was === seen) return;
      seen = was;
    }
  }

  /** Marks task `k` (−1: none) as running on the thread in `slot`. */
  running(slot: number, k: number): void {
    Atomics.store(this.cells, 1 + this.ops + slot, k);
  }

  /** The tasks running now, on any thread, in task order. */
  inFlight(): number[] {
    const out: number[] = [];
    for (let i = 1 + this.ops; i < this.cells.length; i++) {
      const k = Atomics.load(this.cells, i);
      if (k >= 0) out.push(k);
    }
    return out.sort((a, b) => a - b);
  }
}

/**
 * Runs claimed task `k` on the thread in `slot`: a judge task past its op's first failing case
 * gets no results (they would not be read), and a failing case is recorded for the others.
 */
export function runClaimed(
  ctx: FuzzContext,
  tasks: readonly FuzzTask[],
  claims: Claims,
  k: number,
  slot: number,
): FuzzTaskResult {
  const task = tasks[k]!;
  if (task.kind === "judge" && task.from > claims.failedAt(task.op)) {
    claims.running(slot, -1);
    return [];
  }
  claims.running(slot, k);
  const result = runTask(ctx, task);
  claims.running(slot, -1);
  if (task.kind === "judge") {
    const j = (result as readonly CaseResult[]).findIndex((c) => c.kind === "fail");
    if (j >= 0) claims.fail(task.op, task.from + j);
  }
  return result;
}

/** Claims and runs tasks until none is left (a worker thread's part of a round). */
export function claimAll(
  ctx: FuzzContext,
  tasks: readonly FuzzTask[],
  claims: Claims,
  slot: number,
): [number, FuzzTaskResult][] {
  const out: [number, FuzzTaskResult][] = [];
  for (let k = claims.claim(); k < tasks.length; k = claims.claim())
    out.push([k, runClaimed(ctx, tasks, claims, k, slot)]);
  return out;
}
