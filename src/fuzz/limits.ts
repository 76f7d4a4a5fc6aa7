/**
 * The ranges of the fuzz's and the gate's numbers, in a module of their own: the command line
 * (src/cli/main.ts) checks its options against them without loading the fuzzer.
 */

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
