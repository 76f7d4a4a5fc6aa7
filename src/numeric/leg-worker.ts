/**
 * The worker thread of `leg-thread.ts`: runs fast mode's numeric leg of its job (`numericLeg`'s
 * own function), posts the result and the leg's own time on its port, then marks its state done.
 * It counts each evaluation in state[1] (a heartbeat) as it goes, and keeps its slowest one's ms
 * in state[3] (the waiting thread's patience grows with it).
 */
import { type MessagePort, workerData } from "node:worker_threads";
import { runNumericLeg } from "./leg.ts";
import type { NumericJob } from "./offload.ts";

const job = workerData as NumericJob & { readonly state: Int32Array; readonly port: MessagePort };
const { state } = job;
try {
  const t0 = performance.now();
  let last = t0;
  const beat = () => {
    const t = performance.now();
    if (t - last > Atomics.load(state, 3)) Atomics.store(state, 3, Math.ceil(t - last));
    last = t;
    Atomics.add(state, 1, 1);
  };
  const result = runNumericLeg(job.expr, job.values, job.opts, beat);
  job.port.postMessage({ result, ms: performance.now() - t0 });
} catch (e) {
  job.port.postMessage({ error: String(e) });
} finally {
  job.port.close();
  Atomics.store(state, 0, 1);
  Atomics.notify(state, 0);
}
