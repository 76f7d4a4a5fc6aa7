/**
 * Scale: 100 fuzz runs of a correct 2-argument op on one thread (wall and CPU time, CAS calls),
 * `--workers 2` against one worker (median of interleaved pairs; same result checked), and the
 * coverage of `gate --shard 1/2` + `2/2`. `npm run bench scale`.
 * The machine is shared: CPU time is the steadier figure; the speed-up needs two idle cores.
 */
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FuzzResult } from "../src/fuzz/fuzz.ts";
import { loadConfig, runGate } from "../src/fuzz/gate.ts";
import { loadOps } from "../src/fuzz/load.ts";
import { FuzzRun, workerPool } from "../src/fuzz/parallel.ts";
import { casStats } from "../src/symbolic/cas.ts";
import { median } from "./timing.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const opsFile = join(root, "test/fixtures/ops/second-arg.ok.ts");

/** The result without its timings, to compare runs. */
const bare = (r: FuzzResult) =>
  JSON.stringify(r.perOp, (k, v) => (k === "ms" || k === "msToDetection" ? undefined : v));

export async function run(): Promise<void> {
  console.log(`${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}\n`);
  const ops = (await loadOps(opsFile, root)).map((o) => o.definition);
  const opts = (seed: number) => ({ ops, seed, runs: 100 });

  const cpu: number[] = [];
  const wall: number[] = [];
  const calls: number[] = [];
  for (const seed of [1, 2, 3]) {
    const c0 = process.cpuUsage();
    const n0 = casStats.calls;
    const t0 = performance.now();
    await new FuzzRun(opts(seed), opsFile).run(null);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    calls.push(casStats.calls - n0);
  }
  console.log(
    `100 fuzz runs of hypot2Ok, one thread (seeds 1–3): wall median ${(median(wall) / 1000).toFixed(2)} s, CPU median ${(median(cpu) / 1000).toFixed(2)} s, nerdamer calls median ${median(calls)}`,
  );

  const pool = workerPool(2)!;
  try {
    // Warm the threads (tsx, nerdamer, the ops' CAS derivatives) once, as a long run amortises it.
    await new FuzzRun(opts(9), opsFile).run(pool);
    const ratios: number[] = [];
    let same = true;
    // Process CPU time counts every thread: with two workers it shows the work done, whatever
    // share of the cores the scheduler gave them.
    const timed = async (workers: typeof pool | null, seed: number) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await new FuzzRun(opts(seed), opsFile).run(workers);
      const c = process.cpuUsage(c0);
      return { r, wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
    };
    for (const seed of [4, 5, 6]) {
      const one = await timed(null, seed);
      const two = await timed(pool, seed);
      same &&= bare(one.r) === bare(two.r);
      ratios.push(one.wall / two.wall);
      console.log(
        `  seed ${seed}: one thread ${(one.wall / 1000).toFixed(2)} s (CPU ${(one.cpu / 1000).toFixed(2)} s), two workers ${(two.wall / 1000).toFixed(2)} s (CPU of all threads ${(two.cpu / 1000).toFixed(2)} s)`,
      );
    }
    console.log(
      `--workers 2 vs one: ${median(ratios).toFixed(2)}× faster (median of 3), results identical: ${same}`,
    );
  } finally {
    await pool.close();
  }

  const cfg = join(root, "test/fixtures/gate/failing.config.ts");
  const { config, dir } = await loadConfig(cfg, root);
  const names = async (shard?: { index: number; count: number }) =>
    (await runGate(config, { dir, ...(shard === undefined ? {} : { shard }) })).entries.map(
      (e) => `${e.path} ${e.name}`,
    );
  const all = await names();
  const parts = [await names({ index: 1, count: 2 }), await names({ index: 2, count: 2 })];
  const union = parts.flat();
  console.log(
    `gate --shard 1/2 + 2/2: ${parts[0]!.length} + ${parts[1]!.length} entries of ${all.length}; every entry exactly once: ${union.length === all.length && new Set(union).size === all.length && all.every((n) => union.includes(n))}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
