/**
 * Progress of a long run (fuzz, gate) on stderr: a bar on a terminal; otherwise one line at a
 * steady interval (runs done, rate, counterexamples so far), so a CI log is never silent for long.
 * GRADTRIO_PROGRESS_MS sets the interval (default 10 s).
 */
import cliProgress from "cli-progress";
import type { FuzzProgress } from "../fuzz/fuzz.ts";
import { integerFromEnv } from "../fuzz/limits.ts";
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

/** The longest interval a timer keeps (a longer one fires at once, with a warning). */
const MAX_INTERVAL_MS = 2 ** 31 - 1;

/**
 * GRADTRIO_PROGRESS_MS (unset or empty: 10 s), validated as GRADTRIO_WORKERS is: anything but
 * milliseconds from 1 to 2³¹ − 1 in decimal digits is bad input (`abc`, 0 and -5 turned the
 * progress lines off in silence). Commands call it before they start.
 */
export function progressIntervalMs(): number {
  return (
    integerFromEnv("GRADTRIO_PROGRESS_MS", 1, MAX_INTERVAL_MS, "milliseconds") ??
    DEFAULT_INTERVAL_MS
  );
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
    progressIntervalMs(),
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
