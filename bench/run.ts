/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) in turn.
 * Benchmarks print figures; they do not pass or fail. Speed is a ratio to a baseline timed in the
 * same process, because these machines are shared and noisy.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
for (const f of files) {
  console.log(`\n## ${f.replace(".bench.ts", "")}\n`);
  const mod = (await import(pathToFileURL(join(here, f)).href)) as {
    run: () => Promise<void> | void;
  };
  await mod.run();
}
