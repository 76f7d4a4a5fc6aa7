// The numeric leg worker's entry: plain JavaScript (tsx registered in a checkout, where the sources
// are .ts beside this file; installed, the built .js). A module that fails to load marks the
// job failed (state[0] = 2), so the waiting thread runs the leg itself at once.
import { existsSync } from "node:fs";
import { workerData } from "node:worker_threads";

const ts = new URL("./leg-worker.ts", import.meta.url);
try {
  if (existsSync(ts)) {
    const { register } = await import("tsx/esm/api");
    register();
    await import(ts.href);
  } else await import(new URL("./leg-worker.js", import.meta.url).href);
} catch (e) {
  workerData.port.postMessage({ error: `the worker did not load: ${e}` });
  Atomics.store(workerData.state, 0, 2);
  Atomics.notify(workerData.state, 0);
}
