/**
 * From command-line text to a validated subject: the parsed expression, the point, and every
 * bad-input error raised here (with the expression's text, so errors show a caret) before any
 * leg runs.
 */
import { parseCached } from "../check/check.ts";
import type { Expr } from "../expr/ast.ts";
import type { Point } from "../expr/point.ts";
import { checkScalarOutput, inferShapes, type Shape } from "../expr/shapes.ts";
import { shapeOf } from "./format.ts";
import { matchPoint, parseAssignments } from "./point-args.ts";

export interface Prepared {
  readonly source: string;
  readonly expr: Expr;
  readonly point: Point;
}

/** Parses EXPR and the `--at` items and validates them together. Throws GradtrioError. */
export function prepare(source: string, atItems: readonly string[], cwd: string): Prepared {
  const expr = parseCached(source);
  const point = parseAssignments(atItems, cwd);
  matchPoint(expr, point);
  const varShapes = new Map<string, Shape>();
  for (const [name, v] of Object.entries(point)) varShapes.set(name, shapeOf(v));
  const info = inferShapes(expr, varShapes, { source });
  checkScalarOutput(info.shape, { expr, source });
  return { source, expr, point };
}
