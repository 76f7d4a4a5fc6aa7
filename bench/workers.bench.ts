/**
 * `--workers 2` against `--workers 1` (issue 14: ≥ 1.6× on a 2-core machine, same results), as a
 * user runs it: `gradtrio fuzz` (and `gradtrio gate`) of two correct ops, each a fresh process,
 * the two interleaved, median of the per-pair ratios; the JSON results compared. Then where the
 * CPU goes (Linux): per thread of one fresh process each, this thread, the pool's worker, and
 * V8's own helper threads (its optimizing compiler and garbage collector, shared by all threads).
 * The built package (dist/, built first when stale: what users run) and the checkout's bin.
 * `npm run bench workers`; WORKERS_RUNS=300,1000 (runs per op), WORKERS_REPS=3 (pairs),
 * WORKERS_BUILDS=built,checkout.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { builtRunner, root } from "./built.ts";
import { loadAverage, median } from "./timing.ts";
import { opsModule } from "./two-ops.ts";

const bin = join(root, "bin/gradtrio.js");
const self = fileURLToPath(import.meta.url);

interface Timed {
  readonly ms: number;
  /** The JSON output without timings (fuzz), or the report without them (gate). */
  readonly result: string;
  readonly stderr: string;
}

/** `cli` runs gradtrio: the checkout's bin, or a runner of the built package. */
function runBin(cli: string, args: readonly string[], cwd: string): Timed {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 28,
    env: { ...process.env, GRADTRIO_WORKERS: "" },
  });
  const ms = performance.now() - t0;
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`gradtrio ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const result = args.includes("--json")
    ? JSON.stringify(JSON.parse(r.stdout, (k, v) => (k === "ms" ? undefined : v)))
    : r.stdout.replace(/\d+(\.\d+)? ?m?s\b/g, "");
  return { ms, result, stderr: r.stderr };
}

/** Interleaved pairs (one worker, then two), the median of the per-pair ratios. */
function pairs(
  label: string,
  cli: string,
  args: readonly string[],
  cwd: string,
  reps: number,
): void {
  const ratios: number[] = [];
  const ones: number[] = [];
  const twos: number[] = [];
  let same = true;
  for (let i = 0; i < reps; i++) {
    const one = runBin(cli, [...args, "--workers", "1"], cwd);
    const two = runBin(cli, [...args, "--workers", "2"], cwd);
    same &&= one.result === two.result;
    ones.push(one.ms);
    twos.push(two.ms);
    ratios.push(one.ms / two.ms);
  }
  const s = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(", ");
  console.log(
    `${label}: --workers 2 is ${median(ratios).toFixed(2)}× --workers 1 (median of ${reps} interleaved pairs; ratios ${ratios.map((r) => r.toFixed(2)).join(", ")}); wall one ${s(ones)} s, two ${s(twos)} s; results identical: ${same}`,
  );
}

/** CPU milliseconds of each thread of this process (Linux), by thread id. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime, in clock ticks (100 per second on Linux).
      out.set(t, (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // The thread ended in between.
    }
  }
  return out;
}

interface Balance {
  wallMs: number;
  mainMs: number;
  /** The pool's threads (each with its module loader's thread, tsx's, in a checkout). */
  workersMs: number[];
  /** Threads that were there before the pool: V8's compiler and GC helpers (all isolates'). */
  helpersMs: number;
}

/** One fuzz in this (fresh) process: CPU per thread. Run as `… workers.bench.ts --balance R W`. */
async function balance(file: string, runs: number, threads: number): Promise<Balance> {
  const { loadOps } = await import("../src/fuzz/load.ts");
  const { FuzzRun, workerPool } = await import("../src/fuzz/parallel.ts");
  const ops = (await loadOps(file, "/")).map((o) => o.definition);
  const before = threadCpu();
  const t0 = performance.now();
  const pool = workerPool(threads, { ops: [file] });
  await new FuzzRun({ ops, runs, seed: 1, opsFile: file }, file).run(pool);
  const wallMs = performance.now() - t0;
  const after = threadCpu();
  await pool?.close();
  const main = String(process.pid);
  let mainMs = 0;
  let helpersMs = 0;
  const workersMs: number[] = [];
  for (const [t, ms] of after) {
    const d = ms - (before.get(t) ?? 0);
    if (t === main) mainMs = d;
    else if (before.has(t)) helpersMs += d;
    else if (d > 0) workersMs.push(d);
  }
  return { wallMs, mainMs, workersMs, helpersMs };
}

function balanceOf(file: string, runs: number, threads: number): Balance {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", self, "--balance", file, String(runs), String(threads)],
    { cwd: root, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`balance run failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Balance;
}

export async function run(): Promise<void> {
  const runsList = (process.env.WORKERS_RUNS ?? "300,1000").split(",").map(Number);
  const reps = Number(process.env.WORKERS_REPS ?? 3);
  console.log(
    `${availableParallelism()} cores, load average ${loadAverage()} (1, 5, 15 min) at the start\n`,
  );
  const dir = mkdtempSync(join(tmpdir(), "gradtrio-workers-bench-"));
  try {
    const file = opsModule(dir);
    // As installed (the figure users get), then the checkout's bin (sources through tsx).
    const builds = [
      {
        name: "built package",
        cli: builtRunner(dir),
        ops: opsModule(dir, "two-ops.dist.ts", pathToFileURL(join(root, "dist/index.js")).href),
      },
      {
        name: "checkout",
        cli: bin,
        ops: file,
      },
    ].filter((b) =>
      (process.env.WORKERS_BUILDS ?? "built,checkout").includes(b.name.split(" ")[0]!),
    );
    const big = Math.max(...runsList);
    for (const { name, cli, ops } of builds) {
      for (const runs of runsList)
        pairs(
          `${name}: fuzz, 2 ops × ${runs} runs`,
          cli,
          ["fuzz", "--ops", ops, "--runs", String(runs), "--seed", "1", "--json"],
          dir,
          reps,
        );
      const config = join(dir, `gradtrio.config.${name.split(" ")[0]}.mjs`);
      writeFileSync(
        config,
        `const x = { interval: [-2, 2] };
export default {
  seed: 1,
  checks: ["sin(x^2)", "exp(-x^2)*x", "tanh(x)^2", "log1p(x^2)"].map((expr) => ({ expr, domain: { x }, runs: 50 })),
  fuzz: [{ ops: ${JSON.stringify(`./${basename(ops)}`)}, runs: ${big} }],
};\n`,
      );
      pairs(
        `${name}: gate, 2 ops × ${big} runs and 4 checks × 50 points`,
        cli,
        ["gate", config],
        dir,
        reps,
      );
    }
    // The default: as many threads as the job pays for (said on stderr when fewer).
    const { name, cli, ops } = builds[0]!;
    for (const runs of runsList) {
      const d = runBin(cli, ["fuzz", "--ops", ops, "--runs", String(runs), "--seed", "1"], dir);
      console.log(
        `${name}: default --workers, 2 ops × ${runs} runs: ${(d.ms / 1000).toFixed(2)} s wall; ${
          d.stderr
            .trim()
            .split("\n")
            .find((l) => l.includes("worker")) ?? "all cores"
        }`,
      );
    }
    if (existsSync("/proc/self/task")) {
      console.log(`\nCPU per thread, 2 ops × ${big} runs, a fresh process each (Linux /proc):`);
      const ms = (x: number) => `${(x / 1000).toFixed(2)} s`;
      const floors: number[] = [];
      for (const threads of [1, 2]) {
        const b = balanceOf(file, big, threads);
        const all = b.mainMs + b.helpersMs + b.workersMs.reduce((a, x) => a + x, 0);
        // On two idle cores the wall is at least the busiest thread and half of all the CPU.
        floors.push(Math.max(b.mainMs, ...b.workersMs, all / 2));
        console.log(
          `  --workers ${threads}: wall ${ms(b.wallMs)}; this thread ${ms(b.mainMs)}${b.workersMs.length === 0 ? "" : `, pool threads ${b.workersMs.map(ms).join(" + ")}`}, V8 helpers (compiler, GC) ${ms(b.helpersMs)}; all ${ms(all)}`,
        );
      }
      console.log(
        `  on two idle cores the wall is at least the busiest thread and half of all: one worker ≥ ${ms(floors[0]!)}, two ≥ ${ms(floors[1]!)}, so two are at best ${(floors[0]! / floors[1]!).toFixed(2)}× one`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`load average ${loadAverage()} at the end`);
}

if (process.argv[1] === self) {
  const i = process.argv.indexOf("--balance");
  if (i < 0) await run();
  else {
    const [file, runs, threads] = process.argv.slice(i + 1);
    console.log(JSON.stringify(await balance(file!, Number(runs), Number(threads))));
  }
}
