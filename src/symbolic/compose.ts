/**
 * Derivation reuse for many expressions over the same ops (the fuzzer): instead of one CAS call
 * per expression and leaf, each op's local derivative ∂op/∂argᵢ is derived by the CAS once per
 * process, over placeholder arguments (a template), and an expression's derivative is composed
 * from the templates by the chain rule, D op(a₁…aₙ) = Σᵢ ∂op/∂argᵢ(a₁…aₙ) · D aᵢ, with the
 * arguments' own formulas substituted in. No derivative rule is gradtrio's: each comes from the
 * CAS; only the chain rule joins them. The formulas are larger than nerdamer's simplified whole
 * answer, but evaluating them costs about what evaluating the expression does.
 *
 * Off by default (check keeps deriving each expression whole, its formulas are shown to people);
 * `withComposedDerivatives` turns it on for a computation.
 */
import { type CallExpr, call, type Expr, variable } from "../expr/ast.ts";
import { branchesOf, isBuiltinOp, lookupCustomOp, type OpDefinition } from "../expr/ops.ts";
import { casDiff } from "./cas.ts";
import { type Formula, fadd, fmul, fnum, substitute } from "./formula.ts";
import { Unavailable } from "./outcome.ts";
import { readCas } from "./read-cas.ts";
import { type Branch, CasWriter } from "./to-cas.ts";

let composing = false;

/**
 * Runs `fn` with the symbolic leg composing derivatives from per-op templates.
 *
 * @example
 * ```ts
 * withComposedDerivatives(() => check("sin(cube(x))", { at: { x: 0.5 } }));
 * ```
 */
export function withComposedDerivatives<T>(fn: () => T): T {
  const before = composing;
  composing = true;
  try {
    return fn();
  } finally {
    composing = before;
  }
}

/** Whether derivatives are being composed (see `withComposedDerivatives`). */
export function composingDerivatives(): boolean {
  return composing;
}

interface Template {
  readonly formula: Formula;
  readonly arity: number;
  readonly def: OpDefinition | undefined;
}

const TEMPLATE_LIMIT = 4096;
const ONE = fnum(1);
/** Per op, its templates by argument and branch (`3·i + branch`). */
const templates = new Map<string, (Template | undefined)[]>();
let templateCount = 0;
/** The placeholder of argument i, and the argument of each placeholder. */
const placeholders: string[] = [];
const argumentOf = new Map<string, number>();

function placeholder(i: number): string {
  let name = placeholders[i];
  if (name === undefined) {
    placeholders[i] = name = `__d${i}`;
    argumentOf.set(name, i);
  }
  return name;
}

/** ∂op/∂argᵢ over placeholder arguments `__d0`, `__d1`…, derived once (per branch, per definition). */
function template(op: string, arity: number, i: number, branch: Branch): Formula {
  const def = isBuiltinOp(op) ? undefined : lookupCustomOp(op);
  let byArgument = templates.get(op);
  const hit = byArgument?.[3 * i + branch];
  if (hit !== undefined && hit.def === def && hit.arity === arity) return hit.formula;
  const w = new CasWriter((e) => (e.kind === "var" ? e.name : undefined));
  const root = call(
    op,
    Array.from({ length: arity }, (_, k) => variable(placeholder(k))),
  );
  const answer = casDiff(
    w.write(root, () => branch, placeholder(i)),
    w.symbol(placeholder(i)),
  );
  if (!answer.ok) throw new Unavailable(`∂${op}/∂argument ${i + 1}: ${answer.reason}`);
  const formula = readCas(answer.text, w.resolve);
  if (templateCount >= TEMPLATE_LIMIT) {
    templates.clear();
    templateCount = 0;
  }
  byArgument = templates.get(op);
  if (byArgument === undefined) templates.set(op, (byArgument = []));
  byArgument[3 * i + branch] = { formula, arity, def };
  templateCount++;
  return formula;
}

/**
 * d root / d leaf, for each leaf key of `keys`, composed from the ops' templates. `w` reads the
 * arguments' formulas (`CasWriter.reader`), `branch` gives each piecewise node's active branch,
 * `leafKey` the block's leaves. Throws `Unavailable` when the CAS cannot derive a template.
 */
export function composedDerivatives(
  w: CasWriter,
  root: Expr,
  branch: (e: CallExpr) => Branch,
  keys: readonly string[],
  leafKey: (e: Expr) => string | undefined,
): Formula[] {
  // The block's nodes, arguments before their calls, the leaf key of each (or undefined) and
  // where each call's arguments are: the same for every key. Post-order without recursion:
  // expressions may be deep.
  const order: Expr[] = [];
  const leafKeys: (string | undefined)[] = [];
  const at = new Map<Expr, number>();
  const stack: [Expr, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [e, ready] = stack.pop()!;
    if (at.has(e)) continue;
    const leaf = leafKey(e);
    if (!ready && leaf === undefined && e.kind === "call") {
      stack.push([e, true]);
      for (const a of e.args) if (!at.has(a)) stack.push([a, false]);
      continue;
    }
    at.set(e, order.length);
    order.push(e);
    leafKeys.push(leaf);
  }
  const argsAt = order.map((e, n) =>
    leafKeys[n] === undefined && e.kind === "call" ? e.args.map((a) => at.get(a)!) : [],
  );
  const formulaOf = w.reader(branch);
  // ∂e/∂argᵢ with the arguments' formulas in place, per call: the same for every key.
  const locals: Formula[][] = order.map(() => []);
  const local = (n: number, i: number): Formula => {
    const e = order[n] as CallExpr;
    let t = locals[n]![i];
    if (t === undefined) {
      const br = branchesOf(e.op) === undefined ? 0 : branch(e);
      locals[n]![i] = t = substitute(template(e.op, e.args.length, i, br), (name) => {
        const k = argumentOf.get(name);
        return k === undefined ? undefined : formulaOf(e.args[k]!);
      });
    }
    return t;
  };
  return keys.map((key) => {
    // Per node, its derivative; null where it does not depend on the leaf.
    const derivatives: (Formula | null)[] = [];
    for (let n = 0; n < order.length; n++) {
      const leaf = leafKeys[n];
      if (leaf !== undefined || order[n]!.kind !== "call") {
        derivatives.push(leaf === key ? ONE : null);
        continue;
      }
      // D e = Σᵢ ∂e/∂argᵢ · D argᵢ over the arguments that depend on the leaf.
      const terms: Formula[] = [];
      const args = argsAt[n]!;
      for (let i = 0; i < args.length; i++) {
        const d = derivatives[args[i]!]!;
        if (d !== null) terms.push(fmul(local(n, i), d));
      }
      derivatives.push(terms.length === 0 ? null : terms.length === 1 ? terms[0]! : fadd(...terms));
    }
    return derivatives[order.length - 1] ?? fnum(0);
  });
}
