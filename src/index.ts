/**
 * gradtrio's public API: re-exports only. One function, three gradients — symbolic (nerdamer),
 * numeric (finite differences with error estimates), autograd (a small PyTorch) — and a verdict.
 *
 * @example
 * import { check, tensor } from "gradtrio";
 * check("sin(x^2)", { at: { x: 3 } }).verdict; // "agree"
 * const x = tensor(3, { requiresGrad: true });
 * x.pow(2).sin().backward();
 * String(x.grad); // "tensor(-5.4668)"
 */

// The Tensor API (PyTorch-like autograd): tensor, Tensor, every op, backward/grad, noGrad, defineOp…
export * from "./autograd/index.ts";
// The verdict.
export {
  type CheckOptions,
  check,
  type NumericMethod,
  type Subject,
  toExpr,
} from "./check/check.ts";
export { type CheckFunctionOptions, checkFunction } from "./check/check-function.ts";
export {
  type InputGradients,
  type LegReport,
  type MatrixReport,
  type Report,
  reportToJson,
} from "./check/report.ts";
export { roundingScale } from "./check/rounding.ts";
export {
  type Comparison,
  DEFAULT_TOLERANCE,
  type Judgement,
  judge,
  type LegName,
  type Tolerance,
} from "./check/verdict.ts";
export { type ErrorCode, GradtrioError, isGradtrioError } from "./errors.ts";
// The expression language.
export * from "./expr/ast.ts";
export { type Algebra, interpret, interpretAll } from "./expr/interpret.ts";
export {
  BUILTIN_OPS,
  type BuiltinOp,
  type CustomOpDefinition,
  customOpNames,
  type Interval,
  isTensorOp,
  lookupCustomOp,
  type OpDefinition,
  type TensorBackwardContext,
  type TensorForwardContext,
  type TensorOpDefinition,
} from "./expr/ops.ts";
export { type Binding, MAX_DEPTH, type Program, parse, parseProgram } from "./expr/parse.ts";
export {
  fromValue,
  type NestedArray,
  type Point,
  toValue,
  toValues,
  type Value,
} from "./expr/point.ts";
export { print, printProgram } from "./expr/print.ts";
export { checkScalarOutput, inferShapes } from "./expr/shapes.ts";
// Gate configs (the fuzz arbitraries are in "gradtrio/fuzz").
export { defineConfig, type GradtrioConfig } from "./fuzz/config.ts";
// The finite-difference leg.
export {
  backwardDifference,
  centralDifference,
  compileForward,
  complexStepGradient,
  directionalDerivative,
  forwardDifference,
  gradient,
  jvp,
  numericLeg,
  richardson,
} from "./numeric/index.ts";
// The symbolic leg.
export { CAS_DEFECTS, localDerivative, symbolicLeg, toLatex, toPlain } from "./symbolic/index.ts";
