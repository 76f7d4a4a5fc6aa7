/**
 * `gradtrio check --json` on the 10^6-element logistic loss (issue 14: < 3 s as a whole command):
 * `check 'mean(bce(sigmoid(w*x+b), y))' --at w=0.5 b=-0.2 x=@x.json y=@y.json --json`, x and y
 * of 10^6 elements written to a temporary directory, run as a subprocess: the wall time (median
 * of WALL_REPS, default 3) of the checkout's bin (sources through tsx) and of the built package
 * (dist/, as installed; built first when older than src/), and where the time goes: one more run
 * under V8's sampling profiler, its samples summed by phase (start-up until the command runs,
 * reading and parsing the input files, the legs and the vote, the JSON written).
 * `npm run bench check-json`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "../src/random.ts";
import { writeLogisticPoint } from "../test/fixtures/logistic.ts";
import { builtBin, root } from "./built.ts";
import { loadAverage, median } from "./timing.ts";

const N = 1_000_000;
const ARGS = [
  "check",
  "mean(bce(sigmoid(w*x+b), y))",
  "--at",
  "w=0.5",
  "b=-0.2",
  "x=@x.json",
  "y=@y.json",
  "--json",
];

interface Run {
  readonly ms: number;
  /** CPU time of the process, all threads (steadier than the wall on a shared machine). */
  readonly cpuMs: number;
  /**
   * CPU time of its main thread (Linux), about the wall on idle cores, where V8's helper threads
   * (garbage collector, compiler) run beside it.
   */
  readonly mainMs: number;
  readonly bytes: number;
}

/**
 * Prints the CPU time of the process and of its main thread on stderr as it exits, with its pid
 * (the bin may run the command in a child: bin/gradtrio.js's huge pages).
 */
const CPU_AT_EXIT = `data:text/javascript,import{readFileSync as r}from"node:fs";process.on("exit",()=>{const u=process.resourceUsage();let m=NaN;try{const f=r("/proc/thread-self/stat","utf8").split(") ")[1].split(" ");m=(+f[11]+ +f[12])*10}catch{}process.stderr.write("\\ncpu-ms "+process.pid+" "+(u.userCPUTime+u.systemCPUTime)/1000+" "+m+"\\n")})`;

function runCommand(
  argv: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Run {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--import", CPU_AT_EXIT, ...argv], {
    cwd,
    env,
    maxBuffer: 1 << 30,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr.toString()}`);
  // One line per thread that exits (fast mode's leg runs on a worker thread, which ends first):
  // a process's main thread is its last. Summed over the processes (the bin and its child).
  const last = new Map<string, { cpu: number; main: number }>();
  for (const m of r.stderr.toString().matchAll(/cpu-ms (\d+) ([\d.]+) ([\d.]+|NaN)/g))
    last.set(m[1]!, { cpu: Number(m[2]), main: Number(m[3]) });
  let cpuMs = 0;
  let mainMs = 0;
  for (const p of last.values()) {
    cpuMs += p.cpu;
    mainMs = Math.max(mainMs, p.main);
  }
  return { ms, cpuMs, mainMs, bytes: r.stdout.length };
}

interface Profile {
  readonly nodes: {
    id: number;
    callFrame: { functionName: string; url: string };
    children?: number[];
  }[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Milliseconds of samples under each phase's function (the first one found up the stack). */
function phases(profile: Profile): Record<string, number> {
  const phaseOf = new Map<string, string>([
    ["prepare", "read and parse the input (@FILE)"],
    ["runCheck", "the legs and the vote (check)"],
    ["reportToJson", "JSON"],
    ["jsonPieces", "JSON"],
  ]);
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out: Record<string, number> = {};
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    let phase: string | undefined;
    let inCommand = false;
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const f = byId.get(x)!.callFrame;
      if (f.url.endsWith("io.ts") || f.url.endsWith("io.js")) phase ??= "JSON";
      phase ??= phaseOf.get(f.functionName);
      if (f.functionName === "checkCommand") inCommand = true;
    }
    const key = inCommand ? (phase ?? "other (loading ops, the command)") : "start-up, exit";
    out[key] = (out[key] ?? 0) + dt;
  });
  out.total = total;
  return out;
}

function profiled(argv: readonly string[], cwd: string): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), "gradtrio-prof-"));
  try {
    const r = spawnSync(process.execPath, ["--cpu-prof", "--cpu-prof-dir", dir, ...argv], {
      cwd,
      maxBuffer: 1 << 30,
    });
    if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr.toString()}`);
    // The main thread's profile is the largest (tsx's loader thread writes one too).
    const files = readdirSync(dir).map((f) => join(dir, f));
    const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    return phases(JSON.parse(readFileSync(main, "utf8")) as Profile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function run(): void {
  const reps = Number(process.env.WALL_REPS ?? 3);
  console.log(`load average ${loadAverage()} (1, 5, 15 min) at the start`);
  const dir = mkdtempSync(join(tmpdir(), "gradtrio-check-json-"));
  try {
    writeLogisticPoint(dir, N, mulberry32(1));
    const bin = builtBin(dir);
    const commands: Record<string, [string[], NodeJS.ProcessEnv?]> = {
      "checkout (bin/gradtrio.js, sources through tsx)": [[join(root, "bin/gradtrio.js"), ...ARGS]],
      "built (dist/ and bin/, as installed)": [[bin, ...ARGS]],
      // GLIBC_TUNABLES set (empty: glibc's defaults): the bin runs the command in its own process.
      "built, without huge pages (GLIBC_TUNABLES=)": [
        [bin, ...ARGS],
        { ...process.env, GLIBC_TUNABLES: "" },
      ],
    };
    const times = Object.fromEntries(Object.keys(commands).map((k) => [k, [] as number[]]));
    const cpu = Object.fromEntries(Object.keys(commands).map((k) => [k, [] as number[]]));
    const main = Object.fromEntries(Object.keys(commands).map((k) => [k, [] as number[]]));
    let bytes = 0;
    for (let i = 0; i < reps; i++)
      for (const [name, [argv, env]] of Object.entries(commands)) {
        const run = runCommand(argv, dir, env);
        times[name]!.push(run.ms);
        cpu[name]!.push(run.cpuMs);
        main[name]!.push(run.mainMs);
        bytes = run.bytes;
      }
    console.log(
      `gradtrio ${ARGS.join(" ")}, x and y of 10^6 from @FILE (JSON output ${(bytes / 1e6).toFixed(1)} MB); target < 3 s:`,
    );
    for (const [name, ts] of Object.entries(times))
      console.log(
        `  ${name}: median ${(median(ts) / 1000).toFixed(2)} s wall (${ts.map((t) => (t / 1000).toFixed(2)).join(", ")}), CPU of all threads ${(median(cpu[name]!) / 1000).toFixed(2)} s, of the main thread ${(median(main[name]!) / 1000).toFixed(2)} s (≈ the wall on idle cores)`,
      );
    console.log("where the time goes (checkout, one run under the sampling profiler):");
    const p = profiled(commands["checkout (bin/gradtrio.js, sources through tsx)"]![0], dir);
    for (const [k, ms] of Object.entries(p).sort((a, b) => b[1] - a[1]))
      console.log(`  ${k.padEnd(36)} ${(ms / 1000).toFixed(2)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`load average ${loadAverage()} at the end`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) run();
