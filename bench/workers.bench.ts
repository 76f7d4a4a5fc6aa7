/**
 * `--workers 2` against `--workers 1` (issue 14: ≥ 1.6× on a 2-core machine, same results), as a
 * user runs it: `gradtrio fuzz` (and `gradtrio gate`) of two correct ops, each a fresh process,
 * the two interleaved, median of the per-pair ratios; the JSON results compared. Then where the
 * CPU goes (Linux): per thread of one fresh process each, this thread, the pool's worker, and
 * V8's own helper threads (its optimizing compiler and garbage collector, shared by all threads).
 * The built package (dist/, built first when stale: what users run) and the checkout's bin.
 * What bounds the ratio on this machine, measured two ways:
 * - the ceiling: two fresh processes at once, each `--workers 1` with half the runs (seeds 1 and 2),
 *   against one process with all of them: what splitting the job costs with no threads, no pool
 *   and nothing shared, so no worker design can beat it by more than the second process's start;
 * - warm-up and steady state: in one process, 1 or 2 worker threads at once each run a fuzz of
 *   WORKERS_WARM runs (cold: V8 compiles the code meanwhile), then one of WORKERS_WARM × 2 runs
 *   (warm); how much slower a thread is beside another, cold and warm.
 * And the optimizing compiler's work (`--trace-opt`, `--trace-deopt`: deterministic enough to
 * compare builds on a loaded machine, where times are not): TurboFan compilations, how many compile
 * a function again (after a deopt), their time, and the deopts, over a fuzz on 1 and on 2 threads.
 * `npm run bench workers`; WORKERS_RUNS=300,1000 (runs per op), WORKERS_REPS=3 (pairs),
 * WORKERS_BUILDS=built,checkout, WORKERS_WARM=4000 (0: no warm-up part), WORKERS_TRACE=5000 (runs
 * per op of the compiler count; 0: none).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
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

/** What V8's optimizing compiler did in one process (all its threads' isolates). */
interface CompilerWork {
  /** TurboFan compilations (on-stack replacement ones included). */
  readonly compiles: number;
  /** Compilations of a function already compiled before (after a deopt, mostly). */
  readonly again: number;
  /** Their time: the sum of each one's three phases (ms; most of it on V8's helper threads). */
  readonly ms: number;
  readonly deopts: number;
}

/** `cli args` in a fresh process under `--trace-opt --trace-deopt`: what the compiler did. */
function compilerWork(cli: string, args: readonly string[], cwd: string): CompilerWork {
  const r = spawnSync(process.execPath, ["--trace-opt", "--trace-deopt", cli, ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 30,
    env: { ...process.env, GRADTRIO_WORKERS: "" },
  });
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`gradtrio ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const compiled =
    /^\[completed compiling 0x[0-9a-f]+ <JSFunction.*?\(sfi = (0x[0-9a-f]+)\)> \(target TURBOFAN\)(?: OSR)? - took ([\d.]+), ([\d.]+), ([\d.]+) ms/gm;
  let compiles = 0;
  let ms = 0;
  const functions = new Set<string>();
  for (const m of r.stdout.matchAll(compiled)) {
    compiles++;
    functions.add(m[1]!);
    ms += Number(m[2]) + Number(m[3]) + Number(m[4]);
  }
  const deopts = r.stdout.match(/^\[bailout \(kind: deopt/gm)?.length ?? 0;
  return { compiles, again: compiles - functions.size, ms, deopts };
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

/** `cli args` in a fresh process, asynchronously: resolves with its wall time (ms). */
function timedAsync(cli: string, args: readonly string[], cwd: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd,
      stdio: "ignore",
      env: { ...process.env, GRADTRIO_WORKERS: "" },
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 || code === 1
        ? resolve(performance.now() - t0)
        : reject(new Error(`gradtrio ${args.join(" ")} exited ${code}`)),
    );
  });
}

/**
 * The ceiling: one process with all the runs against two processes at once with half each
 * (interleaved, `reps` times), and `--workers 2` in the same rounds.
 */
async function ceiling(cli: string, ops: string, runs: number, cwd: string, reps: number) {
  const fuzz = (n: number, seed: number, workers: number) => [
    "fuzz",
    "--ops",
    ops,
    "--runs",
    String(n),
    "--seed",
    String(seed),
    "--json",
    "--workers",
    String(workers),
  ];
  const split: number[] = [];
  const threads: number[] = [];
  const wall = { one: [] as number[], halves: [] as number[], two: [] as number[] };
  for (let i = 0; i < reps; i++) {
    const one = await timedAsync(cli, fuzz(runs, 1, 1), cwd);
    const t0 = performance.now();
    await Promise.all([
      timedAsync(cli, fuzz(Math.ceil(runs / 2), 1, 1), cwd),
      timedAsync(cli, fuzz(Math.ceil(runs / 2), 2, 1), cwd),
    ]);
    const halves = performance.now() - t0;
    const two = await timedAsync(cli, fuzz(runs, 1, 2), cwd);
    split.push(one / halves);
    threads.push(one / two);
    wall.one.push(one);
    wall.halves.push(halves);
    wall.two.push(two);
  }
  const s = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(", ");
  console.log(
    `ceiling, 2 ops × ${runs} runs: two processes at once with half the runs each are ${median(split).toFixed(2)}× one process with all (ratios ${split.map((r) => r.toFixed(2)).join(", ")}; wall ${s(wall.halves)} s against ${s(wall.one)} s); --workers 2 in the same rounds ${median(threads).toFixed(2)}× (${s(wall.two)} s)`,
  );
}

/** What a thread of `steady` reports: its cold fuzz and its warm one (ms). */
interface Steady {
  readonly cold: number;
  readonly warm: number;
}

/**
 * A thread of `steady` (a module written into the bench's directory: it runs the built package):
 * a cold fuzz, a barrier (every thread warm before any starts), then a warm fuzz of twice the runs.
 */
const steadyThread = (dist: string) => `
import { parentPort, workerData as d } from "node:worker_threads";
const { loadOps } = await import(${JSON.stringify(`${dist}/fuzz/load.js`)});
const { FuzzRun } = await import(${JSON.stringify(`${dist}/fuzz/parallel.js`)});
const ops = (await loadOps(d.file, "/")).map((o) => o.definition);
const fuzz = async (runs, seed) => {
  const t0 = performance.now();
  await new FuzzRun({ ops, runs, seed, opsFile: d.file }, d.file).run(null);
  return performance.now() - t0;
};
const cold = await fuzz(d.runs, 2);
const arrived = new Int32Array(d.barrier);
Atomics.add(arrived, 0, 1);
while (Atomics.load(arrived, 0) < d.threads) Atomics.wait(arrived, 0, Atomics.load(arrived, 0), 5);
parentPort.postMessage({ cold, warm: await fuzz(2 * d.runs, 1) });
`;

/** `threads` threads of `steadyThread` at once (`script`, the ops module `file`). */
function steady(script: string, file: string, runs: number, threads: number): Promise<Steady[]> {
  const barrier = new SharedArrayBuffer(4);
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<Steady>((resolve, reject) => {
          const w = new Worker(script, { workerData: { file, runs, threads, barrier } });
          w.once("message", (m: Steady) => {
            resolve(m);
            void w.terminate();
          });
          w.once("error", reject);
        }),
    ),
  );
}

/** Cold and warm fuzzes on 1 then 2 threads at once, `reps` times: medians. */
async function warmUp(dir: string, file: string, runs: number, reps: number): Promise<void> {
  const script = join(dir, "steady.mjs");
  writeFileSync(script, steadyThread(pathToFileURL(join(root, "dist")).href));
  const cold: number[][] = [[], []];
  const warm: number[][] = [[], []];
  for (let i = 0; i < reps; i++)
    for (const t of [1, 2]) {
      const r = await steady(script, file, runs, t);
      for (const x of r) {
        cold[t - 1]!.push(x.cold);
        warm[t - 1]!.push(x.warm);
      }
    }
  const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
  const [c1, c2, w1, w2] = [cold[0]!, cold[1]!, warm[0]!, warm[1]!].map(median) as [
    number,
    number,
    number,
    number,
  ];
  console.log(
    `warm-up and steady state (built package, worker threads in one process, medians of ${reps}): a cold fuzz of 2 ops × ${runs} runs takes ${s(c1)} alone, ${s(c2)} beside another (${(c2 / c1).toFixed(2)}×); then warm, 2 ops × ${2 * runs} runs, ${s(w1)} alone, ${s(w2)} beside another (${(w2 / w1).toFixed(2)}×): two warm threads do ${((2 * w1) / w2).toFixed(2)}× the work of one`,
  );
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
    const warmRuns = Number(process.env.WORKERS_WARM ?? 4000);
    if (builds[0]?.name === "built package") {
      await ceiling(builds[0].cli, builds[0].ops, big, dir, reps);
      if (warmRuns > 0) await warmUp(dir, builds[0].ops, warmRuns, reps);
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
    const traceRuns = Number(process.env.WORKERS_TRACE ?? 5000);
    if (traceRuns > 0) {
      const fuzz = ["fuzz", "--ops", ops, "--runs", String(traceRuns), "--seed", "1", "--workers"];
      const said = [1, 2].map((threads) => {
        const w = compilerWork(cli, [...fuzz, String(threads)], dir);
        return `--workers ${threads}: ${w.compiles} compilations (${w.again} of a function compiled before), ${(w.ms / 1000).toFixed(2)} s, ${w.deopts} deopts`;
      });
      console.log(
        `V8's optimizing compiler (TurboFan), ${name}, 2 ops × ${traceRuns} runs: ${said.join("; ")}`,
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
