/**
 * The generic interpreter: walks an `Expr` once, children first, and hands each node to a leg's
 * algebra. A leg's algebra is a `Record` over every built-in op, typed by arity, so a leg that
 * forgets an op does not compile. Iterative and memoised by node identity (shared subtrees are
 * evaluated once; a million-deep chain does not overflow the stack).
 */
import { GradtrioError } from "../errors.ts";
import { argsAt, type CallExpr, type Expr, type FlatExpr, flatExpr } from "./ast.ts";
import {
  BUILTIN_OPS,
  type BuiltinOp,
  type ConstantName,
  type ElementwiseOp,
  isBuiltinOp,
  type LastDimOp,
  lookupCustomOp,
  type OpDefinition,
  type ReductionOp,
} from "./ops.ts";

type Tuple<N extends number, T, Acc extends T[] = []> = Acc["length"] extends N
  ? Acc
  : Tuple<N, T, [...Acc, T]>;

/** The implementation of one built-in op in a leg: a function of exactly its arity. */
export type OpImpl<K extends BuiltinOp, T> = (
  ...args: Tuple<(typeof BUILTIN_OPS)[K]["arity"], T>
) => T;

export interface Algebra<T> {
  num(value: number): T;
  constant(name: ConstantName): T;
  variable(name: string): T;
  ops: { readonly [K in BuiltinOp]: OpImpl<K, T> };
  /** Custom ops from `defineOp`. A leg that cannot run them throws a GradtrioError. */
  custom(def: OpDefinition, args: T[]): T;
}

/** One implementation per op kind, for a leg whose ops need nothing but their declaration. */
export interface KindImpls<T> {
  elementwise(op: ElementwiseOp): (...args: T[]) => T;
  reduction(op: ReductionOp): (a: T) => T;
  lastDim(op: LastDimOp): (a: T) => T;
  matmul(a: T, b: T): T;
}

/**
 * A leg's `ops` built from its implementation per kind: every built-in op, from its declaration.
 * @example ops: opsByKind({ elementwise: (op) => …, reduction: (op) => …, lastDim: …, matmul })
 */
export function opsByKind<T>(impls: KindImpls<T>): Algebra<T>["ops"] {
  const ops: Record<string, (...args: T[]) => T> = {};
  for (const op of Object.keys(BUILTIN_OPS) as BuiltinOp[]) {
    const spec = BUILTIN_OPS[op];
    if (spec.kind === "elementwise") ops[op] = impls.elementwise(op as ElementwiseOp);
    else if (spec.kind === "reduction") ops[op] = impls.reduction(op as ReductionOp);
    else if (spec.kind === "lastDim") ops[op] = impls.lastDim(op as LastDimOp);
    else ops[op] = (a, b) => impls.matmul(a!, b!);
  }
  return ops as unknown as Algebra<T>["ops"];
}

export function interpret<T>(expr: Expr, algebra: Algebra<T>): T {
  const values = evaluateAll(flatExpr(expr), algebra);
  return values[values.length - 1]!;
}

/** Like `interpret`, but returns every node's value (keyed by node), for passes over the DAG. */
export function interpretAll<T>(expr: Expr, algebra: Algebra<T>): Map<Expr, T> {
  const flat = flatExpr(expr);
  const values = evaluateAll(flat, algebra);
  const out = new Map<Expr, T>();
  for (let i = 0; i < values.length; i++) out.set(flat.nodes[i]!, values[i]!);
  return out;
}

/** Every node's value, in the order of `flat.nodes`. */
function evaluateAll<T>(flat: FlatExpr, algebra: Algebra<T>): T[] {
  const nodes = flat.nodes;
  const values = new Array<T>(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const e = nodes[i]!;
    if (e.kind !== "call") {
      values[i] =
        e.kind === "num"
          ? algebra.num(e.value)
          : e.kind === "const"
            ? algebra.constant(e.name)
            : algebra.variable(e.name);
      continue;
    }
    values[i] = evalCall(e, argsAt(flat, values, i), algebra);
  }
  return values;
}

function evalCall<T>(e: CallExpr, args: T[], algebra: Algebra<T>): T {
  if (isBuiltinOp(e.op)) {
    if (args.length !== BUILTIN_OPS[e.op].arity)
      throw new GradtrioError(
        "ARITY",
        `${e.op} takes ${BUILTIN_OPS[e.op].arity} argument(s), got ${args.length}`,
      );
    return (algebra.ops[e.op] as (...a: T[]) => T)(...args);
  }
  const def = lookupCustomOp(e.op);
  if (def === undefined) throw new GradtrioError("UNKNOWN_FUNCTION", `unknown function '${e.op}'`);
  if (args.length !== def.arity)
    throw new GradtrioError("ARITY", `${e.op} takes ${def.arity} argument(s), got ${args.length}`);
  return algebra.custom(def, args);
}
