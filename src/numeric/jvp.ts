/**
 * Jacobian-vector products of a vector function F: Float64Array → Float64Array by Richardson
 * extrapolation of central differences along x + t·v, each output component with its own
 * tableau and error estimate.
 */
import { GradtrioError } from "../errors.ts";
import { checkPoint } from "./line.ts";
import { NOISE } from "./richardson.ts";

const EPS = Number.EPSILON;
const SAFE = 2;

export interface JvpResult {
  /** J(x)·v. */
  readonly value: Float64Array;
  /** Estimated bound on the absolute error of each component. */
  readonly error: Float64Array;
  readonly evaluations: number;
}

/**
 * J(x)·v for F: ℝⁿ → ℝᵐ, with an error estimate per component.
 *
 * @example
 * ```ts
 * const F = (x: Float64Array) => Float64Array.of(x[0]! * x[1]!, Math.sin(x[0]!));
 * jvp(F, Float64Array.of(1, 2), Float64Array.of(1, 0)).value; // ≈ [2, cos(1)]
 * ```
 */
export function jvp(
  F: (x: Float64Array) => Float64Array,
  x: Float64Array,
  v: Float64Array,
  opts: { maxSteps?: number } = {},
): JvpResult {
  checkPoint(x, "jvp");
  checkPoint(v, "jvp (v)");
  if (v.length !== x.length)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `jvp: v has ${v.length} elements, x has ${x.length}`,
    );
  const n = x.length;
  const work = new Float64Array(n);
  let evaluations = 0;
  const at = (t: number): Float64Array => {
    for (let k = 0; k < n; k++) work[k] = x[k]! + t * v[k]!;
    evaluations++;
    const y = F(work);
    if (!(y instanceof Float64Array))
      throw new GradtrioError("INVALID_ARGUMENT", "jvp: F must return a Float64Array");
    return y.slice();
  };
  const m = at(0).length;
  let big = 1;
  let vmax = 0;
  for (let k = 0; k < n; k++) {
    big = Math.max(big, Math.abs(x[k]!));
    vmax = Math.max(vmax, Math.abs(v[k]!));
  }
  const value = new Float64Array(m);
  const error = new Float64Array(m).fill(Number.POSITIVE_INFINITY);
  if (vmax === 0) return { value, error: error.fill(0), evaluations };

  const finite = (a: Float64Array) => a.every((y) => Number.isFinite(y));
  let h = (0.25 * big) / vmax;
  let yp = at(h);
  let ym = at(-h);
  for (let shrink = 0; !(finite(yp) && finite(ym)); shrink++) {
    if (shrink >= 36)
      throw new GradtrioError(
        "NON_FINITE",
        `jvp: F(x ± h·v) is not finite for any step down to h = ${h}`,
      );
    h /= 2;
    yp = at(h);
    ym = at(-h);
  }
  let prev: Float64Array[] = [];
  // NaN until a tableau entry has an error estimate: no estimate is no value, not 0.
  const best = new Float64Array(m).fill(Number.NaN);
  const maxSteps = opts.maxSteps ?? 12;
  for (let row = 0; row < maxSteps; row++) {
    if (row > 0) {
      h /= 2;
      yp = at(h);
      ym = at(-h);
      if (!(finite(yp) && finite(ym))) break;
    }
    const cur: Float64Array[] = [new Float64Array(m)];
    const rounding = new Float64Array(m);
    for (let c = 0; c < m; c++) {
      // D = (F(x+hv) − F(x−hv)) / 2h, rounding ≈ η(|F(x+hv)| + |F(x−hv)|) / 2h.
      cur[0]![c] = (yp[c]! - ym[c]!) / (2 * h);
      rounding[c] = (NOISE * EPS * (Math.abs(yp[c]!) + Math.abs(ym[c]!))) / (2 * h);
    }
    let amp = 1;
    for (let k = 1; k <= row; k++) {
      const fac = 4 ** k;
      amp *= (fac + 1) / (fac - 1);
      const col = new Float64Array(m);
      for (let c = 0; c < m; c++) {
        const lo = cur[k - 1]![c]!;
        const t = lo + (lo - prev[k - 1]![c]!) / (fac - 1);
        col[c] = t;
        const trunc = Math.max(Math.abs(t - lo), Math.abs(t - prev[k - 1]![c]!));
        const err = SAFE * trunc + amp * rounding[c]! + 2 * EPS * Math.abs(t);
        if (err < error[c]!) {
          error[c] = err;
          best[c] = t;
        }
      }
      cur.push(col);
    }
    prev = cur;
  }
  value.set(best);
  return { value, error, evaluations };
}
