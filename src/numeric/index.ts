/**
 * # src/numeric — the finite-difference leg
 *
 * Differentiates from the forward function alone. `compileForward` turns an `Expr` into a fast
 * `f: Float64Array → number` (the plain evaluator every part of gradtrio may use for values).
 * On any black-box f: central / forward / backward differences, Richardson extrapolation with an
 * honest error estimate (truncation from the tableau, rounding of f over the step), kink detection
 * (left and right derivatives that disagree), one-sided stencils at domain edges, directional
 * derivatives (fast mode, O(1) evaluations) and Jacobian-vector products. On an `Expr` whose ops
 * are all analytic at the point: the complex step, derivatives to machine precision.
 * `numericLeg` is the leg's entry point for the checker.
 *
 * Must not import src/autograd or src/symbolic: this leg shares no derivative code with them.
 */
export { compileComplex } from "./complex.ts";
export {
  type ComplexStepResult,
  complexStepAlong,
  complexStepGradient,
} from "./complex-step.ts";
export {
  backwardDifference,
  centralDifference,
  type DifferenceOptions,
  forwardDifference,
} from "./difference.ts";
export {
  compileForward,
  compileForwardValue,
  compileProgram,
  evaluate,
  flattenValues,
  type Layout,
  type Program,
} from "./evaluate.ts";
export {
  type DirectionalResult,
  directionalDerivative,
  type GradientMethod,
  type GradientOptions,
  type GradientResult,
  gradient,
  randomUnitVector,
} from "./gradient.ts";
export { type JvpResult, jvp } from "./jvp.ts";
export {
  FAST_MODE_THRESHOLD,
  type NumericLegOptions,
  type NumericLegResult,
  type NumericMethod,
  numericLeg,
} from "./leg.ts";
export { type RichardsonOptions, richardson } from "./richardson.ts";
export type { Estimate, Kink, NonFinite, ScalarFn, Stencil } from "./types.ts";
