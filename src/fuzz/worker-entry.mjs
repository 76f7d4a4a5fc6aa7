// The worker threads' entry (tinypool's `filename`): plain JavaScript, so that it loads in any
// worker; it registers tsx there when the task module is TypeScript (a checkout, no build step).
import { existsSync } from "node:fs";

const ts = new URL("./worker.ts", import.meta.url);
let mod;
if (existsSync(ts)) {
  const { register } = await import("tsx/esm/api");
  register();
  mod = await import(ts.href);
} else mod = await import(new URL("./worker.js", import.meta.url).href);

export default mod.default;
