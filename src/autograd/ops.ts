/**
 * The op table: every op the engine knows, one declaration each — its forward kernel, its
 * backward rule (written with Tensor ops, so `createGraph` differentiates it again), the name
 * PyTorch gives its node, and the formula. Read it top to bottom to audit every derivative.
 * `satisfies Record<TensorOp, OpDecl>` makes the compiler refuse an op without a rule.
 *
 * Conventions: `g` is the incoming gradient, `n.a`/`n.b` the saved inputs, `n.out` the saved
 * output, `n.param0`/`n.param1` numeric parameters; a rule computes only the gradients its node needs
 * (`n.needs(i)`). Binary rules return full-shape gradients through `unbroadcast`, which sums each
 * back to its input's shape. `mulTemp(t, g)` is `t * g` for a `t` the rule has just made: it
 * reuses t's storage when no graph is being recorded (one allocation less per rule).
 * `takesSpread` marks the rules that also take a 0-d g standing for that value at every element
 * (the plain backward of sum and mean sends one, grad-buffers.ts): those computing g·f(x) or
 * g/f(x) with a full-shape f(x); the engine writes g out for the others.
 */
import { sumTo as sumDataTo } from "../expr/broadcast.ts";
import { type BuiltinOp, BUILTIN_OPS as DECLARED } from "../expr/ops.ts";
import { expand, mulTemp, reshape, rsub, sum, sumTo, transpose, where0 } from "./functions.ts";
import { freshGrad, outputFor, spreadGrad } from "./grad-buffers.ts";
import { isGradEnabled } from "./grad-mode.ts";
import {
  type GradRule,
  type Node,
  SAVE_A,
  SAVE_B,
  SAVE_NONE,
  SAVE_OUT,
  SAVE_RULE_DATA,
} from "./node.ts";
import { numelOf, type Shape, sameShape, stridesOf } from "./shape.ts";
import { SCALAR_SHAPE, Tensor } from "./tensor.ts";

/** `o[i] = f(x[i])` over the whole array; `param0`, `param1` are the op's numeric parameters. */
export type UnaryKernel = (
  x: Float64Array,
  o: Float64Array,
  param0: number,
  param1: number,
) => void;
/** `o[io+i] = f(a[ia + i*strideA], b[ib + i*strideB])` for `i < n`; strides are 0 (broadcast) or 1. */
export type BinaryKernel = (
  a: Float64Array,
  ia: number,
  strideA: number,
  b: Float64Array,
  ib: number,
  strideB: number,
  o: Float64Array,
  io: number,
  n: number,
) => void;

export interface UnaryDecl extends GradRule {
  readonly kind: "unary";
  readonly forward: UnaryKernel;
}
export interface BinaryDecl extends GradRule {
  readonly kind: "binary";
  readonly forward: BinaryKernel;
}
/** Ops that move or reduce elements: the forward takes tensors and returns a bare result. */
export interface StructDecl extends GradRule {
  readonly kind: "struct";
  readonly forward: (
    a: Tensor,
    b: Tensor | null,
    param0: number,
    param1: number,
    ruleData: unknown,
  ) => Tensor;
}
export type OpDecl = UnaryDecl | BinaryDecl | StructDecl;

/**
 * Every op of the engine: each built-in op of the expression language (a new one without a rule
 * here does not compile), plus the engine's own forms (number operands, dims, views).
 */
export type TensorOp =
  | Exclude<BuiltinOp, "matmul">
  | "rsub"
  | "reciprocal"
  | "powScalar"
  | "rpow"
  | "clampTensor"
  | "sumKeep"
  | "sumDim"
  | "meanKeep"
  | "meanDim"
  | "dot"
  | "mv"
  | "mm"
  | "reshape"
  | "transpose"
  | "expand"
  | "sumTo"
  | "where0";

// The forward kernels are the declared ones (src/expr/ops.ts), shared by every leg.
const {
  sin: { real: sinK },
  cos: { real: cosK },
  tan: { real: tanK },
  exp: { real: expK },
  log: { real: logK },
  sqrt: { real: sqrtK },
  tanh: { real: tanhK },
  sigmoid: { real: sigmoidK },
  relu: { real: reluK },
  abs: { real: absK },
  clamp: { real: clampK },
  log1p: { real: log1pK },
  softplus: { real: softplusK },
  bce: { real: bceK },
  erf: { real: erfK },
  gelu: { real: geluK },
  asin: { real: asinK },
  acos: { real: acosK },
  atan: { real: atanK },
  sinh: { real: sinhK },
  cosh: { real: coshK },
  expm1: { real: expm1K },
  maximum: { real: maximumK },
  minimum: { real: minimumK },
  max: { reduce: maxK },
  min: { reduce: minK },
  logsumexp: { reduce: logsumexpK },
  softmax: { row: softmaxRowK },
} = DECLARED;

/** Sums full-shape gradients back to the inputs' shapes (undoing broadcasting). */
function unbroadcast(n: Node, ga: Tensor | null, gb: Tensor | null): (Tensor | null)[] {
  return [ga === null ? null : reduceTo(ga, n.shapeA), gb === null ? null : reduceTo(gb, n.shapeB)];
}

function reduceTo(g: Tensor, shape: Shape): Tensor {
  return sameShape(g.shape, shape) ? g : sumTo(g, shape);
}

// Masks (1 = keep the gradient) are computed on plain numbers: they are piecewise constant, so
// not differentiated. One loop each, no per-element callback.
/** keep where x > t */
function keepAbove(x: Float64Array, t: number): Uint8Array {
  const m = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) m[i] = x[i]! > t ? 1 : 0;
  return m;
}

/** keep where x < t */
function keepBelow(x: Float64Array, t: number): Uint8Array {
  const m = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) m[i] = x[i]! < t ? 1 : 0;
  return m;
}

/** keep where lo <= x <= hi */
function keepBetween(x: Float64Array, lo: number, hi: number): Uint8Array {
  const m = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) m[i] = x[i]! >= lo && x[i]! <= hi ? 1 : 0;
  return m;
}

/**
 * A backward rule's product g·f(a) in one loop (the hot ops of a plain backward): the input's
 * data, g's data (same shape, or one number) and the output array — g's own storage when the
 * engine lent it (each element is read before it is written), else a new one; the rule wraps it
 * with `freshGrad`. Null where the rule must build it from Tensor ops — a graph being recorded
 * (createGraph), float32 (rounded per op), or broadcasting.
 */
function plainProduct(a: Tensor, g: Tensor): [Float64Array, Float64Array, Float64Array] | null {
  if (isGradEnabled() || a._f32 || g._f32) return null;
  if (!sameShape(a.shape, g.shape) && !(g.numel === 1 && g.ndim <= a.ndim)) return null;
  return [a.data, g.data, outputFor(g, a.numel)];
}

/**
 * `expand(g / divisor, shape)` for a one-element g (the backward of sum and mean): in a plain
 * float64 backward that one number as a spread gradient (grad-buffers.ts), no array.
 */
function spread(g: Tensor, shape: Shape, divisor: number): Tensor {
  if (isGradEnabled() || g._f32) return expand(divisor === 1 ? g : g.div(divisor), shape);
  const v = g.data[0]! / divisor;
  const n = numelOf(shape);
  return n > 1 ? spreadGrad(v, shape) : freshGrad(new Float64Array(n).fill(v), shape);
}

/** Zeros of x's shape and dtype, a constant tensor. */
function zerosLike(x: Tensor): Tensor {
  const z = new Tensor(new Float64Array(x.numel), x.shape);
  z._f32 = x._f32;
  return z;
}

/** sign(x) as a constant tensor, with sign(0) = 0 (so abs'(0) = 0, as in PyTorch). */
function signOf(x: Tensor): Tensor {
  const d = x.data;
  const s = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) s[i] = d[i]! > 0 ? 1 : d[i]! < 0 ? -1 : 0;
  return new Tensor(s, x.shape);
}

/** Elements of `x` broadcast to `shape`, as plain numbers. */
export function broadcastData(x: Tensor, shape: Shape): Float64Array {
  return sameShape(x.shape, shape) ? x.data : expandData(x, shape);
}

function expandData(x: Tensor, shape: Shape): Float64Array {
  const out = new Float64Array(numelOf(shape));
  const d = x.data;
  if (d.length === 1) return out.fill(d[0]!);
  const r = shape.length;
  const pad = r - x.shape.length;
  const st = stridesOf(x.shape);
  const bs = shape.map((_, k) => (k < pad || x.shape[k - pad] === 1 ? 0 : st[k - pad]!));
  const idx = new Array<number>(r).fill(0);
  let off = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = d[off]!;
    for (let k = r - 1; k >= 0; k--) {
      idx[k]++;
      off += bs[k]!;
      if (idx[k]! < shape[k]!) break;
      off -= bs[k]! * idx[k]!;
      idx[k] = 0;
    }
  }
  return out;
}

export const OPS = {
  // d(a + b) = da + db
  add: {
    kind: "binary",
    gradFn: "AddBackward0",
    saves: SAVE_NONE,
    forward(a, ia, strideA, b, ib, strideB, o, io, n) {
      for (let i = 0; i < n; i++, ia += strideA, ib += strideB) o[io + i] = a[ia]! + b[ib]!;
    },
    backward: (n, g) => unbroadcast(n, n.needs(0) ? g : null, n.needs(1) ? g : null),
  },
  // d(a - b) = da - db
  sub: {
    kind: "binary",
    gradFn: "SubBackward0",
    saves: SAVE_NONE,
    forward(a, ia, strideA, b, ib, strideB, o, io, n) {
      for (let i = 0; i < n; i++, ia += strideA, ib += strideB) o[io + i] = a[ia]! - b[ib]!;
    },
    backward: (n, g) => unbroadcast(n, n.needs(0) ? g : null, n.needs(1) ? g.neg() : null),
  },
  // c - x for a plain number c (Python's `1 - y`): d(c - x) = -dx
  rsub: {
    kind: "unary",
    gradFn: "RsubBackward1",
    saves: SAVE_NONE,
    forward(x, o, c) {
      for (let i = 0; i < o.length; i++) o[i] = c - x[i]!;
    },
    backward: (_n, g) => [g.neg()],
  },
  // d(a b) = b da + a db
  mul: {
    kind: "binary",
    gradFn: "MulBackward0",
    saves: SAVE_A | SAVE_B,
    forward(a, ia, strideA, b, ib, strideB, o, io, n) {
      for (let i = 0; i < n; i++, ia += strideA, ib += strideB) o[io + i] = a[ia]! * b[ib]!;
    },
    backward: (n, g) =>
      unbroadcast(n, n.needs(0) ? g.mul(n.b!) : null, n.needs(1) ? g.mul(n.a!) : null),
  },
  // d(a / b) = da / b - (a / b) / b db
  div: {
    kind: "binary",
    gradFn: "DivBackward0",
    saves: SAVE_A | SAVE_B,
    forward(a, ia, strideA, b, ib, strideB, o, io, n) {
      for (let i = 0; i < n; i++, ia += strideA, ib += strideB) o[io + i] = a[ia]! / b[ib]!;
    },
    backward: (n, g) =>
      unbroadcast(
        n,
        n.needs(0) ? g.div(n.b!) : null,
        n.needs(1) ? g.neg().mul(n.a!.div(n.b!).div(n.b!)) : null,
      ),
  },
  // 1/x, the first half of Python's `c / x` for a plain number c (then a MulBackward0 by c):
  // d(1/x) = -dx / x² = -(1/x)² dx
  reciprocal: {
    kind: "unary",
    gradFn: "ReciprocalBackward0",
    saves: SAVE_OUT,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = 1 / x[i]!;
    },
    backward: (n, g) => [g.mul(n.out!.mul(n.out!)).neg()],
  },
  // d(a^b) = b a^(b-1) da + a^b log(a) db. Where a = 0 the formulas give 0·∞ = NaN: the first
  // is zeroed where also b = 0, the second where b >= 0, as PyTorch does. (PyTorch zeroes the first
  // wherever b = 0, which also kills the mixed second derivative 1/a there; we keep it.)
  pow: {
    kind: "binary",
    gradFn: "PowBackward1",
    saves: SAVE_A | SAVE_B | SAVE_OUT,
    forward(a, ia, strideA, b, ib, strideB, o, io, n) {
      for (let i = 0; i < n; i++, ia += strideA, ib += strideB) o[io + i] = a[ia]! ** b[ib]!;
    },
    backward: (n, g) => {
      const a = n.a!;
      const b = n.b!;
      const out = n.out!;
      let ga: Tensor | null = null;
      let gb: Tensor | null = null;
      if (n.needs(0)) {
        ga = g.mul(b.mul(a.pow(b.sub(1))));
        const bd = broadcastData(b, ga.shape);
        if (bd.includes(0)) {
          const ad = broadcastData(a, ga.shape);
          const keep = new Uint8Array(ga.numel);
          for (let i = 0; i < keep.length; i++) keep[i] = bd[i] === 0 && ad[i] === 0 ? 0 : 1;
          ga = where0(ga, keep);
        }
      }
      if (n.needs(1)) {
        gb = g.mul(out.mul(a.log()));
        const ad = broadcastData(a, gb.shape);
        if (ad.includes(0)) {
          const bd = broadcastData(b, gb.shape);
          const keep = new Uint8Array(gb.numel);
          for (let i = 0; i < keep.length; i++) keep[i] = ad[i] === 0 && bd[i]! >= 0 ? 0 : 1;
          gb = where0(gb, keep);
        }
      }
      return unbroadcast(n, ga, gb);
    },
  },
  // x^c for a plain number c: d(x^c) = c x^(c-1) dx (zero when c = 0). Small integer and half
  // exponents use the same special forms as PyTorch's kernel (x*x for c = 2, sqrt for 0.5, …).
  powScalar: {
    kind: "unary",
    gradFn: "PowBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o, c) {
      const n = o.length;
      if (c === 2) for (let i = 0; i < n; i++) o[i] = x[i]! * x[i]!;
      else if (c === 1) o.set(x);
      else if (c === 3) for (let i = 0; i < n; i++) o[i] = x[i]! * x[i]! * x[i]!;
      else if (c === 0.5) for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]!);
      else if (c === -0.5) for (let i = 0; i < n; i++) o[i] = 1 / Math.sqrt(x[i]!);
      else if (c === -1) for (let i = 0; i < n; i++) o[i] = 1 / x[i]!;
      else if (c === -2) for (let i = 0; i < n; i++) o[i] = 1 / (x[i]! * x[i]!);
      else for (let i = 0; i < n; i++) o[i] = x[i]! ** c;
    },
    backward: (n, g) => {
      const c = n.param0;
      // zero at every element of x (g may be a spread gradient: not g.mul(0))
      if (c === 0) return [mulTemp(zerosLike(n.a!), g)];
      if (c === 2) {
        const fused = plainProduct(n.a!, g);
        if (fused !== null) {
          const [a, gd, o] = fused;
          if (gd.length === 1) {
            const v = gd[0]!; // read once: o may be g's own storage
            for (let i = 0; i < o.length; i++) o[i] = 2 * a[i]! * v;
          } else for (let i = 0; i < o.length; i++) o[i] = 2 * a[i]! * gd[i]!;
          return [freshGrad(o, n.a!.shape)];
        }
        return [mulTemp(n.a!.mul(2), g)];
      }
      return [mulTemp(mulTemp(n.a!.pow(c - 1), c), g)];
    },
  },
  // c^x for a plain number c: d(c^x) = c^x log(c) dx (zero where c = 0 and x >= 0)
  rpow: {
    kind: "unary",
    gradFn: "PowBackward2",
    saves: SAVE_A | SAVE_OUT,
    takesSpread: true,
    forward(x, o, c) {
      for (let i = 0; i < o.length; i++) o[i] = c ** x[i]!;
    },
    backward: (n, g) => {
      const d = g.mul(n.out!.mul(Math.log(n.param0)));
      return [n.param0 === 0 ? where0(d, keepBelow(n.a!.data, 0)) : d];
    },
  },
  // d(-x) = -dx
  neg: {
    kind: "unary",
    gradFn: "NegBackward0",
    saves: SAVE_NONE,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = -x[i]!;
    },
    backward: (_n, g) => [g.neg()],
  },
  // d sin x = cos x dx
  sin: {
    kind: "unary",
    gradFn: "SinBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = sinK(x[i]!);
    },
    backward: (n, g) => {
      const fused = plainProduct(n.a!, g);
      if (fused === null) return [mulTemp(n.a!.cos(), g)];
      const [a, gd, o] = fused;
      if (gd.length === 1) {
        const v = gd[0]!; // read once: o may be g's own storage
        for (let i = 0; i < o.length; i++) o[i] = cosK(a[i]!) * v;
      } else for (let i = 0; i < o.length; i++) o[i] = cosK(a[i]!) * gd[i]!;
      return [freshGrad(o, n.a!.shape)];
    },
  },
  // d cos x = -sin x dx
  cos: {
    kind: "unary",
    gradFn: "CosBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = cosK(x[i]!);
    },
    backward: (n, g) => [mulTemp(n.a!.sin().neg(), g)],
  },
  // d tan x = (1 + tan² x) dx
  tan: {
    kind: "unary",
    gradFn: "TanBackward0",
    saves: SAVE_OUT,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = tanK(x[i]!);
    },
    backward: (n, g) => [mulTemp(n.out!.pow(2).add(1), g)],
  },
  // d exp x = exp x dx
  exp: {
    kind: "unary",
    gradFn: "ExpBackward0",
    saves: SAVE_OUT,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = expK(x[i]!);
    },
    backward: (n, g) => [g.mul(n.out!)],
  },
  // d log x = dx / x
  log: {
    kind: "unary",
    gradFn: "LogBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = logK(x[i]!);
    },
    backward: (n, g) => [g.div(n.a!)],
  },
  // d sqrt x = dx / (2 sqrt x)
  sqrt: {
    kind: "unary",
    gradFn: "SqrtBackward0",
    saves: SAVE_OUT,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = sqrtK(x[i]!);
    },
    backward: (n, g) => [g.div(n.out!.mul(2))],
  },
  // d tanh x = (1 - tanh² x) dx
  tanh: {
    kind: "unary",
    gradFn: "TanhBackward0",
    saves: SAVE_OUT,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = tanhK(x[i]!);
    },
    backward: (n, g) => [mulTemp(rsub(1, n.out!.mul(n.out!)), g)],
  },
  // σ(x) = 1/(1+e^-x), evaluated without overflow on either side; dσ = (1 - σ) σ dx
  sigmoid: {
    kind: "unary",
    gradFn: "SigmoidBackward0",
    saves: SAVE_OUT,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = sigmoidK(x[i]!);
    },
    backward: (n, g) => [mulTemp(mulTemp(rsub(1, n.out!), g), n.out!)],
  },
  // relu x = max(x, 0); d relu = [x > 0] dx (relu'(0) = 0, as PyTorch)
  relu: {
    kind: "unary",
    gradFn: "ReluBackward0",
    saves: SAVE_A,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = reluK(x[i]!);
    },
    backward: (n, g) => [where0(g, keepAbove(n.a!.data, 0))],
  },
  // d|x| = sign(x) dx (abs'(0) = 0, as PyTorch)
  abs: {
    kind: "unary",
    gradFn: "AbsBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = absK(x[i]!);
    },
    backward: (n, g) => [g.mul(signOf(n.a!))],
  },
  // clamp(x, lo, hi) = min(max(x, lo), hi) with number bounds; d = [lo <= x <= hi] dx (PyTorch's mask)
  clamp: {
    kind: "unary",
    gradFn: "ClampBackward1",
    saves: SAVE_A,
    forward(x, o, lo, hi) {
      for (let i = 0; i < o.length; i++) o[i] = clampK(x[i]!, lo, hi);
    },
    backward: (n, g) => [where0(g, keepBetween(n.a!.data, n.param0, n.param1))],
  },
  // clamp with tensor bounds, PyTorch's clamp_backward and clamp_backward_min_max: the gradient
  // goes to x where lo <= x <= hi, to lo where x < lo < hi (strictly: where lo == hi, lo gets
  // none), to hi where x > hi or hi < lo. So at x < lo == hi no input gets a gradient, as in
  // PyTorch. Inputs and output shape live in `ruleData`.
  clampTensor: {
    kind: "struct",
    gradFn: "ClampBackward0",
    saves: SAVE_RULE_DATA,
    forward(x, _b, _p0, _p1, ruleData) {
      const [, lo, hi, shape] = ruleData as [Tensor, Tensor, Tensor, Shape];
      const xd = broadcastData(x, shape);
      const ld = broadcastData(lo, shape);
      const hd = broadcastData(hi, shape);
      const o = new Float64Array(xd.length);
      for (let i = 0; i < o.length; i++) o[i] = clampK(xd[i]!, ld[i]!, hd[i]!);
      return new Tensor(o, shape);
    },
    backward: (n, g) => {
      const [x, lo, hi, shape] = n.ruleData as [Tensor, Tensor, Tensor, Shape];
      const xd = broadcastData(x, shape);
      const ld = broadcastData(lo, shape);
      const hd = broadcastData(hi, shape);
      const len = xd.length;
      const mx = new Uint8Array(len);
      const ml = new Uint8Array(len);
      const mh = new Uint8Array(len);
      for (let i = 0; i < len; i++) {
        const v = xd[i]!;
        const l = ld[i]!;
        const h = hd[i]!;
        mx[i] = v >= l && v <= h ? 1 : 0;
        ml[i] = v < l && l < h ? 1 : 0;
        mh[i] = v > h || h < l ? 1 : 0;
      }
      return [
        n.needs(0) ? reduceTo(where0(g, mx), x.shape) : null,
        n.needs(1) ? reduceTo(where0(g, ml), lo.shape) : null,
        n.needs(2) ? reduceTo(where0(g, mh), hi.shape) : null,
      ];
    },
  },
  // d log(1 + x) = dx / (1 + x)
  log1p: {
    kind: "unary",
    gradFn: "Log1PBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = log1pK(x[i]!);
    },
    backward: (n, g) => [g.div(n.a!.add(1))],
  },
  // softplus x = log(1 + e^x) = max(x, 0) + log1p(e^-|x|) (no overflow); d softplus = σ(x) dx
  softplus: {
    kind: "unary",
    gradFn: "SoftplusBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = softplusK(x[i]!);
    },
    backward: (n, g) => [mulTemp(n.a!.sigmoid(), g)],
  },
  // bce(p, t) = -(t log p + (1-t) log(1-p));
  // d bce = (p - t) / (p (1-p)) dp + (log(1-p) - log p) dt
  bce: {
    kind: "binary",
    gradFn: "BinaryCrossEntropyBackward0",
    saves: SAVE_A | SAVE_B,
    forward(a, ia, strideA, b, ib, strideB, o, io, n) {
      for (let i = 0; i < n; i++, ia += strideA, ib += strideB) o[io + i] = bceK(a[ia]!, b[ib]!);
    },
    backward: (n, g) => {
      const p = n.a!;
      const t = n.b!;
      return unbroadcast(
        n,
        n.needs(0) ? g.mul(p.sub(t)).div(p.mul(rsub(1, p))) : null,
        n.needs(1) ? mulTemp(rsub(1, p).log().sub(p.log()), g) : null,
      );
    },
  },
  // sum of all elements; d sum = 1 (the gradient spreads to every element)
  sum: {
    kind: "struct",
    gradFn: "SumBackward0",
    saves: SAVE_NONE,
    forward: (x) => reduceAll(x, false, 1),
    backward: (n, g) => [spread(g, n.shapeA, 1)],
  },
  // the same, keeping every dimension as size 1 (PyTorch's sum(dim=None, keepdim=True))
  sumKeep: {
    kind: "struct",
    gradFn: "SumBackward1",
    saves: SAVE_NONE,
    forward: (x) => reduceAll(x, true, 1),
    backward: (n, g) => [spread(g, n.shapeA, 1)],
  },
  // sum along dim param0 (param1 = keepdim); d = 1 along that dim
  sumDim: {
    kind: "struct",
    gradFn: "SumBackward1",
    saves: SAVE_NONE,
    forward: (x, _b, dim, keepdim) => reduceDim(x, dim, keepdim !== 0, 1),
    backward: (n, g) => [expand(unsqueezed(g, n.shapeA, n.param0, n.param1), n.shapeA)],
  },
  // mean of all elements; d mean = 1/N
  mean: {
    kind: "struct",
    gradFn: "MeanBackward0",
    saves: SAVE_NONE,
    forward: (x) => reduceAll(x, false, x.numel),
    backward: (n, g) => [spread(g, n.shapeA, numelOf(n.shapeA))],
  },
  // the same, keeping every dimension as size 1 (PyTorch's mean(dim=None, keepdim=True))
  meanKeep: {
    kind: "struct",
    gradFn: "MeanBackward1",
    saves: SAVE_NONE,
    forward: (x) => reduceAll(x, true, x.numel),
    backward: (n, g) => [spread(g, n.shapeA, numelOf(n.shapeA))],
  },
  // mean along dim param0 (param1 = keepdim); d = 1/size(dim) along that dim
  meanDim: {
    kind: "struct",
    gradFn: "MeanBackward1",
    saves: SAVE_NONE,
    forward: (x, _b, dim, keepdim) => reduceDim(x, dim, keepdim !== 0, 1 / x.shape[dim]!),
    backward: (n, g) => [
      expand(unsqueezed(g, n.shapeA, n.param0, n.param1).div(n.shapeA[n.param0]!), n.shapeA),
    ],
  },
  // a·b for vectors; d(a·b) = b da + a db
  dot: {
    kind: "struct",
    gradFn: "DotBackward0",
    saves: SAVE_A | SAVE_B,
    forward(a, b) {
      const x = a.data;
      const y = b!.data;
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
      return new Tensor(Float64Array.of(s), SCALAR_SHAPE);
    },
    backward: (n, g) => [n.needs(0) ? g.mul(n.b!) : null, n.needs(1) ? g.mul(n.a!) : null],
  },
  // A v for A (m×k), v (k); d(Av) = dA v + A dv, so gA = g vᵀ (outer product), gv = Aᵀ g
  mv: {
    kind: "struct",
    gradFn: "MvBackward0",
    saves: SAVE_A | SAVE_B,
    forward(A, v) {
      const [m, k] = A.shape as [number, number];
      const a = A.data;
      const x = v!.data;
      const o = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += a[i * k + j]! * x[j]!;
        o[i] = s;
      }
      return new Tensor(o, [m]);
    },
    backward: (n, g) => [
      n.needs(0) ? reshape(g, [g.numel, 1]).matmul(reshape(n.b!, [1, n.b!.numel])) : null,
      n.needs(1) ? transpose(n.a!, 0, 1).matmul(g) : null,
    ],
  },
  // A B for A (m×k), B (k×p); gA = g Bᵀ, gB = Aᵀ g
  mm: {
    kind: "struct",
    gradFn: "MmBackward0",
    saves: SAVE_A | SAVE_B,
    forward(A, B) {
      const [m, k] = A.shape as [number, number];
      const p = B!.shape[1]!;
      const a = A.data;
      const b = B!.data;
      const o = new Float64Array(m * p);
      // i-k-j order walks B and the output row by row (cache friendly).
      for (let i = 0; i < m; i++)
        for (let j = 0; j < k; j++) {
          const aij = a[i * k + j]!;
          const bo = j * p;
          const oo = i * p;
          for (let c = 0; c < p; c++) o[oo + c] += aij * b[bo + c]!;
        }
      return new Tensor(o, [m, p]);
    },
    backward: (n, g) => [
      n.needs(0) ? g.matmul(transpose(n.b!, 0, 1)) : null,
      n.needs(1) ? transpose(n.a!, 0, 1).matmul(g) : null,
    ],
  },
  // a reshape is a relabelling: the gradient is reshaped back
  reshape: {
    kind: "struct",
    gradFn: "ViewBackward0",
    saves: SAVE_NONE,
    forward: (x, _b, _p0, _p1, shape) => new Tensor(x.data.slice(), shape as Shape),
    backward: (n, g) => [reshape(g, n.shapeA)],
  },
  // swapping dims param0 and param1 is its own inverse
  transpose: {
    kind: "struct",
    gradFn: "TransposeBackward0",
    saves: SAVE_NONE,
    forward: (x, _b, d0, d1) => transposeData(x, d0, d1),
    backward: (n, g) => [transpose(g, n.param0, n.param1)],
  },
  // broadcasting copies an element; its gradient sums the copies back
  expand: {
    kind: "struct",
    gradFn: "ExpandBackward0",
    saves: SAVE_NONE,
    forward: (x, _b, _p0, _p1, shape) => new Tensor(expandData(x, shape as Shape), shape as Shape),
    backward: (n, g) => [sumTo(g, n.shapeA)],
  },
  // summing broadcast copies back to `shape` is linear: its gradient broadcasts again
  sumTo: {
    kind: "struct",
    gradFn: "SumBackward1",
    saves: SAVE_NONE,
    forward: (x, _b, _p0, _p1, shape) => sumToData(x, shape as Shape),
    backward: (n, g) => [expand(g, n.shapeA)],
  },
  // x where keep, else 0 (a constant mask); d = keep dx
  where0: {
    kind: "struct",
    gradFn: "WhereBackward0",
    saves: SAVE_NONE,
    forward(x, _b, _p0, _p1, keep) {
      const m = keep as Uint8Array;
      const d = x.data;
      const o = new Float64Array(d.length);
      for (let i = 0; i < o.length; i++) o[i] = m[i] ? d[i]! : 0;
      return new Tensor(o, x.shape);
    },
    backward: (n, g) => [where0(g, n.ruleData as Uint8Array)],
  },
  // d erf x = 2/√π e^(−x²) dx
  erf: {
    kind: "unary",
    gradFn: "ErfBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = erfK(x[i]!);
    },
    backward: (n, g) => [mulTemp(mulTemp(n.a!.pow(2).neg().exp(), TWO_OVER_SQRT_PI), g)],
  },
  // gelu x = x Φ(x); d gelu = (Φ(x) + x φ(x)) dx, φ(x) = e^(−x²/2)/√(2π) (PyTorch's GeluBackward0)
  gelu: {
    kind: "unary",
    gradFn: "GeluBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = geluK(x[i]!);
    },
    backward: (n, g) => {
      const x = n.a!;
      const cdf = x.mul(Math.SQRT1_2).erf().add(1).mul(0.5);
      const pdf = x.pow(2).mul(-0.5).exp().mul(INV_SQRT_2PI);
      return [mulTemp(cdf.add(x.mul(pdf)), g)];
    },
  },
  // d asin x = dx / √(1 − x²)
  asin: {
    kind: "unary",
    gradFn: "AsinBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = asinK(x[i]!);
    },
    backward: (n, g) => [g.div(rsub(1, n.a!.pow(2)).sqrt())],
  },
  // d acos x = −dx / √(1 − x²)
  acos: {
    kind: "unary",
    gradFn: "AcosBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = acosK(x[i]!);
    },
    backward: (n, g) => [g.neg().div(rsub(1, n.a!.pow(2)).sqrt())],
  },
  // d atan x = dx / (1 + x²)
  atan: {
    kind: "unary",
    gradFn: "AtanBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = atanK(x[i]!);
    },
    backward: (n, g) => [g.div(n.a!.pow(2).add(1))],
  },
  // d sinh x = cosh x dx
  sinh: {
    kind: "unary",
    gradFn: "SinhBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = sinhK(x[i]!);
    },
    backward: (n, g) => [mulTemp(n.a!.cosh(), g)],
  },
  // d cosh x = sinh x dx
  cosh: {
    kind: "unary",
    gradFn: "CoshBackward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = coshK(x[i]!);
    },
    backward: (n, g) => [mulTemp(n.a!.sinh(), g)],
  },
  // d (e^x − 1) = e^x dx; not (expm1 x + 1) as PyTorch: for x < −20 that sum cancels to a few digits
  expm1: {
    kind: "unary",
    gradFn: "Expm1Backward0",
    saves: SAVE_A,
    takesSpread: true,
    forward(x, o) {
      for (let i = 0; i < o.length; i++) o[i] = expm1K(x[i]!);
    },
    backward: (n, g) => [mulTemp(n.a!.exp(), g)],
  },
  // maximum(a, b): the gradient goes to the larger; at a tie half to each (as PyTorch)
  maximum: {
    kind: "binary",
    gradFn: "MaximumBackward0",
    saves: SAVE_A | SAVE_B,
    forward(a, ia, strideA, b, ib, strideB, o, io, n) {
      for (let i = 0; i < n; i++, ia += strideA, ib += strideB)
        o[io + i] = maximumK(a[ia]!, b[ib]!);
    },
    backward: (n, g) => extremumBackward(n, g, 1),
  },
  // minimum(a, b): the gradient goes to the smaller; at a tie half to each (as PyTorch)
  minimum: {
    kind: "binary",
    gradFn: "MinimumBackward0",
    saves: SAVE_A | SAVE_B,
    forward(a, ia, strideA, b, ib, strideB, o, io, n) {
      for (let i = 0; i < n; i++, ia += strideA, ib += strideB)
        o[io + i] = minimumK(a[ia]!, b[ib]!);
    },
    backward: (n, g) => extremumBackward(n, g, -1),
  },
  // max of all elements; the gradient is shared evenly by the elements equal to it (PyTorch's
  // evenly_distribute_backward)
  max: {
    kind: "struct",
    gradFn: "MaxBackward1",
    saves: SAVE_A | SAVE_OUT,
    forward: (x) => new Tensor(Float64Array.of(maxK(x.data)), SCALAR_SHAPE),
    backward: (n, g) => [expand(g, n.shapeA).mul(evenly(n.a!, n.out!.item()))],
  },
  min: {
    kind: "struct",
    gradFn: "MinBackward1",
    saves: SAVE_A | SAVE_OUT,
    forward: (x) => new Tensor(Float64Array.of(minK(x.data)), SCALAR_SHAPE),
    backward: (n, g) => [expand(g, n.shapeA).mul(evenly(n.a!, n.out!.item()))],
  },
  // logsumexp of all elements; d = softmax(x) dx = e^(x − out) dx
  logsumexp: {
    kind: "struct",
    gradFn: "LogsumexpBackward0",
    saves: SAVE_A | SAVE_OUT,
    forward: (x) => new Tensor(Float64Array.of(logsumexpK(x.data)), SCALAR_SHAPE),
    backward: (n, g) => [mulTemp(n.a!.sub(n.out!).exp(), g)],
  },
  // softmax over the last dim: y = e^x / Σ e^x; gx = y (g − Σ_last g y)
  softmax: {
    kind: "struct",
    gradFn: "SoftmaxBackward0",
    saves: SAVE_OUT,
    forward(x) {
      const len = x.shape.length === 0 ? 1 : x.shape[x.shape.length - 1]!;
      const o = new Float64Array(x.data.length);
      for (let r = 0; r < o.length; r += len)
        softmaxRowK(x.data.subarray(r, r + len), o.subarray(r, r + len));
      return new Tensor(o, x.shape);
    },
    backward: (n, g) => {
      const y = n.out!;
      if (y.shape.length === 0) return [g.mul(0)];
      const gy = g.mul(y);
      return [y.mul(g.sub(sum(gy, -1, true)))];
    },
  },
} as const satisfies Record<TensorOp, OpDecl>;

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** maximum (sign 1) or minimum (sign −1): g to the winner, g/2 to each at a tie. */
function extremumBackward(n: Node, g: Tensor, sign: 1 | -1): (Tensor | null)[] {
  const ad = broadcastData(n.a!, g.shape);
  const bd = broadcastData(n.b!, g.shape);
  const wa = new Float64Array(ad.length);
  for (let i = 0; i < wa.length; i++) {
    const d = sign * (ad[i]! - bd[i]!);
    wa[i] = d > 0 ? 1 : d < 0 ? 0 : 0.5;
  }
  const ta = new Tensor(wa, g.shape);
  return unbroadcast(n, n.needs(0) ? g.mul(ta) : null, n.needs(1) ? g.mul(rsub(1, ta)) : null);
}

/** 1/count where x equals the extreme value `v`, else 0 (a constant). */
function evenly(x: Tensor, v: number): Tensor {
  const d = x.data;
  let count = 0;
  for (let i = 0; i < d.length; i++) if (d[i] === v) count++;
  const w = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) w[i] = d[i] === v ? 1 / count : 0;
  return new Tensor(w, x.shape);
}

/** Output shape of a reduction along `dim`. */
export function reducedShape(shape: Shape, dim: number, keepdim: boolean): number[] {
  return keepdim ? shape.map((s, i) => (i === dim ? 1 : s)) : shape.filter((_, i) => i !== dim);
}

/** The sum of all elements divided by `divisor` (1 for sum, the count for mean): 0-d, or every
 * dimension kept as size 1 when `keepdim`. */
function reduceAll(x: Tensor, keepdim: boolean, divisor: number): Tensor {
  const d = x.data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]!;
  return new Tensor(Float64Array.of(s / divisor), keepdim ? x.shape.map(() => 1) : SCALAR_SHAPE);
}

/** Sums along `dim` and multiplies by `scale` (1 for sum, 1/size for mean). */
function reduceDim(x: Tensor, dim: number, keepdim: boolean, scale: number): Tensor {
  const s = x.shape;
  let outer = 1;
  for (let i = 0; i < dim; i++) outer *= s[i]!;
  const len = s[dim]!;
  let inner = 1;
  for (let i = dim + 1; i < s.length; i++) inner *= s[i]!;
  const d = x.data;
  const o = new Float64Array(outer * inner);
  for (let a = 0; a < outer; a++)
    for (let j = 0; j < len; j++) {
      const base = (a * len + j) * inner;
      const ob = a * inner;
      for (let i = 0; i < inner; i++) o[ob + i] += d[base + i]!;
    }
  if (scale !== 1) for (let i = 0; i < o.length; i++) o[i] *= scale;
  return new Tensor(o, reducedShape(s, dim, keepdim));
}

/** The gradient of a dim-reduction reshaped to keepdim form, ready to broadcast back. */
function unsqueezed(g: Tensor, inShape: Shape, dim: number, keepdim: number): Tensor {
  return keepdim ? g : reshape(g, reducedShape(inShape, dim, true));
}

function transposeData(x: Tensor, d0: number, d1: number): Tensor {
  const d = x.data;
  const o = new Float64Array(d.length);
  // Swapping a dimension with itself changes nothing; this is also the only transpose of a 0-d
  // tensor (dims 0 and -1 both normalise to 0, a dimension it does not have).
  if (d0 === d1) {
    o.set(d);
    return new Tensor(o, x.shape);
  }
  const shape = [...x.shape];
  shape[d0] = x.shape[d1]!;
  shape[d1] = x.shape[d0]!;
  if (d.length <= 1) {
    o.set(d);
    return new Tensor(o, shape);
  }
  if (x.shape.length === 2) {
    const [r, c] = x.shape as [number, number];
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) o[j * r + i] = d[i * c + j]!;
    return new Tensor(o, shape);
  }
  // Walk the output in order; the input offset uses the swapped strides.
  const st = stridesOf(x.shape);
  const ist = [...st];
  ist[d0] = st[d1]!;
  ist[d1] = st[d0]!;
  const r = shape.length;
  const idx = new Array<number>(r).fill(0);
  let off = 0;
  for (let i = 0; i < o.length; i++) {
    o[i] = d[off]!;
    for (let k = r - 1; k >= 0; k--) {
      idx[k]++;
      off += ist[k]!;
      if (idx[k]! < shape[k]!) break;
      off -= ist[k]! * idx[k]!;
      idx[k] = 0;
    }
  }
  return new Tensor(o, shape);
}

/** Sums `x` (of a shape that `shape` broadcasts to) back down to `shape`. */
function sumToData(x: Tensor, shape: Shape): Tensor {
  const o = sumDataTo(x.data, x.shape, shape);
  return new Tensor(o === x.data ? o.slice() : o, shape);
}
