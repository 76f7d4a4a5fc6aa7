/**
 * Tensor custom ops: the time to fuzz the README's examples (examples/tensor-ops.ts: softmax,
 * layer norm) with default runs, as a ratio to fuzzing a correct scalar op in the same process;
 * and the planted tensor bugs of test/fixtures/ops/tensor (transposed index, missing sum over a
 * broadcast dimension, wrong softmax normaliser) over seeds 1–10: detection rate, where found,
 * and false alarms on their correct twins. `npm run bench tensorops` (FUZZ_SEEDS=… to change).
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { layerNorm, mySoftmax } from "../examples/tensor-ops.ts";
import { DEFAULT_RUNS, fuzz } from "../src/fuzz/fuzz.ts";
import { loadOps } from "../src/fuzz/load.ts";
import { median, timeMs } from "./timing.ts";

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, "../test/fixtures/ops/tensor");

export async function run(): Promise<void> {
  const seeds = (process.env.FUZZ_SEEDS ?? "1,2,3,4,5,6,7,8,9,10").split(",").map(Number);
  const load = async (f: string, d = dir) => (await loadOps(f, d)).map((o) => o.definition);
  const scalar = await load("wrong-sign.ok.ts", join(here, "../test/fixtures/ops"));

  console.log(
    `fuzz with default runs (${DEFAULT_RUNS}), median over seeds 1–3, ratio to a scalar op:`,
  );
  for (const [name, op] of [
    ["mySoftmax", mySoftmax],
    ["layerNorm", layerNorm],
  ] as const) {
    const ratios: number[] = [];
    const ms: number[] = [];
    for (const seed of [1, 2, 3]) {
      const t = timeMs(() => fuzz({ ops: [op], seed }));
      const b = timeMs(() => fuzz({ ops: scalar, seed }));
      ms.push(t);
      ratios.push(t / b);
    }
    console.log(
      `  ${name.padEnd(10)} ${(median(ms) / 1000).toFixed(1)} s  (${median(ratios).toFixed(2)}× the scalar op's fuzz)`,
    );
  }

  const files = readdirSync(dir)
    .filter((f) => /\.(bug|ok)\.ts$/.test(f))
    .sort();
  console.log(`\nplanted tensor bugs, seeds ${seeds.join(", ")}:`);
  for (const f of files) {
    const ops = await load(f);
    let found = 0;
    let alone = 0;
    let blamed = 0;
    const ms: number[] = [];
    for (const seed of seeds) {
      const r = fuzz({ ops, seed });
      if (r.found === null) continue;
      found++;
      if (r.found.path.startsWith("sweep:")) alone++;
      if (r.found.blame === "autograd") blamed++;
      ms.push(r.perOp[0]!.msToDetection ?? 0);
    }
    const kind = f.endsWith(".bug.ts") ? "caught" : "false alarms";
    const where =
      found === 0
        ? ""
        : `, ${alone} alone / ${found - alone} in expressions, blame autograd ${blamed}, median ${median(ms).toFixed(0)} ms to detect`;
    console.log(`  ${f.padEnd(18)} ${kind} ${found}/${seeds.length}${where}`);
  }
}
