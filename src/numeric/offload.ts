/**
 * Fast mode's per-element partials, computed on another thread. Each is one evaluation of f over
 * every element (0.15 s at 10^6), and they depend on nothing the other legs do: a Node entry
 * point (the CLI) installs a runner that starts them on a worker thread before the other legs
 * run (`startNumericLeg`), and the numeric leg takes their results when it gets to them. Without
 * a runner (the library, the browser), or when the runner fails, the leg computes them itself;
 * either way the same function computes them, so the numbers are the same to the bit.
 */
import type { Expr } from "../expr/ast.ts";
import type { Layout } from "./evaluate.ts";
import type { NonFinite } from "./types.ts";

/** The derivative of f along a direction, as the numeric leg's `along` gives it. */
export interface Along {
  readonly derivative: number;
  readonly error: number;
  readonly method: "complex" | "richardson";
  /** What ran and why, in words. */
  readonly note: string;
  readonly unreliable?: string;
  readonly nonFinite?: NonFinite;
}

/** The partials to compute: along each unit vector e_c of `coordinates` (flat indices into x). */
export interface PartialsJob {
  readonly expr: Expr;
  readonly layout: Layout;
  readonly x: Float64Array;
  readonly coordinates: readonly number[];
}

/** Partials being computed elsewhere. */
export interface PendingPartials {
  readonly coordinates: readonly number[];
  /** Waits for them: one per coordinate, in order; undefined when they could not be had. */
  take(): readonly Along[] | undefined;
}

/** Starts a job elsewhere; undefined when it cannot. */
export type PartialsRunner = (job: PartialsJob) => PendingPartials | undefined;

let runner: PartialsRunner | null = null;

/** Installs (or, with null, removes) the runner that computes fast mode's partials elsewhere. */
export function setPartialsRunner(r: PartialsRunner | null): void {
  runner = r;
}

/** `job` started by the installed runner, or undefined (no runner, or it failed to start). */
export function startPartials(job: PartialsJob): PendingPartials | undefined {
  if (runner === null) return undefined;
  try {
    return runner(job);
  } catch {
    return undefined;
  }
}
