// The numeric leg worker's entry: plain JavaScript (tsx registered in a checkout, where the sources
// are .ts beside this file; installed, the built .js). Before anything else it tells the waiting
// thread how to see it die (leg-thread.ts): an exit hook marks a worker that exits mid-leg
// (process.exit, an uncaught error) EXITED, and on Linux it gives its thread's id, whose
// /proc/self/task entry goes when the thread ends however it ends (out of memory: no JavaScript
// runs). A module that fails to load marks the job NOT_LOADED. Either way the waiting thread
// runs the leg itself at once.
import { existsSync, readlinkSync } from "node:fs";
import { workerData } from "node:worker_threads";

// state[0]: 0 running, 1 done, 2 not loaded, 3 exited mid-leg (leg-thread.ts).
const { state, port } = workerData;
process.on("exit", (code) => {
  if (Atomics.load(state, 0) !== 0) return;
  port.postMessage({ error: `it exited mid-leg (code ${code})` });
  Atomics.store(state, 0, 3);
  Atomics.notify(state, 0);
});
try {
  // "<pid>/task/<tid>"
  Atomics.store(state, 2, Number(readlinkSync("/proc/thread-self").split("/").pop()) || 0);
} catch {
  // No /proc (not Linux): the exit hook and the stall bound remain.
}

const ts = new URL("./leg-worker.ts", import.meta.url);
try {
  if (existsSync(ts)) {
    const { register } = await import("tsx/esm/api");
    register();
    await import(ts.href);
  } else await import(new URL("./leg-worker.js", import.meta.url).href);
} catch (e) {
  port.postMessage({ error: `the worker did not load: ${e}` });
  Atomics.store(state, 0, 2);
  Atomics.notify(state, 0);
}
