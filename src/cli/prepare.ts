/**
 * From command-line text to a validated subject: the parsed expression, the point, and every
 * bad-input error raised here (with the expression's text, so errors show a caret) before any
 * leg runs.
 */
import { parseProgramCached } from "../check/check.ts";
import { checkBoundNotGiven, wrtNames } from "../check/wrt.ts";
import { GradtrioError } from "../errors.ts";
import type { Expr } from "../expr/ast.ts";
import type { Binding } from "../expr/parse.ts";
import type { Point } from "../expr/point.ts";
import { checkScalarOutput, inferShapes, type Shape } from "../expr/shapes.ts";
import { shapeOf } from "./format.ts";
import { matchPoint, parseAssignments } from "./point-args.ts";

export interface Prepared {
  readonly source: string;
  /** The output expression (a DAG: each use of a bound name is its binding's node). */
  readonly expr: Expr;
  /** The named intermediates (`z = w*x+b;`), in the order written. */
  readonly bindings: readonly Binding[];
  readonly point: Point;
  /** `--wrt`: the inputs to differentiate with respect to, in the point's order (default all). */
  readonly wrt: readonly string[];
}

/**
 * Parses EXPR, the `--at` items and the `--wrt` list (`w,b`) and validates them together.
 * Throws GradtrioError. A non-scalar output is bad input unless `vectorOutput` (check takes its
 * Jacobian).
 */
export function prepare(
  source: string,
  atItems: readonly string[],
  cwd: string,
  wrt?: string,
  opts: { readonly vectorOutput?: boolean } = {},
): Prepared {
  const { output: expr, bindings } = parseProgramCached(source);
  const point = parseAssignments(atItems, cwd);
  checkBoundNotGiven(bindings, Object.keys(point), source);
  matchPoint(expr, point);
  const varShapes = new Map<string, Shape>();
  for (const [name, v] of Object.entries(point)) varShapes.set(name, shapeOf(v));
  const info = inferShapes(expr, varShapes, { source });
  if (opts.vectorOutput !== true) checkScalarOutput(info.shape, { expr, source });
  const names = wrtNames(wrt === undefined ? undefined : splitNames(wrt), Object.keys(point), {
    label: "--wrt",
    bindings,
  });
  return { source, expr, bindings, point, wrt: names };
}

/** `w,b` or `w, b` → ["w", "b"]. */
function splitNames(list: string): string[] {
  const names = list.split(",").map((n) => n.trim());
  if (names.includes(""))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `--wrt ${list}: an empty name; list the inputs separated by commas, e.g. --wrt w,b`,
    );
  return names;
}
