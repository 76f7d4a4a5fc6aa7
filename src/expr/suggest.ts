/**
 * "Did you mean …?" for unknown names: the closest candidate by edit distance (optimal string
 * alignment: insertions, deletions, substitutions and adjacent transpositions), case-insensitive.
 */
import { type ErrorCode, GradtrioError } from "../errors.ts";

/**
 * Edit distance between two strings, counting an adjacent transposition as one edit.
 *
 * @example
 * ```ts
 * editDistance("sigmod", "sigmoid"); // 1
 * editDistance("sni", "sin"); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  // Three rolling rows suffice: a transposition looks two rows back.
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}

/**
 * The candidate closest to `name`, if it is close enough to be a plausible typo (at most one
 * edit for names up to 3 characters, two otherwise); ties go to the earlier candidate.
 *
 * @example
 * ```ts
 * didYouMean("sigmod", ["sin", "sigmoid"]); // "sigmoid"
 * didYouMean("foo", ["sin", "sigmoid"]); // undefined
 * ```
 */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const limit = name.length <= 3 ? 1 : 2;
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    if (c === name) continue;
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Refuses an options object (or definition) with a key not in `known`: a JavaScript caller's
 * typo (`wtr` for `wrt`) would otherwise be ignored and the check run without it. One line, the
 * key, the one it is likely to mean, and the known ones (`where`, if not "", leads the message).
 *
 * @example
 * ```ts
 * rejectUnknownKeys({ at: {}, wtr: ["x"] }, ["at", "wrt"], "check", "option");
 * // throws "check: unknown option 'wtr' (did you mean 'wrt'?; the options are at, wrt)"
 * ```
 */
export function rejectUnknownKeys(
  o: object,
  known: readonly string[],
  where: string,
  what: "option" | "field",
  code: ErrorCode = "INVALID_ARGUMENT",
): void {
  for (const key of Object.keys(o)) {
    if (known.includes(key)) continue;
    const near = didYouMean(key, known);
    throw new GradtrioError(
      code,
      `${where === "" ? "" : `${where}: `}unknown ${what} '${key}' (${near === undefined ? "" : `did you mean '${near}'?; `}the ${what}s are ${known.join(", ")})`,
    );
  }
}
