/** The report of a three-way check, and its JSON form (the contract in docs/DESIGN.md). */
import type { ErrorCode, OpPhase } from "../errors.ts";
import type { NestedArray, Point } from "../expr/point.ts";
import type { DirectionalMethod } from "../numeric/types.ts";
import type { InconclusiveRule } from "./check.ts";
import type { LegName } from "./verdict.ts";

export type VerdictName = "agree" | "disagree" | "inconclusive";

export interface InputGradients {
  readonly symbolic: NestedArray | null;
  readonly numeric: NestedArray | null;
  readonly autograd: NestedArray | null;
  /** The finite-difference error estimate, mirroring the input's shape. */
  readonly numericError: NestedArray | null;
  /** The CAS formula of this input's gradient (per element for a tensor input). */
  readonly formula: string | null;
}

export type LegStatus = "ok" | "unavailable" | "kink" | "error" | "skipped";

/** Why a leg failed, as data: the error's code, and the op and its function when one failed. */
export interface LegFailure {
  readonly code: ErrorCode | "INTERNAL";
  readonly op: string | null;
  readonly phase: OpPhase | null;
}

export interface LegReport {
  readonly status: LegStatus;
  /** Why the leg did not give a gradient, or a note on how it did (method, fast mode). */
  readonly reason: string | null;
  /** For a leg that failed (status "error"): the cause, to decide on without parsing `reason`. */
  readonly cause?: LegFailure;
  /** The leg's own time in ms, where it ran (fast mode's numeric leg: on its worker thread). */
  readonly ms: number;
  /**
   * A reference leg with no vote (`reason` says why): the numeric leg could not certify its own
   * answer, or the symbolic leg differentiates another function than the code computes (a custom
   * op's formula is not its forward). Its values are shown but take no part in the vote, so they
   * can neither convict nor confirm another leg.
   */
  readonly unreliable?: true;
}

/**
 * A Jacobian or Hessian three ways (the contract's `jacobian` / `hessian`): rows by `outputs`
 * (a Hessian's rows are its `inputs`: null), columns by `inputs`; a leg that could not run is null.
 */
export interface MatrixReport {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[] | null;
  readonly symbolic: number[][] | null;
  readonly numeric: number[][] | null;
  readonly autograd: number[][] | null;
  readonly numericError: number[][] | null;
}

export interface Report {
  readonly expr: string;
  readonly at: Point;
  /** The function's value: a number, or nested arrays for a non-scalar output. */
  readonly value: NestedArray | null;
  readonly verdict: VerdictName;
  readonly blame: LegName | null;
  readonly reason: string | null;
  /** Empty for a non-scalar output, which has `jacobian` instead (`gradients: null` in JSON). */
  readonly gradients: Record<string, InputGradients>;
  /** Beyond the JSON contract: for an inconclusive verdict, the rule (`INCONCLUSIVE_RULES`) that made it. */
  readonly rule?: InconclusiveRule;
  /** A non-scalar output's Jacobian (then `gradients` is empty). */
  readonly jacobian?: MatrixReport;
  /** With `order: 2`, the Hessian. */
  readonly hessian?: MatrixReport;
  /** Beyond the JSON contract: how each leg fared, and what the numeric leg did. */
  readonly legs: Record<LegName, LegReport>;
  readonly method: string | null;
  readonly notes: readonly string[];
  readonly latex: Record<string, string>;
  /**
   * Beyond the JSON contract: the labels ("x", "x[2]", "uᵀ∇f") of the comparisons that failed
   * the vote; empty unless the verdict is disagree.
   */
  readonly failing: readonly string[];
  /**
   * Beyond the JSON contract: the reference legs outvoted by the two others (`[blame]`, or both
   * when the CAS is outvoted in one element and the finite differences in another, with `blame`
   * null); absent or empty when none is.
   */
  readonly outvoted?: readonly ("symbolic" | "numeric")[];
  /** Fast mode: the directional derivative uᵀ∇f by each leg, and how numeric's was taken. */
  readonly directional: {
    readonly symbolic: number | null;
    readonly numeric: number;
    readonly numericError: number;
    readonly autograd: number | null;
    /** Beyond the JSON contract: "complex" (the complex step along u) or "richardson". */
    readonly method: DirectionalMethod;
    /** Beyond the JSON contract: how numeric's per-element partials were taken (none: empty). */
    readonly partialsBy: readonly DirectionalMethod[];
  } | null;
}

/** Exactly the JSON object of docs/DESIGN.md's `check --json` contract, key order included. */
export function reportToJson(r: Report): Record<string, unknown> {
  const gradients: Record<string, unknown> = {};
  for (const [name, g] of Object.entries(r.gradients))
    gradients[name] = {
      symbolic: g.symbolic,
      numeric: g.numeric,
      autograd: g.autograd,
      numericError: g.numericError,
      formula: g.formula,
    };
  const matrix = (m: MatrixReport) => ({
    inputs: m.inputs,
    outputs: m.outputs,
    symbolic: m.symbolic,
    numeric: m.numeric,
    autograd: m.autograd,
    numericError: m.numericError,
  });
  return {
    expr: r.expr,
    at: r.at,
    value: r.value,
    verdict: r.verdict,
    blame: r.blame,
    reason: r.reason,
    gradients: r.jacobian === undefined ? gradients : null,
    ...(r.method === "fast"
      ? {
          directional:
            r.directional === null
              ? null
              : {
                  numeric: r.directional.numeric,
                  symbolic: r.directional.symbolic,
                  autograd: r.directional.autograd,
                  numericError: r.directional.numericError,
                },
        }
      : {}),
    ...(r.hessian === undefined ? {} : { hessian: matrix(r.hessian) }),
    ...(r.jacobian === undefined ? {} : { jacobian: matrix(r.jacobian) }),
  };
}
