/**
 * `xs.map(f)` whose result has the same V8 elements kind in every tier: PACKED. The built-in
 * `map`, inlined by V8's optimizing compiler (TurboFan), returns a HOLEY array; run by the
 * interpreter, a PACKED one. The code that reads such arrays is optimized on the kind it saw
 * first and thrown away ("deopt: wrong map") when the caller's own optimization brings the other,
 * then compiled again: on the fuzz's hot path that was a third of the optimizing compiler's work,
 * done again by every worker thread (issue 14; docs/PERFORMANCE.md). Use it where a mapped array
 * is read on the hot path; `map` elsewhere. Holes in `xs` are read as `undefined` (none of its
 * callers has any).
 *
 * @example
 * mapPacked([1, 2], (x, i) => x * 10 + i); // [10, 21]
 */
export function mapPacked<T, U>(xs: readonly T[], f: (x: T, i: number) => U): U[] {
  // Literals for the short arrays the hot path maps (an op's arguments): exactly their size, where
  // pushing onto [] would allocate room for 17.
  switch (xs.length) {
    case 0:
      return [];
    case 1:
      return [f(xs[0]!, 0)];
    case 2:
      return [f(xs[0]!, 0), f(xs[1]!, 1)];
    case 3:
      return [f(xs[0]!, 0), f(xs[1]!, 1), f(xs[2]!, 2)];
  }
  const out: U[] = [];
  for (let i = 0; i < xs.length; i++) out.push(f(xs[i]!, i));
  return out;
}
