/**
 * `npm run fuzz:long`: the property suites with a fresh random seed and 20× the runs (FC_SCALE).
 * Prints the seed first; a failure prints its seed and path, replayable with
 * `FC_SEED=<seed> FC_PATH=<path> npx vitest run <file>`.
 */
import { spawnSync } from "node:child_process";

const seed = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const scale = process.env.FC_SCALE ?? "20";
console.log(`long property run: FC_SEED=${seed} FC_SCALE=${scale}`);
const r = spawnSync("npx", ["vitest", "run", "properties", "--testTimeout=600000"], {
  stdio: "inherit",
  env: { ...process.env, FC_SEED: String(seed), FC_SCALE: scale },
});
process.exitCode = r.status ?? 1;
