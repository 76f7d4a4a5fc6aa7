/**
 * Tensor custom ops (`defineOp` with a shape rule): the user's shape rule, forward and backward
 * called once for every leg, each result checked (a one-line error naming the op and the phase),
 * and the op's formula expanded into an expression for the symbolic leg.
 */
import { mapPacked } from "../arrays.ts";
import { GradtrioError, type OpPhase, OpResultError } from "../errors.ts";
import { call, type Expr, postOrder, substitute } from "./ast.ts";
import { formatShape, type Shape, sizeOfShape } from "./broadcast.ts";
import { ExprMemo } from "./memo.ts";
import {
  branchesOf,
  formulaPlaceholders,
  formulaText,
  insideDeclared,
  isBuiltinOp,
  isTensorOp,
  lookupCustomOp,
  type OpDefinition,
  type TensorOpDefinition,
} from "./ops.ts";
import { parse } from "./parse.ts";
import { userCall } from "./shapes.ts";

function toData(
  def: TensorOpDefinition,
  phase: OpPhase,
  what: string,
  r: unknown,
  shape: Shape,
): Float64Array {
  const n = sizeOfShape(shape);
  // A forward's result is wrong at any point (bad input); a backward's is the code under test.
  const Err = phase === "forward" ? OpResultError : GradtrioError;
  const fail = (why: string) =>
    new Err("DEFINE_OP", `${def.name}: ${phase} returned ${why}`, { op: def.name, phase });
  if (!(r instanceof Float64Array || Array.isArray(r) || ArrayBuffer.isView(r)))
    throw fail(`${r === null ? "null" : typeof r} for ${what}, expected a Float64Array`);
  const a = r as ArrayLike<unknown>;
  if (a.length !== n)
    throw fail(`${a.length} value(s) for ${what}, expected ${n} (shape ${formatShape(shape)})`);
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const v = a[k];
    if (typeof v !== "number")
      throw fail(`${typeof v} at index ${k} of ${what}, expected a number`);
    out[k] = v;
  }
  return out;
}

// The user gets copies: an op that writes into its arguments must not change the caller's data.
const copies = (xs: readonly Float64Array[]) => xs.map((x) => x.slice());

/** The op's forward at `args` (data and shapes), checked: one number per output element. */
export function tensorOpForward(
  def: TensorOpDefinition,
  args: readonly Float64Array[],
  shapes: readonly Shape[],
  outShape: Shape,
): Float64Array {
  const r = userCall(def, "forward", () => def.forward({ args: copies(args), shapes, outShape }));
  return toData(def, "forward", "the output", r, outShape);
}

/**
 * The op's forward (`tensorOpForward`), refusing a throw or a NaN in its output where every input
 * is finite and inside the op's declared domain (the whole line when it declares none): the op's
 * defect, as the README promises (OpResultError: bad input, exit 2, as a scalar op's is blame
 * autograd). The autograd leg calls it at the point itself; the finite differences' steps may
 * leave the domain.
 */
export function checkedTensorForward(
  def: TensorOpDefinition,
  args: readonly Float64Array[],
  shapes: readonly Shape[],
  outShape: Shape,
): Float64Array {
  const inside = () => args.every((a, i) => a.every((v) => insideDeclared(def, i, v)));
  let out: Float64Array;
  try {
    out = tensorOpForward(def, args, shapes, outShape);
  } catch (e) {
    // userCall's error naming the op and phase, or toData's (already an OpResultError).
    const g = e as GradtrioError;
    throw inside() ? new OpResultError(g.code, g.message, { op: def.name, phase: "forward" }) : e;
  }
  const k = out.findIndex(Number.isNaN);
  if (k >= 0 && inside())
    throw new OpResultError(
      "DEFINE_OP",
      `${def.name}: forward returned NaN at index ${k} of the output where its inputs are finite${def.domain === undefined ? "" : " and inside its domain"}`,
      { op: def.name, phase: "forward" },
    );
  return out;
}

/**
 * The op's backward (its vector–Jacobian product), checked: one array per argument, shaped as
 * it; a NaN where every input is finite is an error.
 */
export function tensorOpBackward(
  def: TensorOpDefinition,
  args: readonly Float64Array[],
  shapes: readonly Shape[],
  out: Float64Array,
  outShape: Shape,
  grad: Float64Array,
): Float64Array[] {
  const r: unknown = userCall(def, "backward", () =>
    def.backward({ args: copies(args), shapes, outShape, out: out.slice(), grad: grad.slice() }),
  );
  if (!Array.isArray(r) || r.length !== def.arity)
    throw new GradtrioError(
      "DEFINE_OP",
      `${def.name}: backward returned ${Array.isArray(r) ? `${r.length} array(s)` : r === null ? "null" : typeof r}, expected an array of ${def.arity} (one gradient per argument)`,
      { op: def.name, phase: "backward" },
    );
  const grads = r.map((g, j) => toData(def, "backward", `argument ${j + 1}`, g, shapes[j]!));
  const finite = (a: Float64Array) => a.every(Number.isFinite);
  if (args.every(finite) && finite(out) && finite(grad))
    grads.forEach((g, j) => {
      const k = g.findIndex(Number.isNaN);
      if (k >= 0)
        throw new GradtrioError(
          "DEFINE_OP",
          `${def.name}: backward returned NaN at index ${k} of argument ${j + 1} where its inputs are finite`,
          { op: def.name, phase: "backward" },
        );
    });
  return grads;
}

/**
 * A custom op's formula over placeholder arguments, expanded (`expandCustomOps`) — or why there
 * is none — with whether it has a piecewise built-in and the definitions it was made with: the
 * op's own and those of every custom op its formula calls, nested ones included (stale when any
 * of them is redefined).
 */
type Body = (
  | { readonly expr: Expr; readonly placeholders: string[]; readonly piecewise: boolean }
  | { readonly error: string }
) & { readonly defs: readonly OpDefinition[] };

const bodies = new WeakMap<OpDefinition, Body>();

/** Whether every definition is still the registered one. */
const current = (defs: readonly OpDefinition[]): boolean =>
  defs.every((d) => lookupCustomOp(d.name) === d);

/** A custom op's formula, parsed and expanded once while its definitions stay registered. */
function formulaBody(def: OpDefinition): Body {
  const hit = bodies.get(def);
  if (hit !== undefined && current(hit.defs)) return hit;
  let body: Body;
  if (def.formula === undefined)
    body = { error: `custom op '${def.name}' has no formula`, defs: [def] };
  else {
    const placeholders = formulaPlaceholders(def.arity);
    // A formula that calls the op itself, directly or through another, is not a formula (defineOp
    // refuses one; this guards a formula whose text changes between calls).
    bodies.set(def, {
      error: `custom op '${def.name}': its formula calls '${def.name}' itself`,
      defs: [def],
    });
    try {
      const inner = expansion(parse(formulaText(def)!));
      const defs = [def, ...inner.defs];
      const expr = inner.result;
      const stray =
        typeof expr === "string"
          ? undefined
          : postOrder(expr).find((n) => n.kind === "var" && !placeholders.includes(n.name));
      body =
        typeof expr === "string"
          ? { error: expr, defs }
          : stray === undefined
            ? {
                expr,
                placeholders,
                piecewise: postOrder(expr).some(
                  (n) => n.kind === "call" && branchesOf(n.op) !== undefined,
                ),
                defs,
              }
            : {
                error: `custom op '${def.name}': its formula names '${(stray as { name: string }).name}', which is not an argument`,
                defs,
              };
    } catch (e) {
      body = {
        error: `custom op '${def.name}': its formula is not understood: ${e instanceof Error ? e.message : String(e)}`,
        defs: [def],
      };
    }
  }
  bodies.set(def, body);
  return body;
}

/** Per `Expr` object: its expansion, and the custom ops' definitions it was made with. */
const expansions = new ExprMemo<
  Expr,
  { readonly result: Expr | string; readonly defs: readonly OpDefinition[] }
>();

/**
 * `expr` with every call of a tensor op, and of an elementwise op whose formula has a piecewise
 * built-in, replaced by the op's formula (its arguments in place; a formula may call other such
 * ops), for the symbolic leg; the same object when it calls none. A string says why it cannot be
 * expanded (a tensor op without a usable formula). Memoised per `Expr` object while its ops'
 * definitions stay registered, nested ones included (a reloaded module may define them anew).
 *
 * A tensor op is expanded because the CAS's templates are over scalars; an elementwise op with a
 * piecewise built-in (`relu`, `maximum`…) because its branch is picked from the values of the
 * formula's own nodes, which only the expanded expression has.
 */
export function expandCustomOps(expr: Expr): Expr | string {
  return expansion(expr).result;
}

/** The custom op call a node of `expandCustomOps`'s result comes from (its formula's node). */
export function expandedFrom(e: Expr): Expr | undefined {
  return origins.get(e);
}
const origins = new WeakMap<Expr, Expr>();

function expansion(expr: Expr): {
  readonly result: Expr | string;
  readonly defs: readonly OpDefinition[];
} {
  const hit = expansions.get(expr);
  if (hit !== undefined && current(hit.defs)) return hit;
  const defs: OpDefinition[] = [];
  const done = new Map<Expr, Expr>();
  let result: Expr | string | undefined;
  for (const n of postOrder(expr)) {
    if (n.kind !== "call") {
      done.set(n, n);
      continue;
    }
    const args = mapPacked(n.args, (a) => done.get(a)!);
    const def = isBuiltinOp(n.op) ? undefined : lookupCustomOp(n.op);
    const body = def === undefined ? undefined : formulaBody(def);
    if (body !== undefined) defs.push(...body.defs);
    if (body === undefined || !(isTensorOp(def!) || ("piecewise" in body && body.piecewise))) {
      done.set(n, args.every((a, i) => a === n.args[i]) ? n : call(n.op, args, n.pos));
      continue;
    }
    if ("error" in body) {
      result = body.error;
      break;
    }
    const expanded = substitute(body.expr, body.placeholders, args);
    // The formula's own nodes (not its arguments') come from this call.
    const inArgs = new Set(args.flatMap((a) => postOrder(a)));
    for (const e of postOrder(expanded)) if (!inArgs.has(e)) origins.set(e, origins.get(n) ?? n);
    done.set(n, expanded);
  }
  result ??= done.get(expr)!;
  return expansions.set(expr, { result, defs });
}
