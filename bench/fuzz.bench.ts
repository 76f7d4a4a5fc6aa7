/**
 * The fuzzer against the planted bugs of test/fixtures/ops: detection rate (over several seeds,
 * default runs), where each was found (the op alone, by the sweep of its domain, or in random
 * expressions), median and worst time to detection (first failing case, and with shrinking),
 * and false positives on the correct twins. `npm run bench fuzz` (FUZZ_SEEDS=… to change seeds).
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_RUNS, fuzz } from "../src/fuzz/fuzz.ts";
import { loadOps } from "../src/fuzz/load.ts";
import { median } from "./timing.ts";

const dir = join(dirname(fileURLToPath(import.meta.url)), "../test/fixtures/ops");

export async function run(): Promise<void> {
  const seeds = (process.env.FUZZ_SEEDS ?? "1,2,3,4,5").split(",").map(Number);
  const files = readdirSync(dir).filter((f) => /\.(bug|ok)\.ts$/.test(f));
  const bugs = files.filter((f) => f.endsWith(".bug.ts")).sort();
  const twins = files.filter((f) => f.endsWith(".ok.ts")).sort();
  const load = async (f: string) => (await loadOps(f, dir)).map((o) => o.definition);

  console.log(
    `${bugs.length} planted bugs, ${twins.length} correct twins, seeds ${seeds.join(", ")}, ${DEFAULT_RUNS} runs per op\n`,
  );
  const detect: number[] = [];
  const total: number[] = [];
  const casesToDetect: number[] = [];
  let found = 0;
  let blamedAutograd = 0;
  let bySweep = 0;
  const missed: string[] = [];
  console.log(
    "bug                      found  blame/where     cases  ms to detect  ms with shrink",
  );
  for (const f of bugs) {
    const ops = await load(f);
    const rows: string[] = [];
    for (const seed of seeds) {
      const r = fuzz({ ops, seed });
      const s = r.perOp[0]!;
      if (r.found === null) {
        missed.push(`${f} (seed ${seed})`);
        continue;
      }
      found++;
      if (r.found.blame === "autograd") blamedAutograd++;
      if (r.found.path.startsWith("sweep:")) bySweep++;
      detect.push(s.msToDetection ?? 0);
      total.push(s.ms);
      casesToDetect.push(s.runs);
      rows.push(`${r.found.blame}/${r.found.path.startsWith("sweep:") ? "sweep" : "expr"}`);
    }
    // This bug's entries: the last rows.length of each list (none when no seed found it;
    // slice(-0) would be the whole list).
    const mine = (xs: number[]) => xs.slice(xs.length - rows.length);
    const med = (xs: number[], show: (v: number) => string) =>
      rows.length === 0 ? "-" : show(median(mine(xs)));
    console.log(
      `${f.replace(".bug.ts", "").padEnd(24)} ${`${rows.length}/${seeds.length}`.padStart(5)}  ${(rows[0] ?? "-").padEnd(16)} ${med(casesToDetect, String).padStart(3)}  ${med(detect, (v) => v.toFixed(0)).padStart(12)}  ${med(total, (v) => v.toFixed(0)).padStart(14)}`,
    );
  }
  const n = bugs.length * seeds.length;
  console.log(
    `\ndetection: ${found}/${n} (${((100 * found) / n).toFixed(1)}%), blamed on autograd: ${blamedAutograd}/${found}, found alone by the domain sweep: ${bySweep}/${found}`,
  );
  if (missed.length > 0) console.log(`missed: ${missed.join(", ")}`);
  console.log(
    `time to detection: median ${median(detect).toFixed(0)} ms, worst ${Math.max(...detect).toFixed(0)} ms (first failing case); with shrinking: median ${median(total).toFixed(0)} ms, worst ${Math.max(...total).toFixed(0)} ms; cases until detection: median ${median(casesToDetect)}, worst ${Math.max(...casesToDetect)}`,
  );

  let falsePositives = 0;
  let twinRuns = 0;
  const twinMs: number[] = [];
  const fps: string[] = [];
  for (const f of twins) {
    const ops = await load(f);
    for (const seed of seeds) {
      const r = fuzz({ ops, seed });
      twinRuns += r.runs;
      twinMs.push(r.ms);
      if (r.found !== null) {
        falsePositives++;
        fps.push(
          `${f} seed ${seed}: ${r.found.expr} at ${JSON.stringify(r.found.at)}: ${r.found.reason}`,
        );
      }
    }
  }
  console.log(
    `\nfalse positives on the twins: ${falsePositives}/${twins.length * seeds.length} fuzz runs (${twinRuns} cases); a twin's full run: median ${median(twinMs).toFixed(0)} ms, worst ${Math.max(...twinMs).toFixed(0)} ms`,
  );
  for (const fp of fps) console.log(`  ${fp.slice(0, 300)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
