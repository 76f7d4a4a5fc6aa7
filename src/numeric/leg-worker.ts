/**
 * The worker thread of `leg-thread.ts`: runs fast mode's numeric leg of its job (`numericLeg`'s
 * own function), posts the result and the leg's own time on its port, then marks its state done.
 * It counts each evaluation in state[1] (a heartbeat) as it goes, and keeps its slowest one's ms
 * in state[3] (the waiting thread's patience grows with it). A worker started ahead of its job
 * (`LegRunner.prestart`: it loads while the command reads its input) gets the job on its port.
 */
import { type MessagePort, workerData } from "node:worker_threads";
import { runNumericLeg } from "./leg.ts";
import type { NumericJob } from "./offload.ts";

const data = workerData as Partial<NumericJob> & {
  readonly state: Int32Array;
  readonly port: MessagePort;
};
const { state, port } = data;

function run(job: NumericJob): void {
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
    port.postMessage({ result, ms: performance.now() - t0 });
  } catch (e) {
    port.postMessage({ error: String(e) });
  } finally {
    port.close();
    Atomics.store(state, 0, 1);
    Atomics.notify(state, 0);
  }
}

// Its job in workerData, or, started ahead of it (`prestart`), the first message on its port.
if (data.expr !== undefined) run(data as NumericJob);
else port.once("message", run);
