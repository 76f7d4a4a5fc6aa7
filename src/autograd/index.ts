/**
 * # src/autograd — the autograd leg
 *
 * A small PyTorch in float64: `Tensor` (row-major `Float64Array`, any rank, NumPy broadcasting),
 * the ops of the expression language as methods and free functions, reverse-mode `backward()` and
 * the functional `grad()`, with PyTorch's semantics (grad_fn names, accumulation, retainGraph,
 * createGraph for higher derivatives, noGrad, detach, warnings). Every derivative the engine knows
 * is one declaration in ops.ts; custom elementwise ops come from `defineOp`. `autogradLeg` runs an
 * `Expr` through the engine for the three-way check; `trace` reads the `Expr` back from a
 * TypeScript function over Tensors (the origins the ops record).
 *
 * It must not import anything from src/symbolic, src/numeric or src/check: its backward rules
 * are the thing the other two legs check, so it shares no derivative code with them. It uses only
 * src/errors.ts and the shared contracts in src/expr (ast, ops, point, interpret).
 */
export { defineOp, type TensorOpFunction } from "./define-op.ts";
export { type BackwardOptions, backward, type GradOptions, grad } from "./engine.ts";
export type { DType } from "./float32.ts";
export {
  abs,
  acos,
  add,
  asin,
  atan,
  bce,
  clamp,
  cos,
  cosh,
  div,
  erf,
  exp,
  expm1,
  gelu,
  log,
  log1p,
  logsumexp,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  neg,
  pow,
  relu,
  reshape,
  sigmoid,
  sin,
  sinh,
  softmax,
  softplus,
  sqrt,
  sub,
  sum,
  tan,
  tanh,
  transpose,
} from "./functions.ts";
export {
  enableGrad,
  isGradEnabled,
  isRecordingOrigins,
  noGrad,
  recordOrigins,
} from "./grad-mode.ts";
export { type AutogradLegResult, autogradLeg, tensorAlgebra } from "./leg.ts";
export type { Node as GradFn } from "./node.ts";
export {
  type NestedNumbers,
  type Origin,
  Tensor,
  type TensorLike,
  type TensorOptions,
  tensor,
} from "./tensor.ts";
export { trace } from "./trace.ts";
export { setWarningHandler, type WarningHandler, warn } from "./warnings.ts";
