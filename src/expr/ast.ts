/**
 * The expression AST. One function, written once, that every leg interprets with its own algebra.
 * Operators become calls: `a+b` is `{ kind: "call", op: "add" }`, unary minus is `neg`, `a^b` is
 * `pow`. Trees may share nodes (a traced function reuses subexpressions), so treat an `Expr` as a
 * DAG: interpreters memoise by node identity.
 */
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

/** Each expression's post-order, computed once: an `Expr` is immutable, and every leg walks it. */
const postOrders = new WeakMap<Expr, readonly Expr[]>();

/**
 * Every node once, children before parents (a topological order of the DAG). The same array for
 * the same expression (the check's legs and passes share it): read-only.
 */
export function postOrder(expr: Expr): readonly Expr[] {
  let order = postOrders.get(expr);
  if (order === undefined) postOrders.set(expr, (order = walkPostOrder(expr)));
  return order;
}

function walkPostOrder(expr: Expr): Expr[] {
  const order: Expr[] = [];
  const done = new Set<Expr>();
  const stack: { e: Expr; next: number }[] = [{ e: expr, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const { e } = top;
    if (e.kind === "call" && top.next < e.args.length) {
      const child = e.args[top.next++]!;
      if (!done.has(child)) stack.push({ e: child, next: 0 });
      continue;
    }
    stack.pop();
    if (!done.has(e)) {
      done.add(e);
      order.push(e);
    }
  }
  return order;
}
