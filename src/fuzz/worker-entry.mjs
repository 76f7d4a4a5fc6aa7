// The worker threads' entry: plain JavaScript (tsx registered in a checkout); it preloads the
// pool's workerData before taking a task.
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
