/**
 * The expression of the teaching page and the names of its intermediates
 * (`z = w*x+b; p = sigmoid(z); bce(p, y)`: z and p name their nodes).
 */
import type { Expr } from "../expr/ast.ts";
import { parseProgram } from "../expr/parse.ts";

export interface TeachingProgram {
  readonly expr: Expr;
  /** A bound name for each node that has one. */
  readonly names: ReadonlyMap<Expr, string>;
}

export function parseForTeaching(source: string): TeachingProgram {
  const { output, bindings } = parseProgram(source);
  return { expr: output, names: new Map(bindings.map((b) => [b.expr, b.name])) };
}
