/**
 * f restricted to a line through x, g(t) = f(x + t·d), for d a coordinate vector or a direction.
 * Every difference method works on a `Line`, so one code path serves gradients and directional
 * derivatives. The caller's x is never modified.
 */
import { GradtrioError, isIntegerIn } from "../errors.ts";
import type { ScalarFn } from "./types.ts";

export interface Line {
  /** g(0) = f(x). */
  readonly g0: number;
  /** g(t) = f(x + t·d). */
  at(t: number): number;
  /** The step actually taken for a requested t (x_i + t rounds), so quotients divide by it. */
  realized(t: number): number;
  /** Size of the coordinate the steps are relative to: max(1, |x_i|) (or the largest |x_j|). */
  readonly scale: number;
  /** Flat index of the coordinate, or −1 for a direction. */
  readonly coordinate: number;
  /** A coordinate line's x_i (steps far beyond |x_i| span 0); undefined for a direction. */
  readonly origin?: number;
  /** Evaluations of f so far. */
  evaluations: number;
}

export function checkPoint(x: unknown, where: string): asserts x is Float64Array {
  if (!(x instanceof Float64Array))
    throw new GradtrioError("INVALID_ARGUMENT", `${where}: x must be a Float64Array`);
  for (let k = 0; k < x.length; k++)
    if (!Number.isFinite(x[k]!))
      throw new GradtrioError("NON_FINITE", `${where}: x[${k}] = ${x[k]} is not finite`);
}

export function checkIndex(x: Float64Array, i: number, where: string): void {
  if (!isIntegerIn(i, 0, x.length - 1))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `${where}: coordinate ${i} is out of range (x has ${x.length} elements)`,
    );
}

/**
 * The line through x along coordinate i. `work` is a scratch copy of x (restored after each call);
 * pass one to share it across coordinates, and `g0` when f(x) is known.
 */
export function coordinateLine(
  f: ScalarFn,
  x: Float64Array,
  i: number,
  work: Float64Array = x.slice(),
  g0?: number,
): Line {
  return new CoordinateLine(f, work, i, x[i]!, g0);
}

/** A class, not an object of closures: the finite-difference legs make one per partial derivative. */
class CoordinateLine implements Line {
  readonly g0: number;
  readonly scale: number;
  readonly coordinate: number;
  readonly origin: number;
  evaluations: number;
  readonly #f: ScalarFn;
  readonly #work: Float64Array;
  readonly #xi: number;

  constructor(f: ScalarFn, work: Float64Array, i: number, xi: number, g0: number | undefined) {
    this.#f = f;
    this.#work = work;
    this.#xi = xi;
    this.g0 = g0 ?? f(work);
    this.scale = Math.max(1, Math.abs(xi));
    this.coordinate = i;
    this.origin = xi;
    this.evaluations = g0 === undefined ? 1 : 0;
  }

  at(t: number): number {
    this.evaluations++;
    const f = this.#f;
    this.#work[this.coordinate] = this.#xi + t;
    const v = f(this.#work);
    this.#work[this.coordinate] = this.#xi;
    return v;
  }

  realized(t: number): number {
    return this.#xi + t - this.#xi;
  }
}

/** The line through x along direction u (any length; steps are in units of u). */
export function directionLine(f: ScalarFn, x: Float64Array, u: Float64Array, g0?: number): Line {
  const n = x.length;
  const work = new Float64Array(n);
  let big = 1;
  for (let k = 0; k < n; k++) big = Math.max(big, Math.abs(x[k]!));
  let unorm = 0;
  for (let k = 0; k < n; k++) unorm = Math.max(unorm, Math.abs(u[k]!));
  const line: Line = {
    g0: g0 ?? f(x.slice()),
    at(t) {
      line.evaluations++;
      for (let k = 0; k < n; k++) work[k] = x[k]! + t * u[k]!;
      return f(work);
    },
    realized: (t) => t,
    // A step moves each x_k by at most t·max|u_k|: relative to the largest coordinate.
    scale: big / Math.max(unorm, Number.MIN_VALUE),
    coordinate: -1,
    evaluations: g0 === undefined ? 1 : 0,
  };
  return line;
}
