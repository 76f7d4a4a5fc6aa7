// The worker threads' entry (tinypool's `filename`): plain JavaScript, so that it loads in any
// worker; it registers tsx there when the task module is TypeScript (a checkout, no build step).
// It starts loading the user's modules (the pool's workerData) before it takes a task.
import { existsSync } from "node:fs";
import Tinypool from "tinypool";

const ts = new URL("./worker.ts", import.meta.url);
let mod;
if (existsSync(ts)) {
  const { register } = await import("tsx/esm/api");
  register();
  mod = await import(ts.href);
} else mod = await import(new URL("./worker.js", import.meta.url).href);
mod.preload(Tinypool.workerData);

export default mod.default;
