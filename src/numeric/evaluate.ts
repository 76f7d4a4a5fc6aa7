/**
 * The plain forward evaluator: compiles an `Expr` once into a flat list of kernels over
 * preallocated `Float64Array` buffers (shapes and broadcasting index maps fixed at compile time),
 * then evaluates it many times with no allocation and no re-interpretation. Out-of-domain points
 * give NaN (log(-1), sqrt(-1)); a valid point never throws.
 */
import { mapPacked } from "../arrays.ts";
import { GradtrioError } from "../errors.ts";
import type { Expr } from "../expr/ast.ts";
import {
  broadcastAll,
  broadcastIndex,
  matmulDims,
  matmulShape,
  type Shape,
  sizeOfShape,
} from "../expr/broadcast.ts";
import { type Algebra, interpret, opsByKind } from "../expr/interpret.ts";
import {
  CONSTANTS,
  checkedForward,
  isTensorOp,
  realKernel,
  reduceKernel,
  rowKernel,
} from "../expr/ops.ts";
import type { Value } from "../expr/point.ts";
import { checkScalarOutput, noValueFor, tensorOpShape } from "../expr/shapes.ts";
import { tensorOpForward } from "../expr/tensor-op.ts";

/** Where each variable sits in the flat input vector (as `flattenValues(values).layout` gives it). */
export type Layout = ReadonlyMap<string, { readonly offset: number; readonly shape: Shape }>;

/** A compiled node: its shape and the buffer its kernel writes on every evaluation. */
interface Node {
  readonly shape: Shape;
  readonly data: Float64Array;
  /** True when the node depends on no variable (folded at compile time). */
  readonly constant: boolean;
}

type Step = () => void;

/** The compiled program of an expression. */
export interface Program {
  readonly output: { readonly shape: Shape; readonly data: Float64Array };
  /** Copies `x` into the variables' buffers and runs every kernel; the result is in `output`. */
  readonly run: (x: Float64Array) => void;
  /** Length of the flat input vector the layout describes. */
  readonly inputSize: number;
}

/**
 * The kernels of the program being compiled, in order (`compileProgram` is synchronous; a compile
 * started while one runs, from a custom op's forward on constant arguments, saves and restores it).
 * The op table below is made once, not per compile.
 */
let compiling: Step[] = [];

const constNode = (value: number): Node => ({
  shape: [],
  data: Float64Array.of(value),
  constant: true,
});

// A node whose kernel runs once now when all its inputs are constant, else on every evaluation.
function emit(shape: Shape, args: Node[], kernel: (out: Float64Array) => Step): Node {
  const data = new Float64Array(sizeOfShape(shape));
  const step = kernel(data);
  const constant = args.every((a) => a.constant);
  if (constant) step();
  else compiling.push(step);
  return { shape, data, constant };
}

// Every op from its declaration (src/expr/ops.ts): the kernels are the ones every leg uses.
const OPS: Algebra<Node>["ops"] = opsByKind<Node>({
  elementwise: (op) => {
    const fn = realKernel(op);
    return (...args: Node[]): Node => {
      const shape =
        args.length === 1
          ? args[0]!.shape
          : broadcastAll(
              mapPacked(args, (a) => a.shape),
              op,
            );
      return emit(shape, args, (out) =>
        args.length === 1
          ? mapUnary(fn as (a: number) => number, args[0]!.data, out)
          : args.length === 2
            ? mapBinary(fn as (a: number, b: number) => number, args[0]!, args[1]!, shape, out)
            : mapN(fn as (...a: number[]) => number, args, shape, out),
      );
    };
  },
  reduction: (op) => (a) => {
    const fn = reduceKernel(op);
    return emit([], [a], (out) => {
      const d = a.data;
      return () => void (out[0] = fn(d));
    });
  },
  lastDim: (op) => (a) => {
    const fn = rowKernel(op);
    return emit(a.shape, [a], (out) => {
      const d = a.data;
      const len = a.shape.length === 0 ? 1 : a.shape[a.shape.length - 1]!;
      return () => {
        for (let r = 0; r < d.length; r += len)
          fn(d.subarray(r, r + len), out.subarray(r, r + len));
      };
    });
  },
  matmul: (a, b) => {
    const shape = matmulShape(a.shape, b.shape);
    return emit(shape, [a, b], (out) => matmulKernel(a, b, out));
  },
});

/**
 * Compiles `expr` to a program over preallocated buffers.
 * Throws a `GradtrioError` (UNKNOWN_VARIABLE, SHAPE, UNKNOWN_FUNCTION, ARITY) for a bad expression.
 *
 * @example
 * ```ts
 * const p = compileProgram(parse("x*A"), new Map([["x", { offset: 0, shape: [2] }], ["A", { offset: 2, shape: [2, 2] }]]));
 * p.run(Float64Array.of(1, 2, 1, 1, 1, 1)); // p.output.data = [1, 2, 1, 2]
 * ```
 */
export function compileProgram(expr: Expr, layout: Layout): Program {
  const loads: { offset: number; size: number; data: Float64Array }[] = [];
  const vars = new Map<string, Node>();
  let inputSize = 0;
  for (const { offset, shape } of layout.values())
    inputSize = Math.max(inputSize, offset + sizeOfShape(shape));

  const algebra: Algebra<Node> = {
    num: constNode,
    constant: (name) => constNode(CONSTANTS[name]),
    variable: (name) => {
      const known = vars.get(name);
      if (known !== undefined) return known;
      const slot = layout.get(name);
      if (slot === undefined)
        throw new GradtrioError("UNKNOWN_VARIABLE", noValueFor(name, [...layout.keys()]));
      const node: Node = {
        shape: slot.shape,
        data: new Float64Array(sizeOfShape(slot.shape)),
        constant: false,
      };
      loads.push({ offset: slot.offset, size: node.data.length, data: node.data });
      vars.set(name, node);
      return node;
    },
    ops: OPS,
    custom: (def, args) => {
      if (isTensorOp(def)) {
        const shapes = mapPacked(args, (a) => a.shape);
        const shape = tensorOpShape(def, shapes);
        const datas = mapPacked(args, (a) => a.data);
        return emit(shape, args, (out) => () => {
          out.set(tensorOpForward(def, datas, shapes, shape));
        });
      }
      const shape = broadcastAll(
        mapPacked(args, (a) => a.shape),
        def.name,
      );
      return emit(shape, args, (out) => mapN(checkedForward(def), args, shape, out));
    },
  };

  const outer = compiling;
  compiling = [];
  let output: Node;
  let steps: Step[];
  try {
    output = interpret(expr, algebra);
  } finally {
    steps = compiling;
    compiling = outer;
  }
  const nLoads = loads.length;
  const nSteps = steps.length;
  const run = (x: Float64Array): void => {
    if (x.length < inputSize)
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `the input vector has ${x.length} elements; the layout needs ${inputSize}`,
      );
    for (let v = 0; v < nLoads; v++) {
      const { offset, size, data } = loads[v]!;
      for (let k = 0; k < size; k++) data[k] = x[offset + k]!;
    }
    for (let s = 0; s < nSteps; s++) steps[s]!();
  };
  return { output: { shape: output.shape, data: output.data }, run, inputSize };
}

/**
 * Compiles a scalar-valued expression to a fast `f(x)` over the flat input vector `x` (the
 * variables concatenated as `layout` says). Compile once, call many times: no allocation per call.
 * Throws NON_SCALAR when the output is not a scalar.
 *
 * @example
 * ```ts
 * const { x, layout } = flattenValues(toValues({ x: [1, 2, 3] }));
 * const f = compileForward(parse("mean(x^2)"), layout);
 * f(x); // 4.666666666666667
 * ```
 */
export function compileForward(expr: Expr, layout: Layout): (x: Float64Array) => number {
  const program = compileProgram(expr, layout);
  const { shape, data } = program.output;
  checkScalarOutput(shape);
  const run = program.run;
  return (x) => {
    run(x);
    return data[0]!;
  };
}

/**
 * Like `compileForward` for any output shape: each call returns a fresh `Value`.
 *
 * @example
 * ```ts
 * const f = compileForwardValue(parse("x^2"), new Map([["x", { offset: 0, shape: [2] }]]));
 * f(Float64Array.of(2, 3)); // { shape: [2], data: [4, 9] }
 * ```
 */
export function compileForwardValue(expr: Expr, layout: Layout): (x: Float64Array) => Value {
  const program = compileProgram(expr, layout);
  const { shape, data } = program.output;
  return (x) => {
    program.run(x);
    return { shape: [...shape], data: data.slice() };
  };
}

/**
 * Evaluates `expr` once at a point given as variable values.
 *
 * @example
 * ```ts
 * evaluate(parse("sum(x*y)"), toValues({ x: [1, 2], y: [3, -1] })); // { shape: [], data: [1] }
 * ```
 */
export function evaluate(expr: Expr, values: ReadonlyMap<string, Value>): Value {
  const { x, layout } = flattenValues(values);
  return compileForwardValue(expr, layout)(x);
}

/** Concatenates the values (in the map's order) into one vector, with the layout. */
export function flattenValues(values: ReadonlyMap<string, Value>): {
  x: Float64Array;
  layout: Map<string, { offset: number; shape: Shape }>;
} {
  let n = 0;
  for (const v of values.values()) n += v.data.length;
  const x = new Float64Array(n);
  const layout = new Map<string, { offset: number; shape: Shape }>();
  let o = 0;
  for (const [name, v] of values) {
    x.set(v.data, o);
    layout.set(name, { offset: o, shape: v.shape });
    o += v.data.length;
  }
  return { x, layout };
}

function mapUnary(fn: (a: number) => number, a: Float64Array, out: Float64Array): Step {
  const n = out.length;
  if (n === 1) return () => void (out[0] = fn(a[0]!));
  return () => {
    for (let k = 0; k < n; k++) out[k] = fn(a[k]!);
  };
}

function mapBinary(
  fn: (a: number, b: number) => number,
  a: Node,
  b: Node,
  shape: Shape,
  out: Float64Array,
): Step {
  const n = out.length;
  const ad = a.data;
  const bd = b.data;
  if (n === 1) return () => void (out[0] = fn(ad[0]!, bd[0]!));
  if (ad.length === n && bd.length === n)
    return () => {
      for (let k = 0; k < n; k++) out[k] = fn(ad[k]!, bd[k]!);
    };
  if (ad.length === 1 && bd.length === n)
    return () => {
      const s = ad[0]!;
      for (let k = 0; k < n; k++) out[k] = fn(s, bd[k]!);
    };
  if (bd.length === 1 && ad.length === n)
    return () => {
      const s = bd[0]!;
      for (let k = 0; k < n; k++) out[k] = fn(ad[k]!, s);
    };
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  return () => {
    for (let k = 0; k < n; k++) out[k] = fn(ad[ia[k]!]!, bd[ib[k]!]!);
  };
}

/** An elementwise op of any arity with broadcasting (clamp, custom ops). */
function mapN(
  fn: (...args: number[]) => number,
  args: Node[],
  shape: Shape,
  out: Float64Array,
): Step {
  const n = out.length;
  const idx = mapPacked(args, (a) => broadcastIndex(a.shape, shape));
  const data = mapPacked(args, (a) => a.data);
  const argv = new Array<number>(args.length).fill(0);
  const m = args.length;
  return () => {
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < m; j++) argv[j] = data[j]![idx[j]![k]!]!;
      out[k] = fn.apply(undefined, argv);
    }
  };
}

// torch.matmul for 1-D/2-D: C[i,j] = sum_k A[i,k] B[k,j] (vectors as a row / a column).
function matmulKernel(a: Node, b: Node, out: Float64Array): Step {
  const { m, k: K, n } = matmulDims(a.shape, b.shape);
  const A = a.data;
  const B = b.data;
  return () => {
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A[i * K + k]! * B[k * n + j]!;
        out[i * n + j] = s;
      }
  };
}
