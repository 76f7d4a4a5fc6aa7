/**
 * The runner of `offload.ts` on Node: a `worker_threads` worker per job computes fast mode's
 * per-element partials while this thread runs the other legs (a check at 10^6 elements with
 * two scalar inputs: two evaluations of 0.15 s each). `take` waits for them without the event
 * loop (the check is synchronous): the worker posts its results on a MessageChannel and wakes
 * this thread through shared memory. A worker that fails, or stalls (no partial done for
 * STALL_MS), gives undefined, and the leg computes the partials itself: a broken worker costs
 * time, never a wrong number.
 */
import { existsSync } from "node:fs";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { Along, PartialsRunner } from "./offload.ts";

/** No partials from the worker (the leg computes them): why, on stderr with GRADTRIO_DEBUG=1. */
function failed(why: string): undefined {
  if (process.env.GRADTRIO_DEBUG)
    process.stderr.write(`gradtrio: debug: fast mode's partials on a worker thread: ${why}\n`);
  return undefined;
}

/** How long `take` waits for the next partial before giving up on the worker. */
const STALL_MS = 60_000;

const ENTRY = new URL("./partials-entry.mjs", import.meta.url);

/** Starts `job` on a new worker thread. */
export const partialsThread: PartialsRunner = (job) => {
  if (!existsSync(ENTRY)) return failed(`its entry ${ENTRY.pathname} is missing`);
  // state[0]: 1 once the worker is done (results, or its error, posted), 2 if it did not load;
  // state[1]: partials done so far.
  const state = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    worker = new Worker(ENTRY, {
      workerData: {
        expr: job.expr,
        layout: [...job.layout],
        x: job.x,
        coordinates: job.coordinates,
        state,
        port: port2,
      },
      transferList: [port2],
    });
  } catch (e) {
    port1.close();
    return failed(`it did not start: ${e}`);
  }
  worker.unref();
  // An error in the worker shows in `take` (no results); it must not end this process.
  worker.on("error", () => {});
  let beat = 0;
  let since = Date.now();
  return {
    coordinates: job.coordinates,
    take(): readonly Along[] | undefined {
      try {
        while (Atomics.load(state, 0) === 0) {
          Atomics.wait(state, 0, 0, 1000);
          const b = Atomics.load(state, 1);
          if (b !== beat) {
            beat = b;
            since = Date.now();
          } else if (Date.now() - since > STALL_MS)
            return failed(`no partial done in ${STALL_MS / 1000} s`);
        }
        const m = receiveMessageOnPort(port1)?.message as
          | { results?: Along[]; error?: string }
          | undefined;
        return m?.results ?? failed(m?.error ?? "it posted nothing");
      } finally {
        port1.close();
        void worker.terminate();
      }
    },
  };
};
