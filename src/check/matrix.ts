/**
 * Votes on a matrix of derivatives (a Jacobian, a Hessian) three ways: one comparison per entry,
 * built (with its rounding bound) only for entries where some pair fails with a zero bound, as
 * `check` does for gradients.
 */
import { withFloat32Bound } from "./dtype.ts";
import type { MatrixReport } from "./report.ts";
import { allPairsAgree, type Comparison, comparisonProbe, type Tolerance } from "./verdict.ts";

export interface MatrixLegs {
  readonly symbolic: readonly Float64Array[] | null;
  readonly numeric: readonly Float64Array[] | null;
  readonly autograd: readonly Float64Array[] | null;
  readonly numericError: readonly Float64Array[] | null;
}

/**
 * The comparisons of the entries that may fail, in row-major order.
 * `rounding(rows)` gives, for the rows that hold such entries, each entry's rounding bound;
 * `symbolicBounds`, where the symbolic leg has its own, that leg's bound of each entry;
 * `float32Underflow`, where autograd computes in float32, what its underflow adds to autograd's
 * float32 bound, per entry of the rows asked.
 */
export function matrixComparisons(
  legs: MatrixLegs,
  label: (i: number, j: number) => string,
  tol: Tolerance,
  rounding: (rows: readonly number[]) => Map<number, Float64Array>,
  symbolicBounds?: readonly Float64Array[],
  float32Underflow?: (rows: readonly number[]) => Map<number, Float64Array>,
): Comparison[] {
  const m = (legs.autograd ?? legs.symbolic ?? legs.numeric ?? []).length;
  const probe = comparisonProbe();
  const at = (rows: readonly Float64Array[] | null, i: number, j: number) =>
    rows === null ? null : rows[i]![j]!;
  const suspects: [number, number][] = [];
  for (let i = 0; i < m; i++) {
    const n = (legs.autograd ?? legs.symbolic ?? legs.numeric)![i]!.length;
    for (let j = 0; j < n; j++) {
      probe.symbolic = at(legs.symbolic, i, j);
      probe.numeric = at(legs.numeric, i, j);
      probe.autograd = at(legs.autograd, i, j);
      // Equal values agree under any tolerance (the structural zeros of a sparse Jacobian).
      const [p, q, r] = [probe.symbolic, probe.numeric, probe.autograd];
      if ((p ?? q ?? r) === (q ?? p ?? r) && (q ?? r ?? p) === (r ?? p ?? q)) continue;
      probe.numericError = at(legs.numericError, i, j) ?? 0;
      if (!allPairsAgree(probe, tol)) suspects.push([i, j]);
    }
  }
  if (suspects.length === 0) return [];
  const rows = [...new Set(suspects.map(([i]) => i))];
  const bounds = rounding(rows);
  const underflow = float32Underflow?.(rows);
  return suspects.map(([i, j]) => {
    const c: Comparison = {
      label: label(i, j),
      symbolic: at(legs.symbolic, i, j),
      numeric: at(legs.numeric, i, j),
      autograd: at(legs.autograd, i, j),
      numericError: at(legs.numericError, i, j) ?? 0,
      rounding: bounds.get(i)?.[j] ?? 0,
      ...(symbolicBounds === undefined ? {} : { symbolicRounding: symbolicBounds[i]![j]! }),
    };
    return underflow === undefined ? c : withFloat32Bound(c, underflow.get(i)?.[j]);
  });
}

/** The flat indices of the elements of the variables `wrt`, in the point's order. */
export function wrtIndices(
  values: ReadonlyMap<string, { readonly data: ArrayLike<number> }>,
  wrt: readonly string[],
): number[] {
  const out: number[] = [];
  let o = 0;
  for (const [name, v] of values) {
    if (wrt.includes(name)) for (let k = 0; k < v.data.length; k++) out.push(o + k);
    o += v.data.length;
  }
  return out;
}

// A plain loop: spreading a Float64Array is ~10× slower, which shows on 10⁶ entries.
const nested = (rows: readonly Float64Array[] | null): number[][] | null =>
  rows === null
    ? null
    : rows.map((r) => {
        const a = new Array<number>(r.length);
        for (let k = 0; k < r.length; k++) a[k] = r[k]!;
        return a;
      });

/** The contract's object: rows and columns labelled, each leg as nested arrays or null. */
export function matrixReport(
  legs: MatrixLegs,
  inputs: readonly string[],
  outputs: readonly string[] | null,
): MatrixReport {
  return {
    inputs,
    outputs,
    symbolic: nested(legs.symbolic),
    numeric: nested(legs.numeric),
    autograd: nested(legs.autograd),
    numericError: nested(legs.numericError),
  };
}
