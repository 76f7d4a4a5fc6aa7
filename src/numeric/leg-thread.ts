/**
 * The runner of `offload.ts` on Node: a `worker_threads` worker per job runs fast mode's numeric
 * leg while this thread runs the other legs (at 10^6 elements with two scalar inputs: four
 * passes over the elements, ~0.15 s each). `take` waits for it without the event loop (the check
 * is synchronous): the worker posts its result on a MessageChannel and wakes this thread through
 * shared memory. A worker that fails or dies gives undefined, and the leg runs on this thread: a
 * broken worker costs time, never a wrong number.
 *
 * A worker that dies without a word is seen within POLL_MS: its exit hook marks an exit mid-leg
 * (process.exit, an uncaught error), and on Linux its thread's /proc/self/task entry goes however
 * it ends (out of memory: no JavaScript runs then; Node's own signals of a worker's end, its
 * `exit` and `error` events, need this thread's event loop). A live worker is waited for as long as
 * it makes progress: only a silence of PACE times its slowest evaluation so far, and at least
 * STALL_MS, gives up on it.
 */
import { existsSync } from "node:fs";
import {
  MessageChannel,
  type MessagePort,
  type ResourceLimits,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import type { NumericLegResult } from "./leg.ts";
import type { NumericJob, NumericRunner, TimedLeg } from "./offload.ts";

/** No result from the worker (the leg runs here): why, on stderr with GRADTRIO_DEBUG=1. */
function failed(why: string): undefined {
  debug(why);
  return undefined;
}

function debug(what: string): void {
  if (process.env.GRADTRIO_DEBUG)
    process.stderr.write(`gradtrio: debug: fast mode's numeric leg on a worker thread: ${what}\n`);
}

/**
 * How long `take` waits for a live worker's next evaluation before giving up on it, at least (one
 * pass over 10^7 elements takes about a second, 25 s measured at load 13 on 2 cores: hence also
 * PACE). Where the worker's thread cannot be watched (no /proc: not Linux), a worker that died of
 * out of memory costs this long.
 */
export const STALL_MS = 20_000;
/** A silence of this many times the worker's slowest evaluation so far gives up on it. */
const PACE = 10;
/** How often `take` looks whether the worker still lives while it waits. */
const POLL_MS = 50;

/**
 * state[0], the job's state (state[1]: evaluations done, a heartbeat; state[2]: the thread's id;
 * state[3]: its slowest evaluation's ms).
 */
const RUNNING = 0;
const EXITED = 3; // 1 done, 2 not loaded: leg-entry.mjs, leg-worker.ts

const ENTRY = new URL("./leg-entry.mjs", import.meta.url);

/** How `legThreadWith` starts and waits for its workers (tests: an entry that dies, a small heap). */
export interface LegThreadOptions {
  readonly entry?: URL;
  readonly resourceLimits?: ResourceLimits;
  /** The least silence that gives up on a live worker (default STALL_MS). */
  readonly stallMs?: number;
}

/** The worker's thread has ended (Linux: its task is gone), though it has not said so. */
function threadGone(state: Int32Array): boolean {
  const tid = Atomics.load(state, 2);
  return tid !== 0 && !existsSync(`/proc/self/task/${tid}`);
}

/** A worker thread started for one job, and what its waiting thread holds of it. */
interface Started {
  readonly worker: Worker;
  readonly state: Int32Array;
  /** This thread's end of the job's channel (the job goes out on it when prestarted; the result comes back). */
  readonly port: MessagePort;
}

/**
 * A runner that starts each job on a new worker thread; `prestart` starts the next one's thread
 * ahead of its job, so that it loads its modules (~0.2 s) while this thread reads the input.
 */
export interface LegRunner extends NumericRunner {
  prestart(): void;
}

/** A runner that starts each job on a new worker thread (or on the one `prestart` started). */
export function legThreadWith({
  entry = ENTRY,
  resourceLimits,
  stallMs = STALL_MS,
}: LegThreadOptions = {}): LegRunner {
  /** A worker started ahead of its job, waiting for it on its port. */
  let spare: Started | undefined;
  const start = (job?: NumericJob): Started | string => {
    if (!existsSync(entry)) return `its entry ${entry.pathname} is missing`;
    const state = new Int32Array(new SharedArrayBuffer(16));
    const { port1, port2 } = new MessageChannel();
    let worker: Worker;
    try {
      worker = new Worker(entry, {
        workerData: { ...job, state, port: port2 },
        transferList: [port2],
        ...(resourceLimits === undefined ? {} : { resourceLimits }),
      });
    } catch (e) {
      port1.close();
      return `it did not start: ${e}`;
    }
    worker.unref();
    // An error in the worker shows in `take` (no result); it must not end this process.
    worker.on("error", () => {});
    return { worker, state, port: port1 };
  };
  const runner = (job: NumericJob) => {
    let started: Started | string;
    if (spare !== undefined) {
      started = spare;
      spare = undefined;
      try {
        started.port.postMessage(job);
      } catch (e) {
        void started.worker.terminate();
        return failed(`its job could not be sent: ${e}`);
      }
    } else started = start(job);
    if (typeof started === "string") return failed(started);
    const { worker, state, port: port1 } = started;
    let beat = 0;
    let since = Date.now();
    return {
      take(): TimedLeg | undefined {
        const t0 = performance.now();
        try {
          while (Atomics.load(state, 0) === RUNNING) {
            if (Atomics.wait(state, 0, RUNNING, POLL_MS) !== "timed-out") continue;
            const b = Atomics.load(state, 1);
            const patience = Math.max(stallMs, PACE * Atomics.load(state, 3));
            if (b !== beat) {
              beat = b;
              since = Date.now();
            } else if (Date.now() - since > patience)
              return failed(
                `no evaluation done in ${patience / 1000} s (${PACE} times its slowest so far, at least ${stallMs / 1000} s)`,
              );
            // Done just before its thread ended is done.
            if (threadGone(state) && Atomics.load(state, 0) === RUNNING)
              return failed(
                `its thread ended without a word (out of memory?) after ${beat} evaluations`,
              );
          }
          const m = receiveMessageOnPort(port1)?.message as
            | { result?: NumericLegResult; ms?: number; error?: string }
            | undefined;
          if (m?.result === undefined || m.ms === undefined)
            return failed(
              m?.error ?? (Atomics.load(state, 0) === EXITED ? "it exited" : "it posted nothing"),
            );
          debug(
            `the leg took ${m.ms.toFixed(0)} ms there; this thread waited ${(performance.now() - t0).toFixed(0)} ms for it`,
          );
          return { result: m.result, ms: m.ms };
        } finally {
          port1.close();
          void worker.terminate();
        }
      },
    };
  };
  return Object.assign(runner, {
    prestart(): void {
      if (spare !== undefined) return;
      const s = start();
      if (typeof s === "string") debug(`no worker started ahead: ${s}`);
      else spare = s;
    },
  });
}

/** Starts `job` on a new worker thread. */
export const legThread: LegRunner = legThreadWith();
