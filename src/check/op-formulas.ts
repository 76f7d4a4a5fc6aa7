/**
 * Whether the symbolic leg differentiates the function the code computes. For a custom op the CAS
 * differentiates its `formula`, while the numeric and autograd legs evaluate its `forward`: where
 * the two are different functions (a copy-paste bug in the forward, whose backward and formula
 * agree), the symbolic leg is no independent reference — it sides with a backward that is wrong
 * for the forward and outvotes the finite differences. Each custom op call is compared, at its
 * arguments' values and a little way off them (where two different functions may coincide: x² and
 * x³ at 1), by value: the formula's, with the rounding bound of its evaluation
 * (src/check/rounding.ts), against the forward's.
 */
import { type CallExpr, call, type Expr, postOrder, substitute, variable } from "../expr/ast.ts";
import {
  formulaPlaceholders,
  formulaText,
  isBuiltinOp,
  lookupCustomOp,
  type OpDefinition,
  stillRegistered,
} from "../expr/ops.ts";
import { parse } from "../expr/parse.ts";
import type { Value } from "../expr/point.ts";
import { print } from "../expr/print.ts";
import { type Arr, forwardValues } from "../symbolic/forward.ts";
import type { LegReport } from "./report.ts";
import { valueBound } from "./rounding.ts";
import { fmt, type LegName, type Tolerance } from "./verdict.ts";

const EPS = Number.EPSILON;
/** How far off its arguments an op is compared too: 2⁻⁷ of their size (at least of 1). */
const NEARBY = 2 ** -7;
const NEARBY_TEXT = "2⁻⁷";
/** Elements of an argument shown in the reason; a larger one by its shape. */
const SHOWN = 6;

/**
 * A custom op's formula with every custom op it calls replaced by its own, over the placeholders
 * (null: none this module can read), and the custom op names it looked up with what each resolved
 * to (undefined: no op of that name): stale, whatever it holds, when any of them resolves anew (an
 * op defined again by a reloaded module, one defined since).
 */
interface Expanded {
  readonly expr: Expr | null;
  readonly defs: readonly (readonly [string, OpDefinition | undefined])[];
}
const expansions = new WeakMap<OpDefinition, Expanded>();

/**
 * `def`'s formula as the symbolic leg differentiates it (the custom ops it calls expanded into
 * their formulas, as the CAS receives them), or null when it has none this module can read.
 */
function expandedFormula(def: OpDefinition): Expr | null {
  const hit = expansions.get(def);
  if (hit !== undefined && stillRegistered(hit.defs)) return hit.expr;
  const defs: (readonly [string, OpDefinition | undefined])[] = [[def.name, def]];
  let expr: Expr | null = null;
  try {
    const text = formulaText(def);
    if (text !== undefined) {
      const done = new Map<Expr, Expr>();
      const body = parse(text);
      for (const n of postOrder(body)) {
        const custom = n.kind === "call" && !isBuiltinOp(n.op);
        const inner = custom ? lookupCustomOp(n.op) : undefined;
        if (custom) defs.push([n.op, inner]);
        if (inner === undefined) {
          done.set(
            n,
            n.kind === "call"
              ? call(
                  n.op,
                  n.args.map((a) => done.get(a)!),
                )
              : n,
          );
          continue;
        }
        // defineOp refuses a formula that calls its own op, directly or not: this ends.
        const own = expandedFormula(inner);
        defs.push(...expansions.get(inner)!.defs);
        if (own === null) throw new Error(`'${inner.name}' has no readable formula`);
        const args = (n as CallExpr).args.map((a) => done.get(a)!);
        done.set(n, substitute(own, formulaPlaceholders(inner.arity), args));
      }
      expr = done.get(body)!;
    }
  } catch {
    expr = null; // a formula the symbolic leg cannot read either: it says why
  }
  expansions.set(def, { expr, defs });
  return expr;
}

/** An argument of a call and its value, for the reason: `x = 1.5`, `sin(x) = 0.997…`. */
function argumentText(arg: Expr, value: Arr): string {
  const v =
    value.data.length === 1 && value.shape.length === 0
      ? fmt(value.data[0]!)
      : value.data.length <= SHOWN
        ? `[${Array.from(value.data, fmt).join(", ")}]`
        : `an array of shape [${value.shape.join(", ")}]`;
  return `${print(arg)} = ${v}`;
}

/** `args` moved by `sign`·NEARBY of their size, alternately up and down per element. */
function nearby(args: readonly Arr[], sign: 1 | -1): Arr[] {
  let k = 0;
  return args.map((a) => ({
    shape: a.shape,
    data: a.data.map((x) => x + (k++ % 2 === 0 ? sign : -sign) * NEARBY * Math.max(1, Math.abs(x))),
  }));
}

/** Whether every element of `args` lies inside the op's declared domain (if any). */
const inside = (def: OpDefinition, args: readonly Arr[]): boolean =>
  args.every((a, j) => {
    const [lo, hi] = def.domain?.[j] ?? [-Infinity, Infinity];
    return a.data.every((x) => x > lo && x < hi);
  });

/** The calls of custom ops with a formula in `expr`, innermost first. */
export function formulaCalls(expr: Expr): CallExpr[] {
  const out: CallExpr[] = [];
  for (const n of postOrder(expr))
    if (n.kind === "call" && !isBuiltinOp(n.op) && lookupCustomOp(n.op)?.formula !== undefined)
      out.push(n);
  return out;
}

/**
 * The first of `calls` (of `expr`, `formulaCalls`) whose formula and forward give different values beyond the
 * rounding of either (the formula's first-order bound; the forward's taken as no better than the
 * formula's, and at least 4 ulps) plus `tol`, at its arguments' values at the point or a little
 * way off them inside its domain: a sentence naming the op, both values and where; else null. A
 * value that is not finite, or an op that throws off the point, is no evidence either way.
 *
 * @example
 * // forward a·a, backward and formula of a³:
 * const e = parse("sqBug(x)");
 * formulaMismatch(formulaCalls(e), e, toValues({ x: 1.5 }), DEFAULT_TOLERANCE);
 * // "custom op 'sqBug': its formula gives 3.375 where its forward gives 2.25 at x = 1.5: …"
 */
export function formulaMismatch(
  calls: readonly CallExpr[],
  expr: Expr,
  values: ReadonlyMap<string, Value>,
  tol: Tolerance,
): string | null {
  let fwd: Map<Expr, Arr>;
  try {
    fwd = forwardValues(expr, values);
  } catch {
    return null; // the legs report a forward that fails
  }
  for (const node of calls) {
    const def = lookupCustomOp(node.op)!;
    const formula = expandedFormula(def);
    if (formula === null) continue;
    const names = formulaPlaceholders(def.arity);
    const op = call(
      node.op,
      names.map((n) => variable(n)),
    );
    const at = node.args.map((a) => fwd.get(a)!);
    for (const [off, args] of [
      [false, at],
      [true, nearby(at, 1)],
      [true, nearby(at, -1)],
    ] as const) {
      if (off && !inside(def, args)) continue;
      const point = new Map(names.map((n, j) => [n, args[j]!] as const));
      let out: Arr | undefined;
      try {
        out = off ? forwardValues(op, point).get(op) : fwd.get(node)!;
      } catch {
        continue;
      }
      const f = valueBound(formula, point);
      if (out === undefined || f === null || f.v.length !== out.data.length) continue;
      for (let k = 0; k < f.v.length; k++) {
        const a = f.v[k]!;
        const b = out.data[k]!;
        if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
        const e = f.err[k]!;
        const bound =
          e + Math.max(e, 4 * EPS * Math.abs(b)) + tol.rtol * Math.max(Math.abs(a), Math.abs(b));
        // An unbounded error (NaN: 0·∞ in a rule at a singularity) is no evidence either.
        if (!(Math.abs(a - b) > bound + tol.atol)) continue;
        const element = out.data.length === 1 ? "" : ` (output element ${k})`;
        const argsText = node.args.map((arg, j) => argumentText(arg, args[j]!)).join(", ");
        const near = off ? ` (${NEARBY_TEXT} of its size off the point)` : "";
        return `custom op '${def.name}': its formula gives ${fmt(a)} where its forward gives ${fmt(b)}${element} at ${argsText}${near}, so the CAS differentiates another function than the code computes`;
      }
    }
  }
  return null;
}

/**
 * Whether the symbolic leg, which ran (`ran`: it has gradients), loses its vote at the point: the
 * first custom op call whose formula is not its forward (`formulaMismatch`), looked for only where
 * `differ()` says the legs do not all agree (where they do, numeric and autograd agree without
 * it). Returns that sentence, having marked `legs.symbolic` unreliable with it (its numbers still
 * show), or null. The gradient check and the Jacobian's share it.
 */
export function symbolicAside(
  ran: boolean,
  expr: Expr,
  values: ReadonlyMap<string, Value>,
  tol: Tolerance,
  differ: () => boolean,
  legs: Record<LegName, LegReport>,
): string | null {
  const calls = ran ? formulaCalls(expr) : [];
  const aside = calls.length > 0 && differ() ? formulaMismatch(calls, expr, values, tol) : null;
  if (aside !== null) legs.symbolic = { ...legs.symbolic, unreliable: true, reason: noVote(aside) };
  return aside;
}

/** The symbolic leg's reason when set aside (`symbolicAside`). */
export const noVote = (aside: string): string => `no vote: ${aside}`;

/** What a verdict's reason ends with when the symbolic leg is set aside (nothing otherwise). */
export const asideNote = (aside: string | null): string =>
  aside === null ? "" : `; the symbolic leg has no vote: ${aside}`;
