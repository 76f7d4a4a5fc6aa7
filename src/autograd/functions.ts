/**
 * The ops as free functions (`add(x, 2)`, `sub(1, y)`, `matmul(A, v)`): operand checks, shape
 * rules and fast paths, then the kernel from the op table and the graph node. Tensor methods
 * delegate here.
 */
import { GradtrioError } from "../errors.ts";
import type { ElementwiseOp, LastDimOp, ReductionOp } from "../expr/ops.ts";
import { checkNdim } from "../expr/shapes.ts";
import { FLOAT32_KERNELS, promote32, round32 } from "./float32.ts";
import { isGradEnabled, isRecordingOrigins } from "./grad-mode.ts";
import { record } from "./node.ts";
import { type BinaryDecl, OPS, type OpDecl, type StructDecl, type UnaryDecl } from "./ops.ts";
import {
  broadcastShapes,
  broadcastsTo,
  normDim,
  numelOf,
  rowPlan,
  type Shape,
  sameShape,
  showShape,
} from "./shape.ts";
import { scalarTensor, Tensor, type TensorLike } from "./tensor.ts";

/** A number operand becomes a fresh 0-d tensor that does not require grad. */
function asTensor(x: unknown, op: string, index: number, arity: number): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "number") return scalarTensor(x);
  if (x === undefined)
    throw new GradtrioError(
      "ARITY",
      `${op} takes ${arity} argument(s), argument ${index + 1} is missing`,
    );
  throw new GradtrioError(
    "INVALID_ARGUMENT",
    `${op}: argument ${index + 1} must be a Tensor or a number, got ${x === null ? "null" : typeof x}`,
  );
}

/** Records how `out` was made (see Tensor.origin): the op's name and its arguments as given. */
function origin(
  out: Tensor,
  op: string,
  x: TensorLike,
  y?: TensorLike,
  more?: TensorLike[],
): Tensor {
  if (!isRecordingOrigins()) return out;
  out._op = op;
  out._arg0 = x;
  out._arg1 = y;
  if (more !== undefined) out._args = more;
  return out;
}

/** While a rounding probe runs (`nudged`): by how many ulps to move result element k. */
let nudge: ((k: number) => number) | null = null;
let nudges = 0;

/**
 * Runs `f` with the elements of every op's result moved by nudge(k) ulps (k counts them in the
 * order computed) before anything saves or reads them: each op's rounding made different, as a
 * rounding probe (check/hessian.ts) needs. Off a probe, the ops run as ever.
 *
 * @example
 * nudged(() => 1, () => mul(tensor(3), tensor(1)).item()); // 3·(1 + eps)
 */
export function nudged<T>(by: (k: number) => number, f: () => T): T {
  const before = nudge;
  nudge = by;
  nudges = 0;
  try {
    return f();
  } finally {
    nudge = before;
  }
}

/** Moves a fresh result's elements as the running probe says (nothing off a probe). */
function moveResult(o: Float64Array): void {
  if (nudge === null) return;
  for (let i = 0; i < o.length; i++) o[i] = o[i]! * (1 + nudge(nudges++) * Number.EPSILON);
}

function unary(
  decl: UnaryDecl,
  x: TensorLike,
  op: string,
  param0 = 0,
  param1 = 0,
  args?: TensorLike[],
): Tensor {
  const t = asTensor(x, op, 0, args === undefined ? 1 : args.length);
  const o = new Float64Array(t.data.length);
  const out = origin(new Tensor(o, t.shape), op, x, undefined, args);
  if (t._f32) {
    // Plain-number parameters (clamp bounds, a constant) become float32, as in PyTorch.
    param0 = Math.fround(param0);
    param1 = Math.fround(param1);
    const k32 = Object.hasOwn(FLOAT32_KERNELS, op) ? FLOAT32_KERNELS[op] : undefined;
    if (k32 !== undefined) k32(t.data, o);
    else decl.forward(t.data, o, param0, param1);
    round32(o);
    out._f32 = true;
  } else decl.forward(t.data, o, param0, param1);
  moveResult(o);
  return record(out, decl, t, null, param0, param1, null);
}

function binary(decl: BinaryDecl, a: TensorLike, b: TensorLike, op: string): Tensor {
  const ta = asTensor(a, op, 0, 2);
  const tb = asTensor(b, op, 1, 2);
  // A plain number takes the tensor's dtype (PyTorch's wrapped number): saved for the backward,
  // it must not turn a float32 double backward into float64 (d(2x)/dx of a 0-d float32 x).
  if (typeof a === "number") ta._f32 = tb._f32;
  if (typeof b === "number") tb._f32 = ta._f32;
  const ad = ta.data;
  const bd = tb.data;
  const k = decl.forward;
  let o: Float64Array;
  let shape: Shape;
  // Fast paths: equal shapes, or a one-element operand that does not add dimensions.
  if (sameShape(ta.shape, tb.shape)) {
    o = new Float64Array(ad.length);
    k(ad, 0, 1, bd, 0, 1, o, 0, ad.length);
    shape = ta.shape;
  } else if (bd.length === 1 && tb.shape.length <= ta.shape.length) {
    o = new Float64Array(ad.length);
    k(ad, 0, 1, bd, 0, 0, o, 0, ad.length);
    shape = ta.shape;
  } else if (ad.length === 1 && ta.shape.length <= tb.shape.length) {
    o = new Float64Array(bd.length);
    k(ad, 0, 0, bd, 0, 1, o, 0, bd.length);
    shape = tb.shape;
  } else {
    shape = broadcastShapes(ta.shape, tb.shape, op);
    o = new Float64Array(numelOf(shape));
    const pa = rowPlan(ta.shape, shape);
    const pb = rowPlan(tb.shape, shape);
    const inner = pa.inner;
    for (let r = 0; r < pa.offsets.length; r++)
      k(ad, pa.offsets[r]!, pa.stride, bd, pb.offsets[r]!, pb.stride, o, r * inner, inner);
  }
  moveResult(o);
  const out = origin(new Tensor(o, shape), op, a, b);
  if ((ta._f32 || tb._f32) && promote32([a, b])) {
    round32(o);
    out._f32 = true;
  }
  return record(out, decl, ta, tb, 0, 0, null);
}

function struct(
  decl: StructDecl,
  a: Tensor,
  b: Tensor | null,
  param0: number,
  param1: number,
  ruleData: unknown,
  op: string,
  args: TensorLike[],
): Tensor {
  const out = origin(decl.forward(a, b, param0, param1, ruleData), op, a, undefined, args);
  if (out.data !== a.data && out.data !== b?.data) moveResult(out.data);
  if ((a._f32 || b?._f32) && promote32(b === null ? [a] : [a, b])) {
    round32(out.data);
    out._f32 = true;
  }
  return record(out, decl, a, b, param0, param1, ruleData);
}

/**
 * A built-in op of the expression language by name, as its declaration in the op table says:
 * elementwise ops on their tensor arguments, reductions and softmax on one. (The named functions
 * below add number operands — `pow(x, 2)`, `sub(1, y)`, `clamp(x, 0, 1)` — and dims.)
 *
 * @example
 * builtin("erf", [tensor(0)]).item(); // 0
 */
export function builtin(
  op: ElementwiseOp | ReductionOp | LastDimOp,
  args: readonly TensorLike[],
): Tensor {
  const decl: OpDecl = OPS[op];
  if (decl.kind === "unary") return unary(decl, args[0]!, op);
  if (decl.kind === "binary") return binary(decl, args[0]!, args[1]!, op);
  return struct(decl, asTensor(args[0], op, 0, 1), null, 0, 0, null, op, [args[0]!]);
}

/**
 * Elementwise `a + b` with broadcasting.
 *
 * @example
 * add(tensor([1, 2]), 1).toArray(); // [2, 3]
 */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return binary(OPS.add, a, b, "add");
}

/**
 * Elementwise `a - b`; `sub(1, y)` with a plain number first is PyTorch's `1 - y` (RsubBackward1).
 *
 * @example
 * sub(1, tensor(0.25)).item(); // 0.75
 */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  if (typeof a === "number" && b instanceof Tensor) return rsub(a, b);
  return binary(OPS.sub, a, b, "sub");
}

/** `c - x` for a plain number `c` (the engine's name for Python's `1 - y`). */
export function rsub(c: number, x: Tensor): Tensor {
  return unary(OPS.rsub, x, "sub", c, 0, [c, x]);
}

/**
 * Elementwise `a * b` with broadcasting.
 *
 * @example
 * mul(tensor([1, 2]), tensor([[1], [10]])).toArray(); // [[1, 2], [10, 20]]
 */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binary(OPS.mul, a, b, "mul");
}

/**
 * Elementwise `a / b` with broadcasting. A plain number over a tensor is PyTorch's `c / x`:
 * `reciprocal(x) * c` (MulBackward0 over ReciprocalBackward0), as autograd records it.
 *
 * @example
 * div(1, tensor(4)).item(); // 0.25
 */
export function div(a: TensorLike, b: TensorLike): Tensor {
  if (typeof a === "number" && b instanceof Tensor) {
    const r = unary(OPS.reciprocal, b, "div");
    return origin(binary(OPS.mul, r, a, "mul"), "div", a, b);
  }
  return binary(OPS.div, a, b, "div");
}

/**
 * Elementwise `a ^ b`. A plain-number exponent gives PowBackward0, a tensor exponent
 * PowBackward1 (differentiable in both), a plain-number base PowBackward2.
 *
 * @example
 * pow(tensor(3, { requiresGrad: true }), 2); // tensor(9., grad_fn=<PowBackward0>)
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === "number" && a instanceof Tensor)
    return unary(OPS.powScalar, a, "pow", b, 0, [a, b]);
  if (typeof a === "number" && b instanceof Tensor) return unary(OPS.rpow, b, "pow", a, 0, [a, b]);
  return binary(OPS.pow, a, b, "pow");
}

/** Elementwise `-x`. @example neg(tensor(2)).item(); // -2 */
export function neg(x: TensorLike): Tensor {
  return unary(OPS.neg, x, "neg");
}
/** Elementwise sine. @example sin(tensor(0)).item(); // 0 */
export function sin(x: TensorLike): Tensor {
  return unary(OPS.sin, x, "sin");
}
/** Elementwise cosine. @example cos(tensor(0)).item(); // 1 */
export function cos(x: TensorLike): Tensor {
  return unary(OPS.cos, x, "cos");
}
/** Elementwise tangent. @example tan(tensor(0)).item(); // 0 */
export function tan(x: TensorLike): Tensor {
  return unary(OPS.tan, x, "tan");
}
/** Elementwise `e^x`. @example exp(tensor(0)).item(); // 1 */
export function exp(x: TensorLike): Tensor {
  return unary(OPS.exp, x, "exp");
}
/** Elementwise natural logarithm. @example log(tensor(1)).item(); // 0 */
export function log(x: TensorLike): Tensor {
  return unary(OPS.log, x, "log");
}
/** Elementwise square root. @example sqrt(tensor(4)).item(); // 2 */
export function sqrt(x: TensorLike): Tensor {
  return unary(OPS.sqrt, x, "sqrt");
}
/** Elementwise hyperbolic tangent. @example tanh(tensor(0)).item(); // 0 */
export function tanh(x: TensorLike): Tensor {
  return unary(OPS.tanh, x, "tanh");
}
/** Elementwise logistic function, stable for large |x|. @example sigmoid(tensor(0)).item(); // 0.5 */
export function sigmoid(x: TensorLike): Tensor {
  return unary(OPS.sigmoid, x, "sigmoid");
}
/** Elementwise `max(x, 0)`; relu'(0) = 0. @example relu(tensor([-1, 2])).toArray(); // [0, 2] */
export function relu(x: TensorLike): Tensor {
  return unary(OPS.relu, x, "relu");
}
/** Elementwise `|x|`; abs'(0) = 0. @example abs(tensor(-2)).item(); // 2 */
export function abs(x: TensorLike): Tensor {
  return unary(OPS.abs, x, "abs");
}
/** Elementwise `log(1 + x)`, accurate near 0. @example log1p(tensor(0)).item(); // 0 */
export function log1p(x: TensorLike): Tensor {
  return unary(OPS.log1p, x, "log1p");
}
/** Elementwise `log(1 + e^x)`, stable for large |x|. @example softplus(tensor(0)).item(); // ln 2 */
export function softplus(x: TensorLike): Tensor {
  return unary(OPS.softplus, x, "softplus");
}

/** Elementwise error function (PyTorch's `torch.erf`). @example erf(tensor(0)).item(); // 0 */
export function erf(x: TensorLike): Tensor {
  return unary(OPS.erf, x, "erf");
}
/** Elementwise GELU, the erf form `x/2·(1 + erf(x/√2))`. @example gelu(tensor(0)).item(); // 0 */
export function gelu(x: TensorLike): Tensor {
  return unary(OPS.gelu, x, "gelu");
}
/** Elementwise arcsine (NaN outside [-1, 1]). @example asin(tensor(1)).item(); // π/2 */
export function asin(x: TensorLike): Tensor {
  return unary(OPS.asin, x, "asin");
}
/** Elementwise arccosine (NaN outside [-1, 1]). @example acos(tensor(1)).item(); // 0 */
export function acos(x: TensorLike): Tensor {
  return unary(OPS.acos, x, "acos");
}
/** Elementwise arctangent. @example atan(tensor(1)).item(); // π/4 */
export function atan(x: TensorLike): Tensor {
  return unary(OPS.atan, x, "atan");
}
/** Elementwise hyperbolic sine. @example sinh(tensor(0)).item(); // 0 */
export function sinh(x: TensorLike): Tensor {
  return unary(OPS.sinh, x, "sinh");
}
/** Elementwise hyperbolic cosine. @example cosh(tensor(0)).item(); // 1 */
export function cosh(x: TensorLike): Tensor {
  return unary(OPS.cosh, x, "cosh");
}
/** Elementwise `e^x − 1`, accurate near 0. @example expm1(tensor(0)).item(); // 0 */
export function expm1(x: TensorLike): Tensor {
  return unary(OPS.expm1, x, "expm1");
}
/**
 * Elementwise larger of two, with broadcasting (`torch.maximum`); at a tie each gets half the
 * gradient. @example maximum(tensor([1, 5]), 3).toArray(); // [3, 5]
 */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binary(OPS.maximum, a, b, "maximum");
}
/**
 * Elementwise smaller of two, with broadcasting (`torch.minimum`); at a tie each gets half the
 * gradient. @example minimum(tensor([1, 5]), 3).toArray(); // [1, 3]
 */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binary(OPS.minimum, a, b, "minimum");
}

/**
 * Elementwise `min(max(x, lo), hi)`. Number bounds give ClampBackward1 (the gradient passes where
 * lo <= x <= hi); tensor bounds are differentiable too (ClampBackward0).
 *
 * @example
 * clamp(tensor([-1, 0.5, 2]), 0, 1).toArray(); // [0, 0.5, 1]
 */
export function clamp(x: TensorLike, lo: TensorLike, hi: TensorLike): Tensor {
  if (typeof lo === "number" && typeof hi === "number")
    return unary(OPS.clamp, x, "clamp", lo, hi, [x, lo, hi]);
  const tx = asTensor(x, "clamp", 0, 3);
  const tl = asTensor(lo, "clamp", 1, 3);
  const th = asTensor(hi, "clamp", 2, 3);
  const shape = broadcastShapes(broadcastShapes(tx.shape, tl.shape, "clamp"), th.shape, "clamp");
  const decl = OPS.clampTensor;
  const out = decl.forward(tx, null, 0, 0, [tx, tl, th, shape]);
  if (promote32([tx, tl, th])) {
    round32(out.data);
    out._f32 = true;
  }
  origin(out, "clamp", x, undefined, [x, lo, hi]);
  return record(out, decl, tx, null, 0, 0, [tx, tl, th, shape], [tx, tl, th]);
}

/**
 * Binary cross-entropy, elementwise: `-(t log p + (1 - t) log(1 - p))` (no clamping of the logs,
 * so it agrees with the formula the other legs differentiate).
 *
 * @example
 * bce(tensor(0.5), tensor(1)).item(); // ln 2
 */
export function bce(p: TensorLike, t: TensorLike): Tensor {
  return binary(OPS.bce, p, t, "bce");
}

/**
 * Sum of all elements (SumBackward0), or along `dim` (SumBackward1), keeping it as size 1 when
 * `keepdim`; `keepdim` without `dim` keeps every dimension as size 1 (SumBackward1, as PyTorch's
 * `sum(dim=None, keepdim=True)`).
 *
 * @example
 * sum(tensor([[1, 2], [3, 4]]), 0).toArray(); // [4, 6]
 */
export function sum(x: TensorLike, dim?: number, keepdim = false): Tensor {
  return reduce(x, dim, keepdim, "sum", OPS.sum, OPS.sumKeep, OPS.sumDim);
}

/**
 * Mean of all elements (MeanBackward0), or along `dim` (MeanBackward1), keeping it as size 1 when
 * `keepdim`; `keepdim` without `dim` keeps every dimension as size 1 (MeanBackward1).
 *
 * @example
 * mean(tensor([1, 2, 3])).item(); // 2
 */
export function mean(x: TensorLike, dim?: number, keepdim = false): Tensor {
  return reduce(x, dim, keepdim, "mean", OPS.mean, OPS.meanKeep, OPS.meanDim);
}

/**
 * sum and mean: over everything (`all`, 0-d), over everything keeping every dimension as size 1
 * (`allKeep`, when `keepdim` without a dim; traced as `sum_keepdim`), or along `dim` (`alongDim`,
 * traced as `sum_dim`). A 0-d tensor along dim 0 or -1 is reduced over everything.
 */
function reduce(
  x: TensorLike,
  dim: number | undefined,
  keepdim: boolean,
  op: "sum" | "mean",
  all: StructDecl,
  allKeep: StructDecl,
  alongDim: StructDecl,
): Tensor {
  const t = asTensor(x, op, 0, 1);
  if (dim === undefined) {
    if (keepdim) return struct(allKeep, t, null, 0, 0, null, `${op}_keepdim`, [x]);
    return struct(all, t, null, 0, 0, null, op, [x]);
  }
  const d = normDim(dim, t.ndim, op);
  if (t.ndim === 0) return struct(all, t, null, 0, 0, null, op, [x]);
  const k = keepdim ? 1 : 0;
  return struct(alongDim, t, null, d, k, null, `${op}_dim`, [x, d, k]);
}

/**
 * The largest element, 0-d (`torch.max(x)`); tied maxima share the gradient evenly.
 * @example max(tensor([1, 3, 2])).item(); // 3
 */
export function max(x: TensorLike): Tensor {
  const t = asTensor(x, "max", 0, 1);
  return struct(OPS.max, t, null, 0, 0, null, "max", [x]);
}

/**
 * The smallest element, 0-d (`torch.min(x)`); tied minima share the gradient evenly.
 * @example min(tensor([1, 3, 2])).item(); // 1
 */
export function min(x: TensorLike): Tensor {
  const t = asTensor(x, "min", 0, 1);
  return struct(OPS.min, t, null, 0, 0, null, "min", [x]);
}

/**
 * `log Σ e^x` over all elements, 0-d, computed without overflow.
 * @example logsumexp(tensor([0, 0])).item(); // ln 2
 */
export function logsumexp(x: TensorLike): Tensor {
  const t = asTensor(x, "logsumexp", 0, 1);
  return struct(OPS.logsumexp, t, null, 0, 0, null, "logsumexp", [x]);
}

/**
 * `e^x / Σ e^x` over the last dimension (`torch.softmax(x, -1)`); the same shape as x.
 * @example softmax(tensor([0, 0])).toArray(); // [0.5, 0.5]
 */
export function softmax(x: TensorLike): Tensor {
  const t = asTensor(x, "softmax", 0, 1);
  return struct(OPS.softmax, t, null, 0, 0, null, "softmax", [x]);
}

/**
 * Matrix product for 1-D and 2-D operands, as `torch.matmul`: vector·vector (DotBackward0),
 * matrix·vector (MvBackward0), matrix·matrix (MmBackward0), vector·matrix.
 *
 * @example
 * matmul(tensor([[1, 2], [3, 4]]), tensor([1, 1])).toArray(); // [3, 7]
 */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  const ta = asTensor(a, "matmul", 0, 2);
  const tb = asTensor(b, "matmul", 1, 2);
  const shapeA = ta.shape;
  const shapeB = tb.shape;
  const bad = (why: string) =>
    new GradtrioError(
      "SHAPE",
      `matmul: shapes ${showShape(shapeA)} and ${showShape(shapeB)} ${why}`,
    );
  if (shapeA.length === 0 || shapeB.length === 0 || shapeA.length > 2 || shapeB.length > 2)
    throw bad("are not supported (matmul takes 1-D and 2-D operands)");
  const ka = shapeA[shapeA.length - 1]!;
  const kb = shapeB[0]!; // the inner dimension of b, a vector or a matrix alike
  if (ka !== kb) throw bad(`cannot be multiplied (inner dimensions ${ka} and ${kb} differ)`);
  const args = [a, b];
  if (shapeA.length === 1 && shapeB.length === 1)
    return struct(OPS.dot, ta, tb, 0, 0, null, "matmul", args);
  if (shapeA.length === 2 && shapeB.length === 1)
    return struct(OPS.mv, ta, tb, 0, 0, null, "matmul", args);
  if (shapeA.length === 2) return struct(OPS.mm, ta, tb, 0, 0, null, "matmul", args);
  // vector·matrix, as PyTorch: the vector becomes a 1×k matrix and the result a vector again.
  const out = reshape(matmul(reshape(ta, [1, ka]), tb), [shapeB[1]!]);
  if (isRecordingOrigins()) out.origin = { op: "matmul", args };
  return out;
}

/**
 * The same elements in a new shape (one dimension may be -1: inferred). Copies the data.
 *
 * @example
 * reshape(tensor([1, 2, 3, 4]), 2, 2).toArray(); // [[1, 2], [3, 4]]
 */
export function reshape(x: TensorLike, ...shape: number[] | [readonly number[]]): Tensor {
  const t = asTensor(x, "reshape", 0, 2);
  const want: readonly number[] = Array.isArray(shape[0])
    ? (shape[0] as readonly number[])
    : (shape as number[]);
  checkNdim(want.length, "reshape");
  const n = t.numel;
  const invalid = () =>
    new GradtrioError(
      "SHAPE",
      `reshape: shape ${showShape(want)} is invalid for input of size ${n}`,
    );
  let infer = -1;
  let known = 1;
  for (let i = 0; i < want.length; i++) {
    const d = want[i]!;
    if (d === -1 && infer === -1) infer = i;
    else if (!Number.isInteger(d) || d < 0) throw invalid();
    else known *= d;
  }
  const out = [...want];
  if (infer >= 0) {
    if (known === 0 || n % known !== 0) throw invalid();
    out[infer] = n / known;
  } else if (known !== n) throw invalid();
  return struct(OPS.reshape, t, null, 0, 0, out, "reshape", [x, ...out]);
}

/**
 * Swaps two dimensions (negative indices count from the end).
 *
 * @example
 * transpose(tensor([[1, 2, 3]]), 0, 1).toArray(); // [[1], [2], [3]]
 */
export function transpose(x: TensorLike, dim0: number, dim1: number): Tensor {
  const t = asTensor(x, "transpose", 0, 3);
  const d0 = normDim(dim0, t.ndim, "transpose");
  const d1 = normDim(dim1, t.ndim, "transpose");
  return struct(OPS.transpose, t, null, d0, d1, null, "transpose", [x, d0, d1]);
}

/** Broadcasts `x` to `shape` (materialised). Used by backward rules; differentiable. */
export function expand(x: Tensor, shape: Shape): Tensor {
  if (!broadcastsTo(x.shape, shape))
    throw new GradtrioError(
      "SHAPE",
      `expand: shape ${showShape(x.shape)} does not broadcast to ${showShape(shape)}`,
    );
  return struct(OPS.expand, x, null, 0, 0, shape, "expand", [x, ...shape]);
}

/** Sums `x` down to `shape` (the inverse of broadcasting). Used by backward rules; differentiable. */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  if (!broadcastsTo(shape, x.shape))
    throw new GradtrioError(
      "SHAPE",
      `sumTo: shape ${showShape(shape)} does not broadcast to ${showShape(x.shape)}`,
    );
  return struct(OPS.sumTo, x, null, 0, 0, shape, "sum_to", [x, ...shape]);
}

/** `x` where `keep[i]` is 1, else 0 (a constant mask of x's size). Used by backward rules. */
export function where0(x: Tensor, keep: Uint8Array): Tensor {
  return struct(OPS.where0, x, null, 0, 0, keep, "where0", [x]);
}

/**
 * `temp * y` where `temp` is a tensor the caller has just made and references nowhere else (a
 * backward rule's intermediate): when no graph is being recorded the product is written into
 * temp's storage instead of a new array. Never pass a tensor anyone else may hold.
 */
export function mulTemp(temp: Tensor, y: TensorLike): Tensor {
  if (isGradEnabled()) return mul(temp, y);
  const d = temp.data;
  if (typeof y === "number") {
    for (let i = 0; i < d.length; i++) d[i] *= y;
  } else if (sameShape(temp.shape, y.shape)) {
    const e = y.data;
    for (let i = 0; i < d.length; i++) d[i] *= e[i]!;
  } else if (y.numel === 1 && y.ndim <= temp.ndim) {
    const v = y.data[0]!;
    for (let i = 0; i < d.length; i++) d[i] *= v;
  } else return mul(temp, y);
  if (temp._f32) round32(d);
  // No origin: temp now holds the product, so "mul(temp, y)" would name temp as its own argument
  // (and any origin it had describes the old values). This path runs only in a backward pass
  // without createGraph, which records no origins anyway.
  if (temp._op !== null) temp.origin = null;
  return temp;
}
