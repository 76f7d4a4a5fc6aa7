/** Result types shared by the finite-difference methods. */

/** The numeric leg's methods, the one list the API and the CLI (`--method`) accept. */
export const NUMERIC_METHODS = ["auto", "richardson", "central", "complex", "fast"] as const;
export type NumericMethod = (typeof NUMERIC_METHODS)[number];

/** How the numeric leg took a derivative along a direction (fast mode's uᵀ∇f, or a partial). */
export type DirectionalMethod = "complex" | "richardson";

/** A `DirectionalMethod` in words, as notes and `explain` print it. */
export function directionalMethodWords(method: DirectionalMethod): string {
  return method === "complex" ? "the complex step" : "Richardson extrapolation";
}

/** Which points a difference quotient uses: x±h, or x and x+h, or x−h and x. */
export type Stencil = "central" | "forward" | "backward";

/** A derivative estimate with an honest bound on its absolute error. */
export interface Estimate {
  /** The derivative estimate (NaN when no stencil could be evaluated). */
  readonly derivative: number;
  /** Estimated bound on |derivative − true derivative|: truncation plus rounding of f. */
  readonly error: number;
  /** The step of the estimate that was kept. */
  readonly step: number;
  readonly stencil: Stencil;
  /** Number of evaluations of f spent (not counting f(x) when it was given). */
  readonly evaluations: number;
  /**
   * Why the estimate cannot certify itself (two independent step sequences disagree): the error
   * then covers both answers, but neither may be right.
   */
  readonly unreliable?: string;
  /** The first non-finite stencil point met (recovered from, or not when derivative is NaN). */
  readonly nonFinite?: NonFinite;
}

/** A stencil point where f is NaN or infinite. */
export interface NonFinite {
  /** Flat index of the input (−1 for a directional stencil). */
  readonly coordinate: number;
  /** The step h of the offending stencil point (0: f(x) itself). */
  readonly step: number;
  /** What happened, in words: `f(x + h·e_3) = NaN with h = 0.25`. */
  readonly where: string;
}

/** Left and right one-sided derivatives that disagree beyond their error estimates. */
export interface Kink {
  /** Flat index of the input. */
  readonly coordinate: number;
  readonly left: number;
  readonly right: number;
  readonly leftError: number;
  readonly rightError: number;
  /** The input element's name (`x[2]`) when the caller knows it. */
  readonly label?: string;
}

/** A scalar function of the flat input vector. */
export type ScalarFn = (x: Float64Array) => number;
