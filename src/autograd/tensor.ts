/**
 * The Tensor: float64 storage (row-major `Float64Array`), any rank, PyTorch's autograd semantics.
 * Ops live in functions.ts (free functions) and ops.ts (their kernels and backward rules); the
 * methods here delegate to the free functions.
 */
import { checkOptionNames, GradtrioError } from "../errors.ts";
import { checkNdim } from "../expr/shapes.ts";
import { type BackwardOptions, backward as runBackward } from "./engine.ts";
import { DTYPES, type DType, round32 } from "./float32.ts";
import { formatTensor } from "./format.ts";
import * as F from "./functions.ts";
import { isRecordingOrigins } from "./grad-mode.ts";
import { add_, div_, fill_, mul_, sub_, versionCounter, zero_ } from "./inplace.ts";
import { type Node, versionOf } from "./node.ts";
import { numelOf, type Shape, sameShape, showShape } from "./shape.ts";
import { warn } from "./warnings.ts";

/** A nested array of numbers as the user writes it: `3`, `[1, 2]`, `[[1, 2], [3, 4]]`. */
export type NestedNumbers = number | NestedNumbers[];
/** Anything an op accepts as an operand. */
export type TensorLike = Tensor | number;

/**
 * How a tensor was made, for tracing a function over tensors into an expression: the
 * expression-language op name (or `sum_dim`, `reshape`, `transpose`, … for ops outside it) and
 * its arguments, plain-number parameters included.
 */
export interface Origin {
  readonly op: string;
  readonly args: readonly TensorLike[];
}

const NON_LEAF_GRAD_WARNING =
  "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf Tensor, use .retainGrad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more informations.";

export class Tensor {
  /** Row-major storage. */
  readonly data: Float64Array;
  readonly shape: Shape;
  // The origin is kept as raw fields and built on demand: one object per op would double the
  // allocations of small graphs.
  /** @internal The op that made this tensor (expression-language name), or null. */
  _op: string | null = null;
  /** @internal Its first two arguments, or all of them in `_args` when there are more. */
  _arg0: TensorLike | undefined = undefined;
  _arg1: TensorLike | undefined = undefined;
  _args: readonly TensorLike[] | null = null;
  /** @internal The node that made this tensor, when it is part of a graph. */
  _gradFn: Node | null = null;
  /** @internal The requires-grad flag of a leaf. */
  _requiresGrad = false;
  /** @internal */
  _grad: Tensor | null = null;
  /** @internal The leaf's AccumulateGrad node, made on first use. */
  _accNode: Node | null = null;
  /** @internal Whether reading `.grad` of this non-leaf already warned. */
  _warned = false;
  /** @internal The version counter of the storage, made by the first in-place op or detach(). */
  _vc: { v: number } | null = null;
  /** @internal float32: every element is a float32 value, and ops on it round (float32.ts). */
  _f32 = false;

  /** Wraps `data` (not copied) as a tensor of `shape`; prefer `tensor()`. */
  constructor(data: Float64Array, shape: Shape) {
    this.data = data;
    this.shape = shape;
  }

  /** How an op made this tensor (null for tensors made by `tensor()` or `detach()`). */
  get origin(): Origin | null {
    if (this._op === null) return null;
    const args =
      this._args ??
      (this._arg1 === undefined
        ? [this._arg0 as TensorLike]
        : [this._arg0 as TensorLike, this._arg1]);
    return { op: this._op, args };
  }

  set origin(o: Origin | null) {
    this._op = o === null ? null : o.op;
    this._args = o === null ? null : o.args;
    // The arguments live in _args now: drop the raw fields (they would keep tensors alive).
    this._arg0 = undefined;
    this._arg1 = undefined;
  }

  /** "float64" (the default) or "float32". */
  get dtype(): DType {
    return this._f32 ? "float32" : "float64";
  }

  get numel(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The node that made this tensor (`gradFn.name` is PyTorch's grad_fn name), null for leaves. */
  get gradFn(): Node | null {
    return this._gradFn;
  }

  /** Leaves: tensors that do not require grad, and those the user made with `requiresGrad`. */
  get isLeaf(): boolean {
    return this._gradFn === null;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad || this._gradFn !== null;
  }

  set requiresGrad(flag: boolean) {
    this.requiresGrad_(flag);
  }

  /**
   * Sets the requires-grad flag of a leaf in place and returns the tensor.
   *
   * @example
   * const w = tensor([1, 2]).requiresGrad_(); // a leaf that requires grad
   */
  requiresGrad_(flag = true): this {
    if (typeof flag !== "boolean")
      throw new GradtrioError("INVALID_ARGUMENT", "requiresGrad_: expected a boolean");
    if (this._gradFn !== null) {
      if (flag) return this;
      throw new GradtrioError(
        "AUTOGRAD",
        "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use varNoGrad = v.detach().",
      );
    }
    this._requiresGrad = flag;
    return this;
  }

  /**
   * The gradient accumulated by `backward()`: leaves (and tensors with `retainGrad()`) only;
   * reading it on another non-leaf returns null and warns once, as PyTorch does.
   */
  get grad(): Tensor | null {
    if (this._gradFn !== null && this._gradFn.retained !== this && !this._warned) {
      this._warned = true;
      warn(NON_LEAF_GRAD_WARNING);
    }
    return this._grad;
  }

  set grad(g: Tensor | null) {
    if (g !== null && !(g instanceof Tensor))
      throw new GradtrioError("INVALID_ARGUMENT", "grad: expected a Tensor or null");
    if (g !== null && !sameShape(g.shape, this.shape))
      throw new GradtrioError(
        "SHAPE",
        `grad: assigned grad has shape ${showShape(g.shape)} but the tensor has shape ${showShape(this.shape)}`,
      );
    this._grad = g;
  }

  /**
   * Makes `backward()` fill `.grad` of this non-leaf tensor too.
   *
   * @example
   * const y = x.pow(2); y.retainGrad(); y.sum().backward(); y.grad; // ones
   */
  retainGrad(): void {
    if (!this.requiresGrad)
      throw new GradtrioError("AUTOGRAD", "can't retainGrad on Tensor that has requiresGrad=false");
    if (this._gradFn !== null) this._gradFn.retained = this;
  }

  /**
   * Computes the gradient of this tensor with respect to the graph's leaves and accumulates it in
   * their `.grad`. `gradient` is required unless the tensor has one element.
   *
   * @example
   * const x = tensor(3, { requiresGrad: true });
   * x.pow(2).backward();
   * x.grad?.item(); // 6
   */
  backward(gradient?: TensorLike | NestedNumbers, options?: BackwardOptions | null): void {
    runBackward(this, gradient, options);
  }

  /**
   * A new leaf sharing this tensor's storage, cut from the graph (PyTorch's `detach()`).
   *
   * @example
   * const z = x.detach(); z.requiresGrad; // false
   */
  detach(): Tensor {
    const d = new Tensor(this.data, this.shape);
    d._f32 = this._f32;
    d._vc = versionCounter(this); // one storage, one version counter
    return d;
  }

  /** How many times the storage was changed in place (PyTorch's `_version`). */
  get version(): number {
    return versionOf(this);
  }

  // In-place ops (inplace.ts): PyTorch's rules, the version counter, and `noGrad` for leaves.
  /**
   * `this += other` in place; returns this.
   *
   * @example
   * noGrad(() => w.sub_(w.grad!.mul(0.1))); // a gradient-descent step
   */
  add_(other: TensorLike): this {
    return add_(this, other) as this;
  }
  /** `this -= other` in place. */
  sub_(other: TensorLike): this {
    return sub_(this, other) as this;
  }
  /** `this *= other` in place. */
  mul_(other: TensorLike): this {
    return mul_(this, other) as this;
  }
  /** `this /= other` in place. */
  div_(other: TensorLike): this {
    return div_(this, other) as this;
  }
  /** Fills with zeros in place and returns the tensor (PyTorch's `zero_()`, for `x.grad.zero_()`). */
  zero_(): this {
    return zero_(this) as this;
  }
  /** Fills with `value` in place. */
  fill_(value: number): this {
    return fill_(this, value) as this;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1)
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `a Tensor with ${this.data.length} elements cannot be converted to Scalar`,
      );
    return this.data[0]!;
  }

  /** Nested arrays (a number for a 0-d tensor). */
  toArray(): NestedNumbers {
    const { shape, data } = this;
    if (shape.length === 0) return data[0]!;
    let k = 0;
    const build = (depth: number): NestedNumbers[] => {
      const out: NestedNumbers[] = [];
      for (let i = 0; i < shape[depth]!; i++)
        out.push(depth === shape.length - 1 ? data[k++]! : build(depth + 1));
      return out;
    };
    return build(0);
  }

  /** The shape as a fresh array (PyTorch's `size()`). */
  size(): number[] {
    return [...this.shape];
  }

  /**
   * As PyTorch prints it (`tensor(0.6667)`); while a function is traced (`check`, `checkFunction`),
   * every value in full (`tensor(0.6666666666666666)`): a number parsed back from the text is then
   * the value itself, so the trace refuses it as it refuses `.item()` (4 digits would hide it).
   */
  toString(): string {
    return formatTensor(this.data, this.shape, {
      requiresGrad: this.requiresGrad,
      gradFn: this._gradFn === null ? null : this._gradFn.name,
      // gradtrio's default dtype is float64, so float32 is the one PyTorch would name.
      dtype: this._f32 ? "torch.float32" : null,
      exact: isRecordingOrigins(),
    });
  }

  /** `Number(t)`, `+t`: the single value, as PyTorch's `float(t)`; as text otherwise. */
  [Symbol.toPrimitive](hint: string): number | string {
    return hint === "number" ? this.item() : this.toString();
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // Ops: every one delegates to the free function of the same name (functions.ts).
  add(other: TensorLike): Tensor {
    return F.add(this, other);
  }
  sub(other: TensorLike): Tensor {
    return F.sub(this, other);
  }
  mul(other: TensorLike): Tensor {
    return F.mul(this, other);
  }
  div(other: TensorLike): Tensor {
    return F.div(this, other);
  }
  pow(exponent: TensorLike): Tensor {
    return F.pow(this, exponent);
  }
  neg(): Tensor {
    return F.neg(this);
  }
  sin(): Tensor {
    return F.sin(this);
  }
  cos(): Tensor {
    return F.cos(this);
  }
  tan(): Tensor {
    return F.tan(this);
  }
  exp(): Tensor {
    return F.exp(this);
  }
  log(): Tensor {
    return F.log(this);
  }
  sqrt(): Tensor {
    return F.sqrt(this);
  }
  tanh(): Tensor {
    return F.tanh(this);
  }
  sigmoid(): Tensor {
    return F.sigmoid(this);
  }
  relu(): Tensor {
    return F.relu(this);
  }
  abs(): Tensor {
    return F.abs(this);
  }
  log1p(): Tensor {
    return F.log1p(this);
  }
  softplus(): Tensor {
    return F.softplus(this);
  }
  erf(): Tensor {
    return F.erf(this);
  }
  gelu(): Tensor {
    return F.gelu(this);
  }
  asin(): Tensor {
    return F.asin(this);
  }
  acos(): Tensor {
    return F.acos(this);
  }
  atan(): Tensor {
    return F.atan(this);
  }
  sinh(): Tensor {
    return F.sinh(this);
  }
  cosh(): Tensor {
    return F.cosh(this);
  }
  expm1(): Tensor {
    return F.expm1(this);
  }
  maximum(other: TensorLike): Tensor {
    return F.maximum(this, other);
  }
  minimum(other: TensorLike): Tensor {
    return F.minimum(this, other);
  }
  max(): Tensor {
    return F.max(this);
  }
  min(): Tensor {
    return F.min(this);
  }
  logsumexp(): Tensor {
    return F.logsumexp(this);
  }
  softmax(): Tensor {
    return F.softmax(this);
  }
  clamp(lo: TensorLike, hi: TensorLike): Tensor {
    return F.clamp(this, lo, hi);
  }
  bce(target: TensorLike): Tensor {
    return F.bce(this, target);
  }
  sum(dim?: number, keepdim = false): Tensor {
    return F.sum(this, dim, keepdim);
  }
  mean(dim?: number, keepdim = false): Tensor {
    return F.mean(this, dim, keepdim);
  }
  matmul(other: Tensor): Tensor {
    return F.matmul(this, other);
  }
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    return F.reshape(this, ...shape);
  }
  transpose(dim0: number, dim1: number): Tensor {
    return F.transpose(this, dim0, dim1);
  }
}

/** Options of `tensor()`. */
export interface TensorOptions {
  readonly requiresGrad?: boolean;
  /** "float64" (the default) or "float32" (computed with Math.fround after each op). */
  readonly dtype?: DType;
  /** The shape of a `Float64Array` value (default: one dimension). */
  readonly shape?: readonly number[];
}

/**
 * Makes a leaf tensor from a number, nested arrays or a `Float64Array` (copied).
 *
 * @example
 * const x = tensor(3, { requiresGrad: true });       // tensor(3., requires_grad=True)
 * const m = tensor([[1, 2], [3, 4]]);                  // shape [2, 2]
 * const v = tensor(new Float64Array(6), { shape: [2, 3] });
 */
export function tensor(
  value: NestedNumbers | Float64Array | Tensor,
  options?: TensorOptions | null,
): Tensor {
  // null options are no options (as undefined), for callers in plain JavaScript.
  const opts = options ?? {};
  checkOptionNames(opts, ["requiresGrad", "shape", "dtype"], "tensor");
  const { requiresGrad = false } = opts;
  const dtype = opts.dtype ?? (value instanceof Tensor ? value.dtype : "float64");
  if (!DTYPES.includes(dtype))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `tensor: dtype must be "float64" or "float32", got ${JSON.stringify(dtype)}`,
    );
  if (typeof requiresGrad !== "boolean")
    throw new GradtrioError("INVALID_ARGUMENT", "tensor: requiresGrad must be a boolean");
  let t: Tensor;
  if (value instanceof Tensor) t = new Tensor(value.data.slice(), value.shape);
  else if (value instanceof Float64Array) {
    const shape = opts.shape ?? [value.length];
    checkShape(shape, "tensor");
    if (numelOf(shape) !== value.length)
      throw new GradtrioError(
        "SHAPE",
        `tensor: shape ${showShape(shape)} does not fit ${value.length} element(s)`,
      );
    t = new Tensor(value.slice(), [...shape]);
  } else if (typeof value === "number") t = scalarTensor(value);
  else t = fromNested(value);
  if (dtype === "float32") {
    round32(t.data);
    t._f32 = true;
  }
  t._requiresGrad = requiresGrad;
  return t;
}

/** A fresh 0-d tensor (no copy of anything, no validation: for the engine and the ops). */
export function scalarTensor(v: number): Tensor {
  const d = new Float64Array(1);
  d[0] = v;
  return new Tensor(d, SCALAR_SHAPE);
}

/** The shape of every 0-d tensor the ops make (shared: shapes are never mutated). */
export const SCALAR_SHAPE: readonly number[] = Object.freeze([]);

export function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new GradtrioError(
      "SHAPE",
      `${what}: a shape is an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  checkNdim(shape.length, what);
}

function fromNested(value: unknown): Tensor {
  if (!Array.isArray(value))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `tensor: expected a number, nested arrays of numbers or a Float64Array, got ${describe(value)}`,
    );
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  // toArray and toString recurse once per dimension: cap the rank here, where tensors are made.
  checkNdim(shape.length, "tensor");
  const data = new Float64Array(numelOf(shape));
  let k = 0;
  const stack: { node: unknown; depth: number; path: string }[] = [
    { node: value, depth: 0, path: "" },
  ];
  // Iterative, children pushed in reverse so elements land in row-major order.
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop()!;
    if (depth === shape.length) {
      if (typeof node !== "number")
        throw new GradtrioError(
          "INVALID_ARGUMENT",
          `tensor: value${path} is ${describe(node)}, expected a number`,
        );
      data[k++] = node;
      continue;
    }
    if (!Array.isArray(node) || node.length !== shape[depth])
      throw new GradtrioError(
        "SHAPE",
        `tensor: value${path} is not rectangular (expected ${shape[depth]} elements at depth ${depth})`,
      );
    for (let i = node.length - 1; i >= 0; i--)
      stack.push({ node: node[i], depth: depth + 1, path: `${path}[${i}]` });
  }
  return new Tensor(data, shape);
}

function describe(x: unknown): string {
  if (Array.isArray(x)) return "an array";
  if (x === null) return "null";
  if (x === undefined) return "undefined";
  return typeof x === "string" ? JSON.stringify(x) : typeof x;
}
