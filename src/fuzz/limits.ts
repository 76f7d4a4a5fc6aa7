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
