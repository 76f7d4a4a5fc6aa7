/**
 * Compiled programs, cached per `Expr` object and input layout: a check that meets the same
 * expression again at a new point (same shapes) compiles nothing. Only small inputs are cached,
 * since a program's buffers are sized to its inputs. A custom op registered anew under the same
 * name (a reloaded module) makes the cached program stale, so each entry remembers the
 * definitions it was compiled with. Inside `usedOnce` (a fuzz case, checked once) the cache is the
 * scope's, dropped with it (`expr/memo.ts`).
 */
import { mapPacked } from "../arrays.ts";
import { type Expr, postOrder } from "../expr/ast.ts";
import { sizeOfShape } from "../expr/broadcast.ts";
import { ExprMemo } from "../expr/memo.ts";
import { isBuiltinOp, lookupCustomOp, type OpDefinition, stillRegistered } from "../expr/ops.ts";
import { type ComplexProgram, compileComplex } from "./complex.ts";
import { compileForward, type Layout } from "./evaluate.ts";

/** Inputs of more elements than this are compiled afresh every time. */
export const MAX_CACHED_INPUT = 4096;
/** Layouts remembered per expression. */
const PER_EXPR = 16;

interface Entry {
  readonly defs: readonly (readonly [string, OpDefinition | undefined])[];
  forward?: (x: Float64Array) => number;
  complex?: ComplexProgram;
}

const cache = new ExprMemo<Expr, Map<string, Entry>>();
const customNames = new ExprMemo<Expr, readonly string[]>();

/** The custom (not built-in) op names `expr` calls, memoized per `Expr` object. */
export function customOpsOf(expr: Expr): readonly string[] {
  let names = customNames.get(expr);
  if (names === undefined) {
    const out = new Set<string>();
    for (const e of postOrder(expr)) if (e.kind === "call" && !isBuiltinOp(e.op)) out.add(e.op);
    names = [...out];
    customNames.set(expr, names);
  }
  return names;
}

function entryFor(expr: Expr, layout: Layout): Entry | undefined {
  let size = 0;
  let key = "";
  for (const [name, { offset, shape }] of layout) {
    size = Math.max(size, offset + sizeOfShape(shape));
    key += `${name}@${offset}:${shape.join(",")};`;
  }
  if (size > MAX_CACHED_INPUT && large === null) return undefined;
  const table = size > MAX_CACHED_INPUT ? large! : cache;
  let byLayout = table.get(expr);
  if (byLayout === undefined) table.set(expr, (byLayout = new Map()));
  let entry = byLayout.get(key);
  if (entry !== undefined && stillRegistered(entry.defs)) return entry;
  if (byLayout.size >= PER_EXPR) byLayout.clear();
  entry = { defs: mapPacked(customOpsOf(expr), (n) => [n, lookupCustomOp(n)] as const) };
  byLayout.set(key, entry);
  return entry;
}

/** Inside `reusingPrograms`: the programs of large inputs compiled so far, dropped after. */
let large: Map<Expr, Map<string, Entry>> | null = null;

/**
 * Runs `fn` with the programs of large inputs cached too, until it returns: fast mode evaluates
 * one program at 10^6 elements several times (uᵀ∇f, then each scalar's partial), and compiling it
 * afresh (its buffers, ~100 MB at 10^6 elements, new each time) cost as much as a run.
 */
export function reusingPrograms<T>(fn: () => T): T {
  const outer = large;
  large ??= new Map();
  try {
    return fn();
  } finally {
    large = outer;
  }
}

/** `compileForward(expr, layout)`, cached for small inputs. */
export function cachedForward(expr: Expr, layout: Layout): (x: Float64Array) => number {
  const entry = entryFor(expr, layout);
  if (entry === undefined) return compileForward(expr, layout);
  entry.forward ??= compileForward(expr, layout);
  return entry.forward;
}

/** `compileComplex(expr, layout)`, cached for small inputs. */
export function cachedComplex(expr: Expr, layout: Layout): ComplexProgram {
  const entry = entryFor(expr, layout);
  if (entry === undefined) return compileComplex(expr, layout);
  entry.complex ??= compileComplex(expr, layout);
  return entry.complex;
}
