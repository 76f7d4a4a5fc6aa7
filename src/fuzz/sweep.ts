/**
 * The op alone, densely: a stratified sweep of its declared domain (10^4 points by default,
 * Latin hypercube: each argument's working interval cut into as many strata as points, one point
 * per stratum, the strata paired at random), where the user's backward is compared with finite
 * differences of the op's own forward and, when the op has a formula, with the formula's
 * derivative (derived once by the CAS, then only evaluated). No three-way check per point: a
 * point is only screened here; the few suspects go to `check`, which decides. A fault on 0.5% of
 * the domain holds about 50 of the points, whatever the seed. A tensor op is swept the same way
 * at its fitting shapes (`tensorSweepPoints`), its vector–Jacobian product screened along a
 * random direction (`tensorScreen`).
 */

import type { Shape } from "../expr/broadcast.ts";
import type { CustomOpDefinition, TensorOpDefinition } from "../expr/ops.ts";
import { applyForward } from "../expr/ops.ts";
import { tensorOpBackward, tensorOpForward } from "../expr/tensor-op.ts";
import { checkPoint, coordinateLine, directionLine } from "../numeric/line.ts";
import {
  extrapolateLine,
  type LineEstimate,
  type RichardsonOptions,
} from "../numeric/richardson.ts";
import { mulberry32 } from "../random.ts";
import { localDerivative } from "../symbolic/local.ts";
import { argDomain, workingInterval } from "./domain.ts";

/** Points of a sweep when none is given. */
export const SWEEP_POINTS = 10_000;

/**
 * The incoming gradient handed to the backward in the sweep (and put in front of the op when a
 * suspect is confirmed): not 1, so a backward that ignores it is caught alone.
 */
export const SWEEP_GRAD = 2.5;

/** Relative slack for the backward's own rounding in the screen (check decides the rest). */
const SCREEN_RTOL = 1e-9;

/**
 * The sweep's points, flat (`points × arity`): point k's argument i at `[k * arity + i]`.
 * The same seed gives the same points.
 *
 * @example
 * ```ts
 * sweepPoints(cube.definition, 1, 4); // 4 values, one in each quarter of (-4, 4)
 * ```
 */
export function sweepPoints(def: CustomOpDefinition, seed: number, points: number): Float64Array {
  return stratified(
    Array.from({ length: def.arity }, (_, i) => workingInterval(argDomain(def, i))),
    seed,
    points,
  );
}

/**
 * Latin hypercube over the given intervals (one per coordinate), flat (`points × coordinates`):
 * each coordinate's interval cut into as many strata as points, one point per stratum, the strata
 * paired at random. The same seed gives the same points.
 */
export function stratified(
  intervals: readonly (readonly [number, number])[],
  seed: number,
  points: number,
): Float64Array {
  const rand = mulberry32(seed, 0x5eed5eed);
  const dim = intervals.length;
  const out = new Float64Array(points * dim);
  const strata = new Int32Array(points);
  intervals.forEach(([lo, hi], i) => {
    for (let k = 0; k < points; k++) strata[k] = k;
    // Fisher–Yates: which stratum of this coordinate point k takes.
    for (let k = points - 1; k > 0; k--) {
      const j = Math.floor(rand() * (k + 1));
      const t = strata[k]!;
      strata[k] = strata[j]!;
      strata[j] = t;
    }
    for (let k = 0; k < points; k++)
      out[k * dim + i] = lo + ((hi - lo) * (strata[k]! + rand())) / points;
  });
  return out;
}

/** ∂op/∂argᵢ from the op's formula (derived once), or null per argument the CAS cannot derive. */
export type FormulaDerivatives = readonly (((args: readonly number[]) => number) | null)[];

/** The formula's derivatives of an op, or null when it has no formula. Cached per definition. */
const derivatives = new WeakMap<CustomOpDefinition, FormulaDerivatives | null>();

export function formulaDerivatives(def: CustomOpDefinition): FormulaDerivatives | null {
  if (derivatives.has(def)) return derivatives.get(def)!;
  let out: FormulaDerivatives | null = null;
  if (def.formula !== undefined) {
    try {
      out = localDerivative(def.name).map((d) => (d.status === "ok" ? d.evaluate : null));
    } catch {
      out = null;
    }
  }
  derivatives.set(def, out);
  return out;
}

/**
 * First steps of the two step sequences (relative to max(1, |x|)): a kink that the coarse one
 * straddles misleads the fine one only within a millionth of it.
 */
const FIRST_STEPS = [0.25, 2 ** -20] as const;
/** The Richardson options of each first step (made once: the sweep runs 10^4 points). */
const FIRST_STEP_OPTIONS = FIRST_STEPS.map((firstStep) => ({ firstStep }));

/** The op's value and backward at `args`, and its forward as a function for finite differences. */
interface AtPoint {
  readonly out: number;
  readonly back: unknown[];
  readonly f: (x: Float64Array) => number;
  /** The point as a Float64Array, and a scratch copy of it for the lines through it. */
  readonly x: Float64Array;
  readonly work: Float64Array;
}

function atPoint(def: CustomOpDefinition, args: readonly number[], grad: number): AtPoint | null {
  let out: number;
  let back: unknown;
  try {
    out = def.forward(...args);
    back = def.backward({ args, out, grad });
  } catch {
    return null;
  }
  if (!Number.isFinite(out) || !Array.isArray(back)) return null;
  const x = Float64Array.from(args);
  return { out, back, f: forwardOrNaN(def), x, work: x.slice() };
}

const forwards = new WeakMap<CustomOpDefinition, (x: Float64Array) => number>();

/** The op's forward on a Float64Array, NaN where it throws: made once per op. */
function forwardOrNaN(def: CustomOpDefinition): (x: Float64Array) => number {
  let f = forwards.get(def);
  if (f === undefined) {
    f = (x) => {
      try {
        // Call sites of the sweep's own (applyForward's see every op of every leg): V8 inlines
        // the op's forward here, so its value is not boxed on each of ~10^6 evaluations.
        if (x.length === 1) return def.forward(x[0]!);
        if (x.length === 2) return def.forward(x[0]!, x[1]!);
        return applyForward(def.forward, x, def);
      } catch {
        return Number.NaN;
      }
    };
    forwards.set(def, f);
  }
  return f;
}

/**
 * ∂op/∂argᵢ at the point by Richardson extrapolation on the op's forward, from one of
 * `FIRST_STEP_OPTIONS` (`richardson(p.f, p.x, i, { f0: p.out, firstStep })`).
 */
function fdPartial(p: AtPoint, i: number, opts: RichardsonOptions): LineEstimate {
  checkPoint(p.x, "richardson");
  return extrapolateLine(coordinateLine(p.f, p.x, i, p.work, p.out), opts, false);
}

/** Slack for the backward's own rounding when comparing b with v. */
const slack = (b: number, v: number): number =>
  SCREEN_RTOL * Math.max(Math.abs(b), Math.abs(v)) + Number.MIN_VALUE;

/**
 * Screens the op's backward at one point: for each argument, the backward (given `grad`) against
 * grad × the finite difference of the forward, and against grad × the formula's derivative.
 * Suspect when the backward is off, beyond their error estimates, from the finite differences of
 * two step sequences (a coarse and a fine one: a kink near the point misleads one of them, a
 * wrong backward is off from both), unless the formula's derivative sides with the backward.
 * Returns the suspect argument, or -1.
 *
 * @example
 * ```ts
 * screen(wrongSign.definition, [0.5], 2.5, formulaDerivatives(wrongSign.definition)); // 0
 * ```
 */
export function screen(
  def: CustomOpDefinition,
  args: readonly number[],
  grad: number,
  formula: FormulaDerivatives | null,
): number {
  const p = atPoint(def, args, grad);
  // A forward or backward that throws (or is not finite) inside the domain: check reports it.
  if (p === null) return 0;
  for (let i = 0; i < def.arity; i++) {
    const b = p.back[i] as number;
    if (typeof b !== "number" || !Number.isFinite(b)) return i;
    if (!offFromFd(p, i, b, grad)) continue;
    const d = formula?.[i]?.(args);
    if (d !== undefined && Number.isFinite(d) && Math.abs(b - grad * d) <= slack(b, grad * d))
      continue;
    return i;
  }
  return -1;
}

/** The backward's b is off from grad × the finite differences from every first step. */
function offFromFd(p: AtPoint, i: number, b: number, grad: number): boolean {
  for (let s = 0; s < FIRST_STEP_OPTIONS.length; s++) {
    const fd = fdPartial(p, i, FIRST_STEP_OPTIONS[s]!);
    const n = grad * fd.derivative;
    if (!(Number.isFinite(n) && Math.abs(b - n) > 4 * Math.abs(grad) * fd.error + slack(b, n)))
      return false;
  }
  return true;
}

/**
 * The backward's relative deviation from the formula's derivative (else from finite differences,
 * beyond their error), the largest over the arguments; no threshold, unlike `screen`.
 */
export function backwardDeviation(
  def: CustomOpDefinition,
  args: readonly number[],
  grad: number,
  formula: FormulaDerivatives | null,
): number {
  const p = atPoint(def, args, grad);
  if (p === null) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < def.arity; i++) {
    const b = p.back[i] as number;
    if (typeof b !== "number" || !Number.isFinite(b)) return Number.POSITIVE_INFINITY;
    const d = formula?.[i]?.(args);
    let deviation: number;
    if (d !== undefined && Number.isFinite(d))
      deviation = relative(b, Math.abs(b - grad * d), grad * d);
    else {
      // The smaller deviation of the two step sequences.
      deviation = Number.POSITIVE_INFINITY;
      for (let s = 0; s < FIRST_STEP_OPTIONS.length; s++) {
        const fd = fdPartial(p, i, FIRST_STEP_OPTIONS[s]!);
        const n = grad * fd.derivative;
        const off = Number.isFinite(n)
          ? relative(b, Math.max(0, Math.abs(b - n) - 4 * Math.abs(grad) * fd.error), n)
          : 0;
        deviation = Math.min(deviation, off);
      }
    }
    worst = Math.max(worst, deviation);
  }
  return worst;
}

/** `off` relative to the larger of |b| and |v|. */
const relative = (b: number, off: number, v: number): number =>
  off / Math.max(Math.abs(b), Math.abs(v), Number.MIN_VALUE);

/** A point of a tensor op's sweep: argument data at fitting shapes, a cotangent w, a direction v. */
export interface TensorSweepPoint {
  readonly shapes: readonly Shape[];
  readonly outShape: Shape;
  readonly args: readonly Float64Array[];
  readonly w: Float64Array;
  readonly v: readonly Float64Array[];
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
};

/**
 * Screens a tensor op's backward at one point: (Jᵀw)·v from the user's backward against the
 * directional derivative of wᵀop(x) along v by finite differences of the op's own forward (two
 * step sequences, as `screen`). True when the point is suspect (or the op throws there).
 */
export function tensorScreen(def: TensorOpDefinition, p: TensorSweepPoint): boolean {
  let b: number;
  let f0: number;
  try {
    const y = tensorOpForward(def, p.args, p.shapes, p.outShape);
    const g = tensorOpBackward(def, p.args, p.shapes, y, p.outShape, p.w);
    f0 = dot(p.w, y);
    b = g.reduce((s, gi, i) => s + dot(gi, p.v[i]!), 0);
  } catch {
    return true;
  }
  if (!Number.isFinite(f0) || !Number.isFinite(b)) return true;
  const sizes = p.args.map((a) => a.length);
  const join = (xs: readonly Float64Array[]) => {
    const out = new Float64Array(sizes.reduce((n, m) => n + m, 0));
    let at = 0;
    xs.forEach((x) => {
      out.set(x, at);
      at += x.length;
    });
    return out;
  };
  const f = (z: Float64Array): number => {
    let at = 0;
    const args = sizes.map((m) => {
      at += m;
      return z.subarray(at - m, at);
    });
    try {
      return dot(p.w, tensorOpForward(def, args, p.shapes, p.outShape));
    } catch {
      return Number.NaN;
    }
  };
  const x = join(p.args);
  const u = join(p.v);
  return FIRST_STEP_OPTIONS.every((opts) => {
    const fd = extrapolateLine(directionLine(f, x, u, f0), opts, false);
    const n = fd.derivative;
    return Number.isFinite(n) && Math.abs(b - n) > 4 * fd.error + slack(b, n);
  });
}
