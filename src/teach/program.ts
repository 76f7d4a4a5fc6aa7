/**
 * The expression of the teaching view and the names of its intermediates. Until named
 * intermediates (`z = w*x+b; p = sigmoid(z); bce(p, y)`) parse, every intermediate is unnamed.
 */
import { parseCached } from "../check/check.ts";
import type { Expr } from "../expr/ast.ts";

export interface TeachingProgram {
  readonly expr: Expr;
  /** A bound name for each node that has one. */
  readonly names: ReadonlyMap<Expr, string>;
}

export function parseForTeaching(source: string): TeachingProgram {
  return { expr: parseCached(source), names: new Map() };
}
