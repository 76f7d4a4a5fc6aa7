/**
 * The worker thread of `leg-thread.ts`: runs fast mode's numeric leg of its job (`numericLeg`'s
 * own function), posts the result and the leg's own time on its port, then marks its state done.
 * It counts each evaluation in state[1] (a heartbeat) as it goes.
 */
import { type MessagePort, workerData } from "node:worker_threads";
import { runNumericLeg } from "./leg.ts";
import type { NumericJob } from "./offload.ts";

const job = workerData as NumericJob & { readonly state: Int32Array; readonly port: MessagePort };
try {
  const t0 = performance.now();
  const result = runNumericLeg(job.expr, job.values, job.opts, () => Atomics.add(job.state, 1, 1));
  job.port.postMessage({ result, ms: performance.now() - t0 });
} catch (e) {
  job.port.postMessage({ error: String(e) });
} finally {
  job.port.close();
  Atomics.store(job.state, 0, 1);
  Atomics.notify(job.state, 0);
}
