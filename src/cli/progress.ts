/**
 * Progress of a long run (fuzz, gate) on stderr: a bar on a terminal; otherwise one line at a
 * steady interval (runs done, rate, counterexamples so far), so a CI log is never silent for long.
 * GRADTRIO_PROGRESS_MS sets the interval (default 10 s).
 */
import cliProgress from "cli-progress";
import type { FuzzProgress } from "../fuzz/fuzz.ts";
import type { CliIO } from "./io.ts";

const DEFAULT_INTERVAL_MS = 10_000;

export interface Progress {
  /** The fuzzer's per-case events. */
  onProgress(p: FuzzProgress): void;
  /** Adds to the total of runs expected (a fuzz entry of a gate that starts). */
  expect(runs: number): void;
  /** A failing op or entry. */
  failed(): void;
  stop(): void;
}

function intervalMs(): number {
  const v = Number(process.env.GRADTRIO_PROGRESS_MS);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_INTERVAL_MS;
}

/**
 * A progress reporter for `label` ("fuzz", "gate") expecting `total` runs.
 *
 * @example
 * ```ts
 * const progress = progressReporter(io, "fuzz", 200);
 * fuzz({ ops, onProgress: progress.onProgress }); progress.stop();
 * // stderr, every 10 s off a terminal: "fuzz: 37/200 runs, 8.1 runs/s, counterexamples so far: 0"
 * ```
 */
export function progressReporter(io: CliIO, label: string, total: number): Progress {
  const t0 = performance.now();
  let done = 0;
  let expected = total;
  // Ops with a counterexample as the fuzzer counts them, and failures reported by `failed`.
  let fuzzFailures = 0;
  let failures = 0;
  const found = () => Math.max(fuzzFailures, failures);
  const onProgress = (p: FuzzProgress) => {
    if (p.phase === "run") done++;
    fuzzFailures = Math.max(fuzzFailures, p.failures);
  };
  const rate = () => done / Math.max(1e-3, (performance.now() - t0) / 1000);
  if (io.isTTY && process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} [{bar}] {value}/{total} runs | {rate} runs/s | counterexamples: {found}`,
        hideCursor: true,
        clearOnComplete: true,
        barsize: 24,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(expected, 0, { rate: "0", found: 0 });
    const payload = () => ({ rate: rate().toFixed(1), found: found() });
    return {
      onProgress: (p) => {
        onProgress(p);
        bar.update(Math.min(done, expected), payload());
      },
      expect: (runs) => {
        expected += runs;
        bar.setTotal(expected);
      },
      failed: () => {
        failures++;
      },
      stop: () => bar.stop(),
    };
  }
  const timer = setInterval(
    () =>
      io.err(
        `${label}: ${done}/${expected} runs, ${rate().toFixed(1)} runs/s, counterexamples so far: ${found()}`,
      ),
    intervalMs(),
  );
  timer.unref();
  return {
    onProgress,
    expect: (runs) => {
      expected += runs;
    },
    failed: () => {
      failures++;
    },
    stop: () => clearInterval(timer),
  };
}
