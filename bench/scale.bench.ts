/**
 * Scale: 100 fuzz runs of a correct 2-argument op on one thread (wall and CPU time, CAS calls),
 * the coverage of `gate --shard 1/2` + `2/2`, and `check` of a custom op over long vectors. `npm run bench scale`. (`--workers`:
 * bench/workers.bench.ts.) The machine is shared: CPU time is the steadier figure.
 */
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { check } from "../src/check/check.ts";
import { loadConfig, runGate } from "../src/fuzz/gate.ts";
import { loadOps } from "../src/fuzz/load.ts";
import { FuzzRun } from "../src/fuzz/parallel.ts";
import { casStats } from "../src/symbolic/cas.ts";
import { median, ratio } from "./timing.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const opsFile = join(root, "test/fixtures/ops/second-arg.ok.ts");

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

  // `--workers 2` against one: bench/workers.bench.ts (`npm run bench workers`).

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

  // A custom op over a long vector against its built-in twin, in one process, alternately.
  const cube = (await loadOps(join(root, "test/fixtures/ops/ignores-grad.ok.ts"), root))[0]!
    .definition;
  for (const n of [200, 2000, 10_000, 100_000]) {
    const x = Array.from({ length: n }, (_, i) => Math.sin(i) * 2);
    const r = ratio(
      () => check(`mean(${cube.name}(x))`, { at: { x } }),
      () => check("mean(x^3)", { at: { x } }),
      3,
    );
    console.log(
      `check of mean(${cube.name}(x)), n = ${n}: ${(r.candidateMs / 1000).toFixed(2)} s, ${r.ratio.toFixed(1)}× its built-in twin mean(x^3) (${(r.baselineMs / 1000).toFixed(2)} s)`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
