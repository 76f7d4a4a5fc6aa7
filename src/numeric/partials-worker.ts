/**
 * The worker thread of `partials-thread.ts`: computes fast mode's per-element partials of its job
 * (`partialsAlong`, the function the numeric leg uses itself), posts them on its port, then
 * marks its state done. It counts each partial in state[1] (a heartbeat) as it goes.
 */
import { type MessagePort, workerData } from "node:worker_threads";
import type { Expr } from "../expr/ast.ts";
import type { Layout } from "./evaluate.ts";
import { partialsAlong } from "./leg.ts";

const job = workerData as {
  readonly expr: Expr;
  readonly layout: [string, { offset: number; shape: number[] }][];
  readonly x: Float64Array;
  readonly coordinates: number[];
  readonly state: Int32Array;
  readonly port: MessagePort;
};
try {
  const layout: Layout = new Map(job.layout);
  const results = partialsAlong(job.expr, layout, job.x, job.coordinates, () =>
    Atomics.add(job.state, 1, 1),
  );
  job.port.postMessage({ results });
} catch (e) {
  job.port.postMessage({ error: String(e) });
} finally {
  job.port.close();
  Atomics.store(job.state, 0, 1);
  Atomics.notify(job.state, 0);
}
