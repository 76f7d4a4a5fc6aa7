/**
 * Fast mode's numeric leg, run on another thread. At 10^6 elements it is a second of evaluations
 * (f, uᵀ∇f along a random u, each scalar input's partial: a complex pass each) that depend on
 * nothing the other legs do: a Node entry point (the CLI) installs a runner that starts it on a
 * worker thread before the other legs run (`startNumericLeg`), and the checker takes its result
 * when it gets to it. Without a runner (the library, the browser), or when the runner fails, the
 * leg runs on this thread; either way the same function computes it, so the numbers are the same
 * to the bit.
 */
import type { Expr } from "../expr/ast.ts";
import type { Value } from "../expr/point.ts";
import type { NumericLegOptions, NumericLegResult } from "./leg.ts";
import type { DirectionalMethod, Kink, NonFinite } from "./types.ts";

/** The derivative of f along a direction, as the numeric leg's `along` gives it. */
export interface Along {
  readonly derivative: number;
  readonly error: number;
  readonly method: DirectionalMethod;
  /** What ran and why, in words. */
  readonly note: string;
  readonly unreliable?: string;
  readonly nonFinite?: NonFinite;
  /** A partial's kink: its left and right derivatives differ (Richardson only). */
  readonly kink?: Kink;
}

/** The leg to run: `numericLeg(expr, values, opts)`. */
export interface NumericJob {
  readonly expr: Expr;
  readonly values: Map<string, Value>;
  readonly opts: NumericLegOptions;
}

/** A leg's result and its own time in ms, measured where it ran (not a wait for it). */
export interface TimedLeg {
  readonly result: NumericLegResult;
  readonly ms: number;
}

/** A leg running elsewhere. */
export interface PendingLeg {
  /** Waits for its result; undefined when it could not be had (the leg then runs here). */
  take(): TimedLeg | undefined;
}

/** Starts a job elsewhere; undefined when it cannot. */
export type NumericRunner = (job: NumericJob) => PendingLeg | undefined;

let runner: NumericRunner | null = null;

/** Installs (or, with null, removes) the runner that runs fast mode's numeric leg elsewhere. */
export function setNumericRunner(r: NumericRunner | null): void {
  runner = r;
}

/** `job` started by the installed runner, or undefined (no runner, or it failed to start). */
export function startElsewhere(job: NumericJob): PendingLeg | undefined {
  if (runner === null) return undefined;
  try {
    return runner(job);
  } catch {
    return undefined;
  }
}
