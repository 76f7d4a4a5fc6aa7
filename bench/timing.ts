/** Shared timing helpers for benchmarks: medians over repeated runs, ratios to a baseline. */
import { loadavg } from "node:os";

/** The load averages over 1, 5 and 15 minutes, as "1.2 0.9 0.7". */
export const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

export function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median wall time (ms) of `fn` over `reps` runs after `warmup` runs. */
export function medianMs(fn: () => void, reps = 7, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) ts.push(timeMs(fn));
  return median(ts);
}

/** The `q`-quantile (0..1) of `xs`, the nearest rank. */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
}

/** The process's CPU time (all threads, user + system) in ms between two readings. */
function cpuMs(from: NodeJS.CpuUsage, to: NodeJS.CpuUsage): number {
  return (to.user - from.user + to.system - from.system) / 1000;
}

/**
 * Interleaves `candidate` and `baseline` runs and returns the median of per-pair ratios, so that
 * load from other processes affects both sides alike, with the quartiles of those ratios (`q1`,
 * `q3`) as their spread; `cpuRatio` is the median per-pair ratio of the process's CPU time
 * (every thread: the GC's helpers too), which time spent waiting for a core does not blur.
 */
export function ratio(
  candidate: () => void,
  baseline: () => void,
  reps = 9,
): {
  ratio: number;
  q1: number;
  q3: number;
  cpuRatio: number;
  candidateMs: number;
  baselineMs: number;
} {
  candidate();
  baseline();
  const rs: number[] = [];
  const cpu: number[] = [];
  const cs: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const u0 = process.cpuUsage();
    const b = timeMs(baseline);
    const u1 = process.cpuUsage();
    const c = timeMs(candidate);
    cpu.push(cpuMs(u1, process.cpuUsage()) / cpuMs(u0, u1));
    rs.push(c / b);
    cs.push(c);
    bs.push(b);
  }
  return {
    ratio: median(rs),
    q1: quantile(rs, 0.25),
    q3: quantile(rs, 0.75),
    cpuRatio: median(cpu),
    candidateMs: median(cs),
    baselineMs: median(bs),
  };
}
