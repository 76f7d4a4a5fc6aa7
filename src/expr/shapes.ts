/**
 * Shape inference from the point: variables take their shapes from it, elementwise ops (built-in
 * and custom) broadcast by NumPy's rules, `sum`/`mean` reduce to a scalar, and `matmul` follows
 * torch.matmul for 1-D and 2-D operands. Iterative over the DAG (each shared node once).
 */
import { mapPacked } from "../arrays.ts";
import { GradtrioError, type OpPhase, opThrew } from "../errors.ts";
import { type Expr, postOrder } from "./ast.ts";
import {
  BUILTIN_OPS,
  INFIX_OPS,
  isBuiltinOp,
  isTensorOp,
  lookupCustomOp,
  type TensorOpDefinition,
} from "./ops.ts";
import type { Value } from "./point.ts";

/** The most dimensions a tensor or a value may have (nested-array walks recurse once per dimension). */
export const MAX_NDIM = 32;

/** Throws a SHAPE error naming `what` when `ndim` exceeds MAX_NDIM. */
export function checkNdim(ndim: number, what: string): void {
  if (ndim > MAX_NDIM)
    throw new GradtrioError("SHAPE", `${what}: too many dimensions (${ndim}); at most ${MAX_NDIM}`);
}

export type Shape = readonly number[];

export interface ShapeInfo {
  /** The shape of the whole expression. */
  readonly shape: Shape;
  /** The shape of every node, by node identity. */
  readonly shapes: Map<Expr, Shape>;
}

export interface ShapeOptions {
  /** The expression's source text, so that errors show a caret under the offending op. */
  readonly source?: string;
}

const SCALAR: Shape = Object.freeze([]);

/**
 * Infers the shape of every node of `expr` given each variable's shape.
 * Throws a `GradtrioError`: UNKNOWN_VARIABLE (a name the point lacks), SHAPE (shapes that do not
 * broadcast, a `matmul` whose inner dimensions differ), UNKNOWN_FUNCTION or ARITY.
 *
 * @example
 * ```ts
 * inferShapes(parse("x*A"), new Map([["x", [3]], ["A", [2, 3]]])).shape; // [2, 3]
 * ```
 */
export function inferShapes(
  expr: Expr,
  variables: ReadonlyMap<string, Shape>,
  options: ShapeOptions = {},
): ShapeInfo {
  const { source } = options;
  const shapes = new Map<Expr, Shape>();
  const fail = (
    code: "SHAPE" | "UNKNOWN_VARIABLE" | "UNKNOWN_FUNCTION" | "ARITY",
    message: string,
    e: Expr,
  ) =>
    new GradtrioError(code, message, {
      ...(e.pos === undefined ? {} : { pos: e.pos }),
      ...(source === undefined ? {} : { source }),
    });
  for (const e of postOrder(expr)) {
    switch (e.kind) {
      case "num":
      case "const":
        shapes.set(e, SCALAR);
        break;
      case "var": {
        const shape = variables.get(e.name);
        if (shape === undefined)
          throw fail("UNKNOWN_VARIABLE", noValueFor(e.name, [...variables.keys()]), e);
        shapes.set(e, shape);
        break;
      }
      case "call": {
        const args = mapPacked(e.args, (a) => shapes.get(a)!);
        const spec = isBuiltinOp(e.op) ? BUILTIN_OPS[e.op] : lookupCustomOp(e.op);
        if (spec === undefined) throw fail("UNKNOWN_FUNCTION", `unknown function '${e.op}'`, e);
        if (args.length !== spec.arity)
          throw fail(
            "ARITY",
            `${e.op} takes ${spec.arity} argument${spec.arity === 1 ? "" : "s"}, got ${args.length}`,
            e,
          );
        const kind = "kind" in spec ? spec.kind : "elementwise";
        if (!("kind" in spec) && isTensorOp(spec)) {
          try {
            shapes.set(e, tensorOpShape(spec, args));
          } catch (err) {
            if (err instanceof GradtrioError && err.code === "SHAPE")
              throw fail("SHAPE", err.message, e);
            throw err;
          }
        } else if (kind === "reduction") shapes.set(e, SCALAR);
        else if (kind === "matmul") {
          const out = matmulShape(args[0]!, args[1]!);
          if (typeof out === "string") throw fail("SHAPE", out, e);
          shapes.set(e, out);
        } else {
          let out = args[0]!;
          for (let k = 1; k < args.length; k++) {
            const next = broadcastShapes(out, args[k]!);
            if (next === undefined)
              throw fail(
                "SHAPE",
                `cannot broadcast shapes ${formatShape(out)} and ${formatShape(args[k]!)} in ${opLabel(e.op)}`,
                e,
              );
            out = next;
          }
          shapes.set(e, out);
        }
      }
    }
  }
  return { shape: shapes.get(expr)!, shapes };
}

/**
 * Requires a scalar output shape (gradients need one); throws NON_SCALAR otherwise. Give the
 * expression (and its source) to point the error's caret at the outermost op.
 *
 * @example
 * ```ts
 * checkScalarOutput(inferShapes(parse("mean(x^2)"), shapes).shape); // fine
 * checkScalarOutput([3]); // throws NON_SCALAR
 * ```
 */
export function checkScalarOutput(
  shape: Shape,
  where: { readonly expr?: Expr; readonly source?: string; readonly for?: string } = {},
): void {
  if (shape.length === 0) return;
  const pos = where.expr?.pos;
  throw new GradtrioError(
    "NON_SCALAR",
    `the output must be a scalar${where.for === undefined ? "" : ` for ${where.for}`}; got shape ${formatShape(shape)}; wrap it in sum(…) or mean(…)`,
    {
      ...(pos === undefined ? {} : { pos }),
      ...(where.source === undefined ? {} : { source: where.source }),
    },
  );
}

/**
 * The shapes of a point's values, for `inferShapes`.
 *
 * @example
 * ```ts
 * shapesOf(toValues({ x: [1, 2, 3], b: 0 })); // Map { "x" => [3], "b" => [] }
 * ```
 */
export function shapesOf(values: ReadonlyMap<string, Value>): Map<string, Shape> {
  const out = new Map<string, Shape>();
  for (const [name, v] of values) out.set(name, v.shape);
  return out;
}

/**
 * NumPy broadcasting: align trailing dimensions; each pair must be equal or contain a 1.
 * Returns undefined when the shapes do not broadcast.
 *
 * @example
 * ```ts
 * broadcastShapes([2, 1], [3]); // [2, 3]
 * broadcastShapes([2], [3]); // undefined
 * ```
 */
export function broadcastShapes(a: Shape, b: Shape): Shape | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = new Array(n);
  for (let k = 1; k <= n; k++) {
    const da = k <= a.length ? a[a.length - k]! : 1;
    const db = k <= b.length ? b[b.length - k]! : 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out[n - k] = da === 1 ? db : da;
  }
  return out;
}

/**
 * torch.matmul's result shape for 1-D and 2-D operands (dot, matrix–vector, vector–matrix,
 * matrix–matrix), or a message saying why the shapes do not fit.
 *
 * @example
 * ```ts
 * matmulShape([2, 3], [3]); // [2]
 * matmulShape([3], [3]); // []
 * ```
 */
export function matmulShape(a: Shape, b: Shape): Shape | string {
  const both = `${formatShape(a)} and ${formatShape(b)}`;
  if (a.length < 1 || a.length > 2 || b.length < 1 || b.length > 2)
    return `matmul takes 1-D or 2-D operands; got shapes ${both}`;
  // The contracted dimension: a's last, b's first (a vector's only one in either case).
  const inner = a[a.length - 1]!;
  const innerB = b[0]!;
  if (inner !== innerB)
    return `matmul: inner dimensions differ (${inner} vs ${innerB}) for shapes ${both}`;
  const rows = a.length === 2 ? [a[0]!] : [];
  const cols = b.length === 2 ? [b[1]!] : [];
  return [...rows, ...cols];
}

/**
 * The message for a variable the expression uses and the point does not give.
 *
 * @example
 * ```ts
 * noValueFor("x", ["y"]); // "the expression uses 'x', but the point gives no value for it (it gives y)"
 * ```
 */
export function noValueFor(name: string, given: readonly string[]): string {
  return `the expression uses '${name}', but the point gives no value for it (it gives ${given.length === 0 ? "none" : given.join(", ")})`;
}

/** `[2, 3]`, `[]` for a scalar. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

function opLabel(op: string): string {
  for (const [symbol, name] of Object.entries(INFIX_OPS)) if (name === op) return `'${symbol}'`;
  return `${op}(…)`;
}

export function userCall<T>(
  def: TensorOpDefinition,
  phase: OpPhase | "shape rule",
  fn: () => T,
): T {
  try {
    return fn();
  } catch (e) {
    if (phase !== "shape rule") throw opThrew(def.name, phase, e);
    if (e instanceof GradtrioError) throw e;
    throw new GradtrioError("SHAPE", `${def.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const shapesText = (shapes: readonly Shape[]): string => shapes.map(formatShape).join(", ");

/**
 * The output shape by the op's shape rule; a SHAPE error when the rule refuses the arguments
 * (it threw or returned a message) or returns something that is not a shape.
 */
export function tensorOpShape(def: TensorOpDefinition, shapes: readonly Shape[]): Shape {
  const r: unknown = userCall(def, "shape rule", () => def.shape(...shapes.map((s) => [...s])));
  if (typeof r === "string")
    throw new GradtrioError("SHAPE", `${def.name}: ${r} (argument shapes ${shapesText(shapes)})`);
  if (
    !Array.isArray(r) ||
    r.length > 32 ||
    !r.every((d) => Number.isInteger(d) && (d as number) >= 1)
  )
    throw new GradtrioError(
      "DEFINE_OP",
      `${def.name}: its shape rule returned ${JSON.stringify(r) ?? String(r)} for argument shapes ${shapesText(shapes)}, expected an array of positive integers (the output shape)`,
    );
  return r as number[];
}
