/**
 * The expression AST. One function, written once, that every leg interprets with its own algebra.
 * Operators become calls: `a+b` is `{ kind: "call", op: "add" }`, unary minus is `neg`, `a^b` is
 * `pow`. Trees may share nodes (a traced function reuses subexpressions), so treat an `Expr` as a
 * DAG: interpreters memoise by node identity.
 */
import { ExprMemo } from "./memo.ts";
import type { ConstantName } from "./ops.ts";

export interface NumExpr {
  readonly kind: "num";
  readonly value: number;
  readonly pos?: number;
}
export interface VarExpr {
  readonly kind: "var";
  readonly name: string;
  readonly pos?: number;
}
export interface ConstExpr {
  readonly kind: "const";
  readonly name: ConstantName;
  readonly pos?: number;
}
export interface CallExpr {
  readonly kind: "call";
  /** A built-in op name (`BuiltinOp`) or the name of a registered custom op. */
  readonly op: string;
  readonly args: readonly Expr[];
  readonly pos?: number;
}
export type Expr = NumExpr | VarExpr | ConstExpr | CallExpr;

export const num = (value: number, pos?: number): NumExpr =>
  pos === undefined ? { kind: "num", value } : { kind: "num", value, pos };
export const variable = (name: string, pos?: number): VarExpr =>
  pos === undefined ? { kind: "var", name } : { kind: "var", name, pos };
export const constant = (name: ConstantName, pos?: number): ConstExpr =>
  pos === undefined ? { kind: "const", name } : { kind: "const", name, pos };
export const call = (op: string, args: readonly Expr[], pos?: number): CallExpr =>
  pos === undefined ? { kind: "call", op, args } : { kind: "call", op, args, pos };

/** Structural equality, ignoring source positions. Iterative: deep trees do not overflow. */
export function exprEquals(a: Expr, b: Expr): boolean {
  const stack: [Expr, Expr][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (x.kind !== y.kind) return false;
    switch (x.kind) {
      case "num":
        if (!Object.is(x.value, (y as NumExpr).value)) return false;
        break;
      case "var":
      case "const":
        if (x.name !== (y as VarExpr | ConstExpr).name) return false;
        break;
      case "call": {
        const yc = y as CallExpr;
        if (x.op !== yc.op || x.args.length !== yc.args.length) return false;
        for (let i = 0; i < x.args.length; i++) stack.push([x.args[i]!, yc.args[i]!]);
      }
    }
  }
  return true;
}

/** Variable names in order of first appearance (left to right). */
export function variablesOf(expr: Expr): string[] {
  const seen = new Set<string>();
  const visited = new Set<Expr>();
  const stack: Expr[] = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (visited.has(e)) continue;
    visited.add(e);
    if (e.kind === "var") seen.add(e.name);
    else if (e.kind === "call") for (let i = e.args.length - 1; i >= 0; i--) stack.push(e.args[i]!);
  }
  return [...seen];
}

/**
 * An expression as a flat list: every node once, children before parents (a topological order
 * of the DAG, the root last), and where each call's arguments are in that list.
 */
export interface FlatExpr {
  readonly nodes: readonly Expr[];
  /** The arguments of node i are `nodes[args[k]]` for k from `argStart[i]` to `argStart[i + 1] - 1`. */
  readonly argStart: Int32Array;
  readonly args: Int32Array;
}

/** Each expression's flat form, computed once: an `Expr` is immutable, and every leg walks it. */
const flats = new ExprMemo<Expr, FlatExpr>();

/** `expr` as a flat list; the same object for the same expression (read-only). */
export function flatExpr(expr: Expr): FlatExpr {
  let flat = flats.get(expr);
  if (flat === undefined) flats.set(expr, (flat = walk(expr)));
  return flat;
}

/** Node i's arguments, from `values` (one per node of `flat.nodes`, in its order). */
export function argsAt<T>(flat: FlatExpr, values: readonly T[], i: number): T[] {
  const from = flat.argStart[i]!;
  const args = new Array<T>(flat.argStart[i + 1]! - from);
  for (let j = 0; j < args.length; j++) args[j] = values[flat.args[from + j]!]!;
  return args;
}

/** Every node once, children before parents: `flatExpr(expr).nodes`. */
export function postOrder(expr: Expr): readonly Expr[] {
  return flatExpr(expr).nodes;
}

/** `body` with each placeholder variable replaced by the argument at its index. */
export function substitute(
  body: Expr,
  placeholders: readonly string[],
  args: readonly Expr[],
): Expr {
  const done = new Map<Expr, Expr>();
  for (const n of postOrder(body)) {
    const out: Expr =
      n.kind === "var"
        ? args[placeholders.indexOf(n.name)]!
        : n.kind === "call"
          ? call(
              n.op,
              n.args.map((a) => done.get(a)!),
            )
          : n;
    done.set(n, out);
  }
  return done.get(body)!;
}

function walk(expr: Expr): FlatExpr {
  const nodes: Expr[] = [];
  const index = new Map<Expr, number>();
  const argStart: number[] = [0];
  const args: number[] = [];
  const stack: Expr[] = [expr];
  const next: number[] = [0];
  while (stack.length > 0) {
    const e = stack[stack.length - 1]!;
    if (e.kind === "call" && next[next.length - 1]! < e.args.length) {
      const child = e.args[next[next.length - 1]!++]!;
      if (!index.has(child)) {
        stack.push(child);
        next.push(0);
      }
      continue;
    }
    stack.pop();
    next.pop();
    if (index.has(e)) continue;
    index.set(e, nodes.length);
    nodes.push(e);
    if (e.kind === "call") for (const a of e.args) args.push(index.get(a)!);
    argStart.push(args.length);
  }
  return { nodes, argStart: Int32Array.from(argStart), args: Int32Array.from(args) };
}
