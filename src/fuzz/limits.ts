/**
 * The ranges of the fuzz's and the gate's numbers, in a module of their own: the command line
 * (src/cli/main.ts) checks its options against them without loading the fuzzer.
 */
import { GradtrioError, isIntegerIn } from "../errors.ts";

/**
 * The most random expressions (or points) one fuzz (or gate entry) runs: cases 0 to 10⁸ − 1.
 * Replaying case K first skips the K cases before it (~0.4 µs each: 10⁸ are 40 s), so a path
 * past the last case a fuzz can run is refused, not waited for.
 */
export const MAX_RUNS = 100_000_000;

/** The deepest expression tree the fuzzer generates. */
export const MAX_DEPTH = 8;

/** The most threads `--workers` / GRADTRIO_WORKERS may ask for. */
export const MAX_WORKERS = 256;

/**
 * An integer as the command line and GRADTRIO_WORKERS take one: decimal digits (spaces around
 * them aside, as Number() and JSON skip them); no 0x10, 1e3, +2 or 2.0 (--at refuses them).
 */
export const DECIMAL_INTEGER = /^\s*\d+\s*$/;

/**
 * The integer an environment variable holds, from `min` to `max` in decimal digits as the command
 * line takes one (unset or empty: undefined); anything else is bad input naming the variable and
 * the range (`unit`, when given, said with it).
 */
export function integerFromEnv(
  name: string,
  min: number,
  max: number,
  unit?: string,
): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === "") return undefined;
  const n = Number(text);
  if (!DECIMAL_INTEGER.test(text) || !isIntegerIn(n, min, max))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `${name} must be an integer from ${min} to ${max} (${unit === undefined ? "" : `${unit}; `}or unset), got '${text}'`,
    );
  return n;
}

/** `--shard I/N`: the I-th (1-based) of N disjoint parts. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/**
 * Parses `I/N` (1 ≤ I ≤ N). Throws a GradtrioError otherwise.
 *
 * @example
 * ```ts
 * parseShard("2/4"); // { index: 2, count: 4 }
 * ```
 */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || !isIntegerIn(index, 1, count))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `--shard must be I/N with 1 ≤ I ≤ N (e.g. 2/4), got '${text}'`,
    );
  // Past 2^53 − 1 the digits round: 99999999999999999999/99999999999999999999 read as 1e20/1e20.
  if (!Number.isSafeInteger(count))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `--shard ${text}: N must be at most ${Number.MAX_SAFE_INTEGER}`,
    );
  return { index, count };
}
