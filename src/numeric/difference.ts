/**
 * Plain difference quotients with one step, for comparison with Richardson and for cheap checks.
 * Central: h ≈ cbrt(eps)·max(1,|x_i|), error O(h²); one-sided: h ≈ sqrt(eps)·max(1,|x_i|), error
 * O(h). The error estimate compares the quotient at h with one at 2h (truncation) and adds the
 * rounding error of f over the step; quotients at h/2, h/4, h/8 must converge as that assumes,
 * else the estimate is `unreliable`. A non-finite stencil point switches to the other side.
 */
import { GradtrioError } from "../errors.ts";
import { checkIndex, checkPoint, coordinateLine, type Line } from "./line.ts";
import { nonFiniteAt, quotient } from "./richardson.ts";
import type { Estimate, NonFinite, ScalarFn, Stencil } from "./types.ts";

const EPS = Number.EPSILON;

export interface DifferenceOptions {
  /** The step, absolute. Default: cbrt(eps)·max(1,|x_i|) (central), sqrt(eps)·max(1,|x_i|) (one-sided). */
  readonly step?: number;
  /** f(x) when already known. */
  readonly f0?: number;
}

export function defaultStep(stencil: Stencil, scale: number): number {
  return (stencil === "central" ? Math.cbrt(EPS) : Math.sqrt(EPS)) * scale;
}

/** One difference quotient along a line, with its error estimate; falls back to the other side. */
export function differenceOnLine(
  line: Line,
  stencil: Stencil,
  step?: number,
  allowFallback = true,
): Estimate {
  const fail = (nonFinite: NonFinite, h: number): Estimate => ({
    derivative: Number.NaN,
    error: Number.POSITIVE_INFINITY,
    step: h,
    stencil,
    evaluations: line.evaluations,
    nonFinite,
  });
  if (!Number.isFinite(line.g0))
    return fail(
      { coordinate: line.coordinate, step: 0, where: `f(x) = ${line.g0} at the point itself` },
      0,
    );
  const h = step ?? defaultStep(stencil, line.scale);
  const q = quotient(line, stencil, h);
  if (q.bad !== undefined) {
    const nonFinite = nonFiniteAt(line, h, q.bad, q.bad === "+h" ? q.gp : q.gm);
    // Central or one-sided, a bad point on one side leaves the one-sided stencil on the other.
    if (allowFallback) {
      const other: Stencil = q.bad === "+h" ? "backward" : "forward";
      const fallback = differenceOnLine(line, other, step, false);
      if (Number.isFinite(fallback.derivative)) return { ...fallback, nonFinite };
    }
    return fail(nonFinite, h);
  }
  // Truncation from a second quotient at 2h (or h/2 if 2h leaves the domain).
  let q2 = quotient(line, stencil, 2 * h);
  let ratio = 2;
  if (q2.bad !== undefined) {
    q2 = quotient(line, stencil, h / 2);
    ratio = 0.5;
  }
  const p = stencil === "central" ? 2 : 1;
  // D(rh) − D(h) ≈ c·h^p·(r^p − 1), so the truncation of D(h) is c·h^p.
  const trunc = Number.isFinite(q2.d)
    ? Math.abs(q2.d - q.d) / Math.abs(ratio ** p - 1)
    : Number.POSITIVE_INFINITY;
  const error = 2 * trunc + q.rounding + 2 * EPS * Math.abs(q.d);
  // The steps, largest first: 2h, h, h/2, … (or h, h/2, h/4, … when 2h leaves the domain).
  const [big, mid] = ratio === 2 ? [q2, q] : [q, q2];
  const unreliable = notConverging(line, stencil, big, mid, ratio === 2 ? 2 * h : h);
  const estimate = {
    derivative: q.d,
    error: unreliable === null ? error : Math.max(error, unreliable.spread),
    step: h,
    stencil,
    evaluations: line.evaluations,
  };
  return unreliable === null ? estimate : { ...estimate, unreliable: unreliable.why };
}

type Quotient = ReturnType<typeof quotient>;

/**
 * Quotients at halved steps past the estimate's two that test it. On 3277 partials of
 * compositions of oscillating custom ops (bench/trust.bench.ts's), one let 19 estimates off by
 * more than their error through (aliased quotients that shrink by chance once), three let 1.
 */
const PROBES = 3;

/**
 * Two quotients alone trust that the step is small against f's scale of variation: where it is
 * not (sin(1e6·x) with h = 6e-6, a whole period), D(2h) − D(h) may be small by chance while both
 * are far off. More quotients at halved steps test it: in the asymptotic range each change is
 * 2^-p of the one before; one that is more than twice that, beyond the quotients' rounding,
 * means the steps do not resolve f (as Richardson's probes below its kept step do). Then: why,
 * and the spread of the quotients (the estimate's error covers them all, but none may be
 * right); else null.
 */
function notConverging(
  line: Line,
  stencil: Stencil,
  big: Quotient,
  mid: Quotient,
  largest: number,
): { why: string; spread: number } | null {
  // Twice the asymptotic ratio 2^-p: room for the next term of the expansion.
  const shrink = stencil === "central" ? 0.5 : 1;
  const qs = [big, mid];
  let ok = true;
  for (let k = 2; k < 2 + PROBES && ok; k++) {
    const next = quotient(line, stencil, largest / 2 ** k);
    const [a, b] = qs.slice(-2) as [Quotient, Quotient];
    qs.push(next);
    const coarse = Math.abs(a.d - b.d) + a.rounding + b.rounding;
    const fine = Math.abs(b.d - next.d) - b.rounding - next.rounding;
    ok = Number.isFinite(next.d) && fine <= shrink * coarse;
  }
  if (ok) return null;
  const ds = qs.map((q) => q.d);
  const spread = Math.max(...ds) - Math.min(...ds);
  const at = ds.map((d, k) => `${d} at h = ${(largest / 2 ** k).toExponential(1)}`).join(", ");
  return {
    why: `the difference quotients do not converge as the step shrinks (${at}): the step is not small against the scale on which f varies`,
    spread: Number.isFinite(spread) ? spread : Number.POSITIVE_INFINITY,
  };
}

function difference(
  name: string,
  stencil: Stencil,
  f: ScalarFn,
  x: Float64Array,
  i: number,
  opts: DifferenceOptions,
): Estimate {
  checkPoint(x, name);
  checkIndex(x, i, name);
  const { step } = opts;
  if (step !== undefined && !(Number.isFinite(step) && step > 0))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `${name}: step must be a finite number > 0, got ${step}`,
    );
  return differenceOnLine(coordinateLine(f, x, i, x.slice(), opts.f0), stencil, opts.step);
}

/**
 * ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h, h = cbrt(eps)·max(1,|x_i|).
 *
 * @example
 * ```ts
 * centralDifference((x) => x[0]! ** 3, Float64Array.of(2), 0).derivative; // ≈ 12 (error ≈ 1e-10)
 * ```
 */
export function centralDifference(
  f: ScalarFn,
  x: Float64Array,
  i: number,
  opts: DifferenceOptions = {},
): Estimate {
  return difference("centralDifference", "central", f, x, i, opts);
}

/**
 * ∂f/∂x_i ≈ (f(x + h e_i) − f(x)) / h, h = sqrt(eps)·max(1,|x_i|).
 *
 * @example
 * ```ts
 * forwardDifference((x) => Math.log(x[0]!), Float64Array.of(1), 0).derivative; // ≈ 1 (error ≈ 1e-8)
 * ```
 */
export function forwardDifference(
  f: ScalarFn,
  x: Float64Array,
  i: number,
  opts: DifferenceOptions = {},
): Estimate {
  return difference("forwardDifference", "forward", f, x, i, opts);
}

/**
 * ∂f/∂x_i ≈ (f(x) − f(x − h e_i)) / h, h = sqrt(eps)·max(1,|x_i|).
 *
 * @example
 * ```ts
 * backwardDifference((x) => Math.sqrt(x[0]!), Float64Array.of(4), 0).derivative; // ≈ 0.25
 * ```
 */
export function backwardDifference(
  f: ScalarFn,
  x: Float64Array,
  i: number,
  opts: DifferenceOptions = {},
): Estimate {
  return difference("backwardDifference", "backward", f, x, i, opts);
}
