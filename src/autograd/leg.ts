/**
 * The autograd leg of the three-way check: an `Algebra<Tensor>` that runs an `Expr` through the
 * engine, then the gradient (and, on request, the Hessian through `createGraph`) at a point.
 */
import { GradtrioError } from "../errors.ts";
import type { Expr } from "../expr/ast.ts";
import { type Algebra, interpret, interpretAll, opsByKind } from "../expr/interpret.ts";
import { CONSTANTS, type ConstantName, type OpDefinition } from "../expr/ops.ts";
import type { Value } from "../expr/point.ts";
import { applyCustomOp } from "./define-op.ts";
import { grad } from "./engine.ts";
import type { DType } from "./float32.ts";
import * as F from "./functions.ts";
import { enableGrad } from "./grad-mode.ts";
import { showShape } from "./shape.ts";
import { scalarTensor, type Tensor, type TensorLike, tensor } from "./tensor.ts";

export interface AutogradLegResult {
  readonly value: number;
  /** One gradient per variable, flattened row-major, in the order of the point's map. */
  readonly gradients: Map<string, Float64Array>;
  /**
   * Rows of the Hessian over the variables flattened in map order (with `hessian: true`); with
   * `wrt`, over those variables' elements only.
   */
  readonly hessian?: Float64Array[];
}

/**
 * Tensors that stand for plain numbers (literals, pi, e, and ops on those only), with their
 * value. One registry for every algebra: each such tensor is made inside one `interpret`.
 */
const plainValues = new WeakMap<Tensor, number>();

function plainTensor(v: number): Tensor {
  const t = scalarTensor(v);
  plainValues.set(t, v);
  return t;
}

/** `f` with each operand that stands for a number passed as that number. */
function lift(f: (...xs: TensorLike[]) => Tensor): (...xs: Tensor[]) => Tensor {
  return (...xs) => {
    let allPlain = true;
    const ys = new Array<TensorLike>(xs.length);
    for (let i = 0; i < xs.length; i++) {
      const v = plainValues.get(xs[i]!);
      if (v === undefined) {
        ys[i] = xs[i]!;
        allPlain = false;
      } else ys[i] = v;
    }
    const r = f(...ys);
    if (allPlain && r.numel === 1) plainValues.set(r, r.item());
    return r;
  };
}

/**
 * Every built-in by name from the op table; these four also take number operands (c / x is
 * PyTorch's reciprocal(x) * c). Built once: the ops keep no state of their own.
 */
const TENSOR_OPS: Algebra<Tensor>["ops"] = {
  ...opsByKind<Tensor>({
    elementwise: (op) => lift((...xs) => F.builtin(op, xs)),
    reduction: (op) => lift((x) => F.builtin(op, [x])),
    lastDim: (op) => lift((x) => F.builtin(op, [x])),
    matmul: lift(F.matmul),
  }),
  sub: lift(F.sub),
  div: lift(F.div),
  pow: lift(F.pow),
  clamp: lift(F.clamp),
};

const liftedCustom = new WeakMap<OpDefinition, (...xs: Tensor[]) => Tensor>();

/** A custom op as a lifted tensor function, made once per op. */
function customOp(def: OpDefinition): (...xs: Tensor[]) => Tensor {
  let f = liftedCustom.get(def);
  if (f === undefined) liftedCustom.set(def, (f = lift((...xs) => applyCustomOp(def, xs))));
  return f;
}

/**
 * An `Algebra<Tensor>` for `interpret`: variables come from `leaves`; numbers and constants stay
 * plain numbers inside the ops (so `x^2` is PowBackward0, `1 - y` RsubBackward1, and clamp bounds
 * are numbers, as the same code written by hand with the Tensor API would be).
 *
 * @example
 * const x = tensor(3, { requiresGrad: true });
 * const y = interpret(parse("sin(x^2)"), tensorAlgebra(new Map([["x", x]])));
 */
export function tensorAlgebra(leaves: ReadonlyMap<string, Tensor>): Algebra<Tensor> {
  return {
    num: plainTensor,
    constant: constantTensor,
    variable: (name) => {
      const t = leaves.get(name);
      if (t === undefined)
        throw new GradtrioError("UNKNOWN_VARIABLE", `no value given for the variable '${name}'`);
      return t;
    },
    ops: TENSOR_OPS,
    custom: customCall,
  };
}

function constantTensor(name: ConstantName): Tensor {
  return plainTensor(CONSTANTS[name]);
}

function customCall(def: OpDefinition, args: Tensor[]): Tensor {
  return customOp(def)(...args);
}

/**
 * Value and gradient of a scalar expression at a point, by reverse mode; the Hessian too with
 * `{ hessian: true }` (one backward pass per input element through the `createGraph` gradient;
 * with `wrt`, per element of those variables, and over them only); in float32 with
 * `{ dtype: "float32" }`.
 *
 * @example
 * const r = autogradLeg(parse("sin(x^2)"), toValues({ x: 3 }));
 * r.gradients.get("x"); // Float64Array [-5.466781571308061]
 */
export function autogradLeg(
  expr: Expr,
  values: Map<string, Value>,
  opts: { hessian?: boolean; dtype?: DType; wrt?: readonly string[] } = {},
): AutogradLegResult {
  return enableGrad(() => {
    const leaves = leavesAt(values, opts.dtype);
    const out = interpret(expr, tensorAlgebra(leaves));
    // 0-d only: a one-element vector is not a scalar (as checkScalarOutput says).
    if (out.ndim !== 0)
      throw new GradtrioError(
        "NON_SCALAR",
        `the expression must have a scalar value, got shape ${showShape(out.shape)}`,
      );
    const xs = [...leaves.values()];
    const names = [...leaves.keys()];
    const hessian = opts.hessian === true;
    const gs = out.requiresGrad
      ? grad([out], xs, { createGraph: hessian, allowUnused: true })
      : xs.map(() => null);
    const gradients = new Map<string, Float64Array>();
    names.forEach((name, i) => {
      gradients.set(name, gs[i] ? gs[i]!.data.slice() : new Float64Array(xs[i]!.numel));
    });
    const result: AutogradLegResult = { value: out.item(), gradients };
    if (!hessian) return result;
    const rows: Float64Array[] = [];
    const wrt = opts.wrt ?? names;
    const along = xs.filter((_, i) => wrt.includes(names[i]!));
    gs.forEach((g, i) => {
      if (!wrt.includes(names[i]!)) return;
      for (let j = 0; j < xs[i]!.numel; j++) rows.push(oneHotRow(g, j, along));
    });
    return { ...result, hessian: rows };
  });
}

/**
 * The gradient each of `nodes` (nodes of the scalar `expr`) receives in the reverse pass from the
 * output at the point: what the engine calls its backward with, ∂out/∂node as autograd's own rules
 * above it compute it (row-major; null where the output does not depend on the node).
 *
 * @example
 * const e = parse("sin(2*x)"); // the node 2*x receives cos(2x)
 * upstreamGradients(e, toValues({ x: 1 }), [(e as CallExpr).args[0]!]); // [Float64Array [cos 2]]
 */
export function upstreamGradients(
  expr: Expr,
  values: Map<string, Value>,
  nodes: readonly Expr[],
): (Float64Array | null)[] {
  return enableGrad(() => {
    const all = interpretAll(expr, tensorAlgebra(leavesAt(values)));
    const out = all.get(expr)!;
    const ts = nodes.map((n) => all.get(n));
    const live = ts.filter((t): t is Tensor => t?.requiresGrad === true);
    if (!out.requiresGrad || live.length === 0) return nodes.map(() => null);
    const gs = grad([out], live, { allowUnused: true });
    return ts.map((t) => {
      const k = t === undefined ? -1 : live.indexOf(t);
      return k < 0 ? null : (gs[k]?.data.slice() ?? null);
    });
  });
}

/** A leaf that requires grad per variable of the point, in `dtype` (default float64). */
function leavesAt(values: Map<string, Value>, dtype: DType = "float64"): Map<string, Tensor> {
  const leaves = new Map<string, Tensor>();
  for (const [name, v] of values)
    leaves.set(name, tensor(v.data, { shape: v.shape, requiresGrad: true, dtype }));
  return leaves;
}

/**
 * ∂y[i]/∂(every element of xs, flattened in order): one backward pass with a one-hot seed, through
 * a retained graph (zeros where y is null or needs no grad).
 */
function oneHotRow(y: Tensor | null, i: number, xs: readonly Tensor[]): Float64Array {
  const row = new Float64Array(xs.reduce((s, x) => s + x.numel, 0));
  if (!y?.requiresGrad) return row;
  const onehot = new Float64Array(y.numel);
  onehot[i] = 1;
  const seed = tensor(onehot, { shape: y.shape, dtype: y.dtype });
  const gs = grad([y], xs, { gradOutputs: [seed], retainGraph: true, allowUnused: true });
  let o = 0;
  gs.forEach((g, k) => {
    if (g) row.set(g.data, o);
    o += xs[k]!.numel;
  });
  return row;
}

export interface AutogradJacobianResult {
  /** The output at the point (flat, row-major). */
  readonly value: Float64Array;
  readonly shape: readonly number[];
  /** Row i: ∂out[i]/∂(every input element of `wrt`'s variables, flattened in map order). */
  readonly rows: Float64Array[];
}

/**
 * The Jacobian of any-shaped `expr` by reverse mode: one backward pass per output element (a
 * vector–Jacobian product with a one-hot seed), through one retained graph; with `wrt`, its
 * columns of those variables only; in float32 with `{ dtype: "float32" }`.
 *
 * @example
 * autogradJacobian(parse("x^2"), toValues({ x: [1, 2] })).rows; // [[2, 0], [0, 4]]
 */
export function autogradJacobian(
  expr: Expr,
  values: Map<string, Value>,
  opts: { dtype?: DType; wrt?: readonly string[] } = {},
): AutogradJacobianResult {
  return enableGrad(() => {
    const leaves = leavesAt(values, opts.dtype);
    const out = interpret(expr, tensorAlgebra(leaves));
    const wrt = opts.wrt;
    const xs = [...leaves].filter(([n]) => wrt === undefined || wrt.includes(n)).map(([, t]) => t);
    const rows = Array.from({ length: out.numel }, (_, i) => oneHotRow(out, i, xs));
    return { value: out.data.slice(), shape: out.shape, rows };
  });
}
