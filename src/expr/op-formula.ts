/**
 * A custom op's `formula`, read once as what it is: an expression over the op's arguments. A
 * formula that cannot be read is a defect of the op's definition (like a wrong arity), refused
 * where the op is defined and by its sanity check; it must not silently drop the symbolic leg.
 * Messages show the formula at the user's own argument names (`(a) => …` shows `a`), never at
 * gradtrio's placeholders.
 */
import { isGradtrioError } from "../errors.ts";
import { postOrder } from "./ast.ts";
import {
  BUILTIN_OPS,
  formulaPlaceholders,
  formulaText,
  isBuiltinOp,
  isTensorOp,
  lookupCustomOp,
  type OpDefinition,
} from "./ops.ts";
import { parse } from "./parse.ts";

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const FALLBACK = ["a", "b", "c", "d", "f", "g", "h", "k"];

/**
 * The parameter names of the user's `formula` (`(a, b) => …`, `a => …`, `function (a, b)`,
 * `formula(a, b) {…}`), for messages; `a, b, c, …` where they cannot be read simply.
 */
export function formulaArgumentNames(fn: (...args: string[]) => unknown, arity: number): string[] {
  const fallback = FALLBACK.slice(0, arity);
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return fallback;
  }
  const m =
    /^\s*(?:async\s+)?(?:function\b\s*\*?\s*)?[\w$]*\s*\(([^()]*)\)/.exec(src) ??
    /^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(src);
  if (m === null) return fallback;
  const names = m[1]!.split(",").map((s) => s.trim());
  return names.length === arity && names.every((n) => IDENTIFIER.test(n)) ? names : fallback;
}

/**
 * Why `def`'s formula cannot be read as an expression over its arguments (a message without the
 * op's name), or null when it can or there is none. `laterOps: true` lets a call of an op not
 * defined yet pass (a module may define it further down; defineOp's case); the sanity check,
 * which runs once the module is loaded, passes false.
 *
 * @example
 * ```ts
 * formulaDefect({ name: "sq", arity: 1, formula: (a) => `(${a}^^2`, … }, true);
 * // `its formula "(a^^2" is malformed: unbalanced parenthesis: this '(' is never closed`
 * ```
 */
export function formulaDefect(def: OpDefinition, laterOps: boolean): string | null {
  const formula = def.formula;
  if (formula === undefined) return null;
  const placeholders = formulaPlaceholders(def.arity);
  const shown = formulaArgumentNames(formula, def.arity);
  const show = (s: string) => placeholders.reduce((t, p, i) => t.replaceAll(p, shown[i]!), s);
  let text: string;
  try {
    text = formulaText(def)!;
  } catch (e) {
    return `its formula threw: ${show(e instanceof Error ? e.message : String(e))}`;
  }
  let stray: string | undefined;
  let whole: string | undefined;
  try {
    for (const n of postOrder(parse(text)))
      if (n.kind === "var" && !placeholders.includes(n.name)) stray ??= n.name;
      else if (n.kind === "call" && !isTensorOp(def) && !elementwise(n.op)) whole ??= n.op;
  } catch (e) {
    if (!isGradtrioError(e) || (laterOps && e.code === "UNKNOWN_FUNCTION")) return null;
    return `its formula ${JSON.stringify(show(text))} is malformed: ${show(e.message.split("\n")[0]!)}`;
  }
  if (stray !== undefined)
    return `its formula ${JSON.stringify(show(text))} names '${stray}', which is not one of its arguments (${shown.join(", ")})`;
  return whole === undefined
    ? null
    : `its formula ${JSON.stringify(show(text))} calls ${whole}, which works on whole tensors, but an op without a shape rule is a function of numbers, one element at a time: write the formula elementwise, or give the op a shape rule (a tensor op)`;
}

/** Whether a call of `op` works element by element (a built-in's kind; a custom scalar op). */
function elementwise(op: string): boolean {
  if (isBuiltinOp(op)) return BUILTIN_OPS[op].kind === "elementwise";
  const def = lookupCustomOp(op);
  return def === undefined || !isTensorOp(def);
}

/** `formulaDefect` where a module may still define the ops a formula calls (defineOp's case). */
export const laterOpsAllowed = (def: OpDefinition): string | null => formulaDefect(def, true);
