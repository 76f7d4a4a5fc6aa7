/**
 * Gradients, directional derivatives and kinks of a black-box f: Float64Array → number.
 * Kinks: the second difference (f(x+h) + f(x−h) − 2f(x))/h shrinks like h where f is smooth and
 * stays put at a kink; when it stays put, left and right one-sided Richardson estimates that
 * disagree beyond their error estimates confirm the kink.
 */

import { GradtrioError, isIntegerIn } from "../errors.ts";
import { mulberry32 } from "../random.ts";
import { differenceOnLine } from "./difference.ts";
import { checkIndex, checkPoint, coordinateLine, directionLine, type Line } from "./line.ts";
import {
  extrapolateLine,
  type LineEstimate,
  NO_SAMPLES,
  NOISE,
  type RichardsonOptions,
} from "./richardson.ts";
import type { Estimate, Kink, NonFinite, ScalarFn } from "./types.ts";

const EPS = Number.EPSILON;

export type GradientMethod = "richardson" | "central" | "forward" | "backward";

export interface GradientOptions {
  /** Default "richardson". */
  readonly method?: GradientMethod;
  /** f(x) when already known. */
  readonly f0?: number;
  /** Look for kinks (default true); costs 4 evaluations per coordinate for the plain methods. */
  readonly kinks?: boolean;
  /** The coordinates to estimate (default all); the others are left 0, with error 0. */
  readonly coordinates?: readonly number[];
}

export interface GradientResult {
  readonly gradient: Float64Array;
  /** Estimated bound on the absolute error of each component (Infinity where it failed). */
  readonly error: Float64Array;
  readonly method: GradientMethod;
  readonly kinks: Kink[];
  /** Coordinates where no finite stencil could be found (their gradient is NaN). */
  readonly nonFinite: NonFinite[];
  /**
   * Values that are not finite met on the way at coordinates whose derivative was found all the
   * same (shrunk steps or a one-sided stencil: `notes` says which).
   */
  readonly nonFiniteMet: NonFinite[];
  /** Coordinates whose estimate could not certify itself (see `Estimate.unreliable`). */
  readonly unreliable: { coordinate: number; reason: string }[];
  /** What the method had to do: shrunk steps, one-sided stencils. */
  readonly notes: string[];
  readonly evaluations: number;
}

/**
 * The gradient of f at x, each component with an error estimate.
 *
 * @example
 * ```ts
 * const r = gradient((x) => x[0]! * x[1]!, Float64Array.of(2, 3));
 * r.gradient; // ≈ [3, 2], r.error ≈ [1e-14, 1e-14]
 * gradient((x) => Math.abs(x[0]!), Float64Array.of(0)).kinks; // [{ coordinate: 0, left: -1, right: 1, … }]
 * ```
 */
export function gradient(f: ScalarFn, x: Float64Array, opts: GradientOptions = {}): GradientResult {
  checkPoint(x, "gradient");
  const method = opts.method ?? "richardson";
  if (!["richardson", "central", "forward", "backward"].includes(method))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `gradient: unknown method '${method}' (richardson, central, forward, backward)`,
    );
  if (opts.coordinates !== undefined) {
    if (!Array.isArray(opts.coordinates))
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        "gradient: coordinates must be an array of indices",
      );
    for (const i of opts.coordinates) checkIndex(x, i, "gradient");
  }
  const n = x.length;
  const work = x.slice();
  const f0 = opts.f0 ?? f(work);
  let evaluations = opts.f0 === undefined ? 1 : 0;
  const grad = new Float64Array(n);
  const error = new Float64Array(n);
  const kinks: Kink[] = [];
  const nonFinite: NonFinite[] = [];
  const nonFiniteMet: NonFinite[] = [];
  const unreliable: { coordinate: number; reason: string }[] = [];
  const notes: string[] = [];
  const result = (): GradientResult => ({
    gradient: grad,
    error,
    method,
    kinks,
    nonFinite,
    nonFiniteMet,
    unreliable,
    notes,
    evaluations,
  });
  if (!Number.isFinite(f0)) {
    grad.fill(Number.NaN);
    error.fill(Number.POSITIVE_INFINITY);
    nonFinite.push({ coordinate: -1, step: 0, where: `f(x) = ${f0} at the point itself` });
    return result();
  }
  for (const i of opts.coordinates ?? x.keys()) {
    const line = coordinateLine(f, x, i, work, f0);
    const est = estimateOnLine(line, method);
    grad[i] = est.derivative;
    error[i] = est.error;
    if (est.unreliable !== undefined) unreliable.push({ coordinate: i, reason: est.unreliable });
    if (!Number.isFinite(est.derivative)) {
      if (est.nonFinite !== undefined) nonFinite.push(est.nonFinite);
    } else if (est.nonFinite !== undefined) {
      nonFiniteMet.push(est.nonFinite);
      notes.push(
        est.stencil === "central"
          ? `coordinate ${i}: ${est.nonFinite.where}; the steps were shrunk to h = ${est.step}`
          : `coordinate ${i}: ${est.nonFinite.where}; used a ${est.stencil} stencil`,
      );
    }
    if ((opts.kinks ?? true) && Number.isFinite(est.derivative)) {
      const kink = detectKink(line, est);
      if (kink !== null) {
        kinks.push(kink);
        // No derivative here: every value between the one-sided ones is a subgradient.
        error[i] = Math.max(
          error[i]!,
          Math.abs(kink.left - kink.right) / 2 + Math.max(kink.leftError, kink.rightError),
        );
      }
    }
    evaluations += line.evaluations;
  }
  return result();
}

/** Central first; where that meets a non-finite point for every step, one-sided stencils. */
export function estimateOnLine(line: Line, method: GradientMethod): LineEstimate | Estimate {
  if (method !== "richardson")
    // The default step of each stencil: a one-sided fallback takes its own (sqrt(eps)).
    return differenceOnLine(line, method);
  const first = extrapolateLine(line, CENTRAL);
  if (Number.isFinite(first.derivative)) return first;
  for (const side of ONE_SIDED) {
    const est = extrapolateLine(line, side);
    if (Number.isFinite(est.derivative))
      return first.nonFinite === undefined ? est : { ...est, nonFinite: first.nonFinite };
  }
  return first;
}

/** The options of `estimateOnLine`'s extrapolations (made once: it runs per partial derivative). */
const CENTRAL: RichardsonOptions = { stencil: "central" };
const ONE_SIDED: readonly RichardsonOptions[] = [{ stencil: "forward" }, { stencil: "backward" }];

/** The second difference (g(h) + g(−h) − 2g(0))/h: ≈ g''·h where smooth, the jump at a kink. */
const gap = (h: number, gp: number, gm: number, g0: number): number => (gp + gm - 2 * g0) / h;

/** The rounding in `gap`. */
const gapNoise = (h: number, gp: number, gm: number, g0: number): number =>
  (NOISE * EPS * (Math.abs(gp) + Math.abs(gm) + 2 * Math.abs(g0))) / h;

/**
 * A kink from evidence: the second difference stays put as the step shrinks (near the step the
 * estimate settled on, not at aliased large steps), and the one-sided derivatives, each certified
 * by its own two step sequences, differ beyond their estimates. `relu(x)·x` at 0 (both sides 0)
 * and an oscillating smooth function are not kinks.
 */
export function detectKink(line: Line, est: Estimate): Kink | null {
  // Central stencils (h, g(h), g(−h)), flat.
  const samples = "samples" in est ? (est as LineEstimate).samples : NO_SAMPLES;
  const count = samples.length / 3;
  // The samples at the kept step and twice it, where the function is resolved (else the last
  // two): rows `pair` and `pair + 1`.
  let at = 0;
  while (at < count && !(samples[3 * at]! <= est.step)) at++;
  const pair = at >= 1 && at < count ? at - 1 : count - 2;
  let a: number;
  let b: number;
  let bNoise: number;
  const g0 = line.g0;
  if (pair >= 0) {
    const s = 3 * pair;
    const t = s + 3;
    a = gap(samples[s]!, samples[s + 1]!, samples[s + 2]!, g0);
    b = gap(samples[t]!, samples[t + 1]!, samples[t + 2]!, g0);
    bNoise = gapNoise(samples[t]!, samples[t + 1]!, samples[t + 2]!, g0);
  } else {
    // Plain methods: probe two small central stencils.
    const h = line.scale * 2 ** -12;
    const ap = line.at(h);
    const am = line.at(-h);
    const bp = line.at(h / 2);
    const bm = line.at(-h / 2);
    a = gap(h, ap, am, g0);
    b = gap(h / 2, bp, bm, g0);
    bNoise = gapNoise(h / 2, bp, bm, g0);
  }
  // Smooth: the gap halves with h. A kink: it stays (and stands well above rounding).
  if (!(Math.abs(b) > 64 * bNoise && Math.abs(b) > 0.7 * Math.abs(a))) return null;
  const left = extrapolateLine(line, { stencil: "backward" });
  const right = extrapolateLine(line, { stencil: "forward" });
  if (!Number.isFinite(left.derivative) || !Number.isFinite(right.derivative)) return null;
  // One-sided slopes that cannot certify themselves are no evidence of a kink.
  if (left.unreliable !== undefined || right.unreliable !== undefined) return null;
  if (Math.abs(left.derivative - right.derivative) <= 2 * (left.error + right.error)) return null;
  return {
    coordinate: line.coordinate,
    left: left.derivative,
    right: right.derivative,
    leftError: left.error,
    rightError: right.error,
  };
}

export interface DirectionalResult extends Estimate {
  /** The direction used. */
  readonly u: Float64Array;
}

/**
 * The directional derivative uᵀ∇f(x) by Richardson extrapolation along the line x + t·u: O(1)
 * evaluations of f whatever the size of x (each costs O(n) to form x + t·u).
 *
 * @example
 * ```ts
 * const u = randomUnitVector(3, 7);
 * directionalDerivative((x) => x[0]! + 2 * x[1]! + 3 * x[2]!, Float64Array.of(1, 1, 1), u).derivative;
 * // ≈ u[0] + 2u[1] + 3u[2]
 * ```
 */
export function directionalDerivative(
  f: ScalarFn,
  x: Float64Array,
  u: Float64Array,
  opts: { f0?: number } = {},
): DirectionalResult {
  checkPoint(x, "directionalDerivative");
  checkPoint(u, "directionalDerivative (u)");
  if (u.length !== x.length)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `directionalDerivative: u has ${u.length} elements, x has ${x.length}`,
    );
  if (u.every((v) => v === 0))
    return { derivative: 0, error: 0, step: 0, stencil: "central", evaluations: 0, u };
  const line = directionLine(f, x, u, opts.f0);
  let est: Estimate = extrapolateLine(line, {}, false);
  if (!Number.isFinite(est.derivative) && Number.isFinite(line.g0)) {
    for (const stencil of ["forward", "backward"] as const) {
      const side = extrapolateLine(line, { stencil });
      if (Number.isFinite(side.derivative)) {
        est = { ...side, ...(est.nonFinite === undefined ? {} : { nonFinite: est.nonFinite }) };
        break;
      }
    }
  }
  const { derivative, error, step, stencil, evaluations, nonFinite } = est;
  return {
    derivative,
    error,
    step,
    stencil,
    evaluations,
    u,
    ...(nonFinite === undefined ? {} : { nonFinite }),
  };
}

/**
 * A random unit vector, reproducible from the seed: components uniform in [−1, 1], normalised.
 * (Not uniform on the sphere, which a random test direction does not need; one PRNG draw per
 * component keeps 10^6 elements cheap.)
 *
 * @example
 * ```ts
 * randomUnitVector(3, 42); // the same three numbers every time, with norm 1
 * ```
 */
export function randomUnitVector(n: number, seed = 1): Float64Array {
  if (!isIntegerIn(n, 1, Number.POSITIVE_INFINITY))
    throw new GradtrioError("INVALID_ARGUMENT", "randomUnitVector: n must be a positive integer");
  const next = mulberry32(seed);
  const u = new Float64Array(n);
  let norm2 = 0;
  for (let k = 0; k < n; k++) {
    const v = 2 * next() - 1;
    u[k] = v;
    norm2 += v * v;
  }
  if (norm2 === 0) u[0] = norm2 = 1;
  const s = 1 / Math.sqrt(norm2);
  for (let k = 0; k < n; k++) u[k] = u[k]! * s;
  return u;
}
