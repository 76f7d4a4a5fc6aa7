/**
 * The runner of `offload.ts` on Node: a `worker_threads` worker per job runs fast mode's numeric
 * leg while this thread runs the other legs (at 10^6 elements with two scalar inputs: four
 * passes over the elements, ~0.15 s each). `take` waits for it without the event loop (the check
 * is synchronous): the worker posts its result on a MessageChannel and wakes this thread through
 * shared memory. A worker that fails, or stalls (no evaluation done for STALL_MS), gives
 * undefined, and the leg runs on this thread: a broken worker costs time, never a wrong number.
 */
import { existsSync } from "node:fs";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { NumericLegResult } from "./leg.ts";
import type { NumericRunner } from "./offload.ts";

/** No result from the worker (the leg runs here): why, on stderr with GRADTRIO_DEBUG=1. */
function failed(why: string): undefined {
  if (process.env.GRADTRIO_DEBUG)
    process.stderr.write(`gradtrio: debug: fast mode's numeric leg on a worker thread: ${why}\n`);
  return undefined;
}

/**
 * How long `take` waits for the worker's next evaluation before giving up on it (one pass over
 * 10^7 elements takes about a second; a worker that died without a word costs this long).
 */
const STALL_MS = 20_000;

const ENTRY = new URL("./leg-entry.mjs", import.meta.url);

/** Starts `job` on a new worker thread. */
export const legThread: NumericRunner = (job) => {
  if (!existsSync(ENTRY)) return failed(`its entry ${ENTRY.pathname} is missing`);
  // state[0]: 1 once the worker is done (result, or its error, posted), 2 if it did not load;
  // state[1]: evaluations done so far (a heartbeat).
  const state = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    worker = new Worker(ENTRY, {
      workerData: { ...job, state, port: port2 },
      transferList: [port2],
    });
  } catch (e) {
    port1.close();
    return failed(`it did not start: ${e}`);
  }
  worker.unref();
  // An error in the worker shows in `take` (no result); it must not end this process.
  worker.on("error", () => {});
  let beat = 0;
  let since = Date.now();
  return {
    take(): NumericLegResult | undefined {
      try {
        while (Atomics.load(state, 0) === 0) {
          Atomics.wait(state, 0, 0, 1000);
          const b = Atomics.load(state, 1);
          if (b !== beat) {
            beat = b;
            since = Date.now();
          } else if (Date.now() - since > STALL_MS)
            return failed(`no evaluation done in ${STALL_MS / 1000} s`);
        }
        const m = receiveMessageOnPort(port1)?.message as
          | { result?: NumericLegResult; error?: string }
          | undefined;
        return m?.result ?? failed(m?.error ?? "it posted nothing");
      } finally {
        port1.close();
        void worker.terminate();
      }
    },
  };
};
