/**
 * The symbolic leg's own forward pass: the value of every node at the point. It picks the active
 * branch of piecewise ops and gives the values of reductions and matmuls, which outer templates
 * take as leaves. Forward only: no derivative here.
 */
import { mapPacked } from "../arrays.ts";
import { GradtrioError } from "../errors.ts";
import { type Expr, postOrder } from "../expr/ast.ts";
import { broadcastAll, expandTo } from "../expr/broadcast.ts";
import {
  BUILTIN_OPS,
  CONSTANTS,
  checkedForward,
  type ElementwiseOp,
  isBuiltinOp,
  isTensorOp,
  type LastDimOp,
  lookupCustomOp,
  type ReductionOp,
  realKernel,
  reduceKernel,
  rowKernel,
} from "../expr/ops.ts";
import { sizeOf, type Value } from "../expr/point.ts";
import { tensorOpShape } from "../expr/shapes.ts";
import { tensorOpForward } from "../expr/tensor-op.ts";

export interface Arr {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** `a` broadcast to `shape`: a number for a one-element array, its own data when shapes match. */
export function expandArr(a: Arr, shape: readonly number[]): number | Float64Array {
  return a.data.length === 1 ? a.data[0]! : expandTo(a.data, a.shape, shape);
}

type Kernel = (...a: number[]) => number;

/**
 * The value of every node of `expr` at the point.
 * @example forwardValues(call("sum", [variable("x")]), new Map([["x", toValue([1, 2])]]))
 */
export function forwardValues(expr: Expr, values: ReadonlyMap<string, Value>): Map<Expr, Arr> {
  const known = sharing?.get(values)?.get(expr);
  if (known !== undefined) return known;
  const out = new Map<Expr, Arr>();
  for (const e of postOrder(expr)) out.set(e, evalNode(e, out, values));
  if (sharing !== null) {
    let byExpr = sharing.get(values);
    if (byExpr === undefined) sharing.set(values, (byExpr = new WeakMap()));
    byExpr.set(expr, out);
  }
  return out;
}

/**
 * The values `forwardValues` computed already inside the current `sharingForward` for this point
 * and expression, else undefined (never computes them).
 */
export function sharedForwardValues(
  expr: Expr,
  values: ReadonlyMap<string, Value>,
): ReadonlyMap<Expr, Arr> | undefined {
  return sharing?.get(values)?.get(expr);
}

/** Inside `sharingForward`: the forward values computed so far, by point and expression. */
let sharing: WeakMap<ReadonlyMap<string, Value>, WeakMap<Expr, Map<Expr, Arr>>> | null = null;

/**
 * Runs `fn` with `forwardValues` computed once per point and expression (by identity), as the
 * symbolic leg and its rounding bound both need them (a pass over 10^6 elements each). For a
 * check, whose points are not changed while it runs; outside, every call computes afresh (a
 * caller may change a point's arrays in place between calls).
 */
export function sharingForward<T>(fn: () => T): T {
  const outer = sharing;
  sharing = new WeakMap();
  try {
    return fn();
  } finally {
    sharing = outer;
  }
}

function evalNode(e: Expr, done: Map<Expr, Arr>, values: ReadonlyMap<string, Value>): Arr {
  switch (e.kind) {
    case "num":
      return { shape: SCALAR, data: Float64Array.of(e.value) };
    case "const":
      return { shape: SCALAR, data: Float64Array.of(CONSTANTS[e.name]) };
    case "var": {
      const v = values.get(e.name);
      if (v === undefined)
        throw new GradtrioError(
          "UNKNOWN_VARIABLE",
          `unknown variable '${e.name}' (not in the point)`,
          {
            ...(e.pos === undefined ? {} : { pos: e.pos }),
          },
        );
      return v;
    }
    case "call": {
      const args = mapPacked(e.args, (a) => done.get(a)!);
      // Built-ins evaluate with their declared kernels (src/expr/ops.ts), as every leg does.
      if (isBuiltinOp(e.op)) {
        const spec = BUILTIN_OPS[e.op];
        arity(e, spec.arity);
        const a = args[0]!;
        switch (spec.kind) {
          case "reduction":
            return { shape: [], data: Float64Array.of(reduceKernel(e.op as ReductionOp)(a.data)) };
          case "lastDim": {
            const row = rowKernel(e.op as LastDimOp);
            const len = a.shape.length === 0 ? 1 : a.shape[a.shape.length - 1]!;
            const data = new Float64Array(a.data.length);
            for (let r = 0; r < data.length; r += len)
              row(a.data.subarray(r, r + len), data.subarray(r, r + len));
            return { shape: a.shape, data };
          }
          case "matmul":
            return matmul(a, args[1]!);
          case "elementwise":
            return elementwise(args, realKernel(e.op as ElementwiseOp) as Kernel);
        }
      }
      const def = lookupCustomOp(e.op);
      if (def === undefined)
        throw new GradtrioError("UNKNOWN_FUNCTION", `unknown function '${e.op}'`);
      arity(e, def.arity);
      if (isTensorOp(def)) {
        const shapes = args.map((a) => a.shape);
        const shape = tensorOpShape(def, shapes);
        return {
          shape,
          data: tensorOpForward(
            def,
            args.map((a) => a.data),
            shapes,
            shape,
          ),
        };
      }
      return elementwise(args, checkedForward(def));
    }
  }
}

function arity(e: Expr & { kind: "call" }, n: number): void {
  if (e.args.length !== n)
    throw new GradtrioError("ARITY", `${e.op} takes ${n} argument(s), got ${e.args.length}`);
}

const at = (c: number | Float64Array, i: number): number => (typeof c === "number" ? c : c[i]!);

/** The shape of a scalar, shared: shapes are read-only. */
const SCALAR: readonly number[] = [];

function elementwise(args: Arr[], kernel: (...a: number[]) => number): Arr {
  let scalars = true;
  for (const a of args) scalars &&= a.shape.length === 0;
  // Scalars (the fuzzer's points): the kernel on the numbers, nothing to broadcast.
  if (scalars) {
    const [a, b] = args;
    const v =
      args.length === 1
        ? kernel(a!.data[0]!)
        : args.length === 2
          ? kernel(a!.data[0]!, b!.data[0]!)
          : kernel(...args.map((x) => x.data[0]!));
    return { shape: SCALAR, data: Float64Array.of(v) };
  }
  let shape: readonly number[] = [];
  for (const a of args) shape = broadcastAll([shape, a.shape], "broadcasting");
  const cols = args.map((a) => expandArr(a, shape));
  const n = sizeOf(shape);
  const data = new Float64Array(n);
  const [c0, c1] = cols;
  if (cols.length === 1) for (let i = 0; i < n; i++) data[i] = kernel(at(c0!, i));
  else if (cols.length === 2) for (let i = 0; i < n; i++) data[i] = kernel(at(c0!, i), at(c1!, i));
  else {
    const xs = new Array<number>(args.length);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < cols.length; j++) xs[j] = at(cols[j]!, i);
      data[i] = kernel(...xs);
    }
  }
  return { shape, data };
}

/** Views a matmul operand as a matrix: a vector on the left is a row, on the right a column. */
export function asMatrix(a: Arr, side: "left" | "right"): { rows: number; cols: number } {
  if (a.shape.length === 2) return { rows: a.shape[0]!, cols: a.shape[1]! };
  if (a.shape.length === 1)
    return side === "left" ? { rows: 1, cols: a.shape[0]! } : { rows: a.shape[0]!, cols: 1 };
  throw new GradtrioError(
    "SHAPE",
    `matmul takes vectors and matrices, got shape [${a.shape.join(", ")}]`,
  );
}

function matmul(a: Arr, b: Arr): Arr {
  const A = asMatrix(a, "left");
  const B = asMatrix(b, "right");
  if (A.cols !== B.rows)
    throw new GradtrioError(
      "SHAPE",
      `matmul: shapes [${a.shape.join(", ")}] and [${b.shape.join(", ")}] do not match`,
    );
  const data = new Float64Array(A.rows * B.cols);
  for (let i = 0; i < A.rows; i++)
    for (let j = 0; j < B.cols; j++) {
      let s = 0;
      for (let k = 0; k < A.cols; k++) s += a.data[i * A.cols + k]! * b.data[k * B.cols + j]!;
      data[i * B.cols + j] = s;
    }
  const shape: number[] = [];
  if (a.shape.length === 2) shape.push(A.rows);
  if (b.shape.length === 2) shape.push(B.cols);
  return { shape, data };
}
