/**
 * "Did you mean …?" for unknown names: the closest candidate by edit distance (optimal string
 * alignment: insertions, deletions, substitutions and adjacent transpositions), case-insensitive.
 */

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
