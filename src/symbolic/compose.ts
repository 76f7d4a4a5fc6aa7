/**
 * Derivation reuse for many expressions over the same ops (the fuzzer): instead of one CAS call
 * per expression and leaf, each op's local derivative ∂op/∂argᵢ is derived by the CAS once per
 * process, over placeholder arguments (a template), and an expression's derivative is composed
 * from the templates by the chain rule, D op(a₁…aₙ) = Σᵢ ∂op/∂argᵢ(a₁…aₙ) · D aᵢ. At one element
 * (the fuzzer's cases, `gradientAt`) on numbers: each op's value and ∂op/∂argᵢ compiled once and
 * evaluated at its arguments' values, accumulated from the root down, no formula built. Over
 * many elements (`composedDerivatives`) as formulas, the arguments' own formulas substituted in,
 * compiled per block. No derivative rule is gradtrio's: each comes from the CAS; only the chain
 * rule joins them.
 *
 * Off by default (check keeps deriving each expression whole, its formulas are shown to people);
 * `withComposedDerivatives` turns it on for a computation.
 */
import { mapPacked } from "../arrays.ts";
import { type CallExpr, call, type Expr, type FlatExpr, variable } from "../expr/ast.ts";
import {
  branchesOf,
  CONSTANTS,
  isBuiltinOp,
  lookupCustomOp,
  type OpDefinition,
  stillRegistered,
} from "../expr/ops.ts";
import { casDiff } from "./cas.ts";
import { compileScalar } from "./evaluate.ts";
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
  /** The definitions it was derived with: the op's (undefined for a built-in), and the custom
   * ops its formula expanded to, nested ones included (stale when any is redefined). */
  readonly defs: readonly (readonly [string, OpDefinition | undefined])[];
  /** The formula compiled for plain numbers in the placeholders' order, on first use. */
  run?: (args: readonly number[]) => number;
}

const TEMPLATE_LIMIT = 4096;
const ONE = fnum(1);
/** Per op, its templates by argument and branch (`3·(i + 1) + branch`; i = −1: the op's value). */
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

/**
 * ∂op/∂argᵢ over placeholder arguments `__d0`, `__d1`…, derived once (per branch, per
 * definition); with i = −1 the op's own formula there, as the CAS reads it.
 */
function template(op: string, arity: number, i: number, branch: Branch): Template {
  let byArgument = templates.get(op);
  const slot = 3 * (i + 1) + branch;
  const hit = byArgument?.[slot];
  if (hit !== undefined && hit.arity === arity && stillRegistered(hit.defs)) return hit;
  const w = new CasWriter((e) => (e.kind === "var" ? e.name : undefined));
  const root = call(
    op,
    Array.from({ length: arity }, (_, k) => variable(placeholder(k))),
  );
  // The root's branch; a piecewise op inside a custom op's formula has none here (the symbolic
  // leg expands such ops into their formulas first: expandCustomOps).
  const branchOf = (e: CallExpr): Branch => {
    if (e !== root) throw new Unavailable(`${op}: a piecewise op inside its formula`);
    return branch;
  };
  let text: string;
  if (i < 0) text = w.write(root, branchOf);
  else {
    const answer = casDiff(w.write(root, branchOf, placeholder(i)), w.symbol(placeholder(i)));
    if (!answer.ok) throw new Unavailable(`∂${op}/∂argument ${i + 1}: ${answer.reason}`);
    text = answer.text;
  }
  const defs: [string, OpDefinition | undefined][] = [
    [op, isBuiltinOp(op) ? undefined : lookupCustomOp(op)],
  ];
  for (const [name, d] of w.expanded) if (name !== op) defs.push([name, d]);
  const made: Template = { formula: readCas(text, w.resolve), arity, defs };
  if (templateCount >= TEMPLATE_LIMIT) {
    templates.clear();
    templateCount = 0;
  }
  byArgument = templates.get(op);
  if (byArgument === undefined) templates.set(op, (byArgument = []));
  byArgument[slot] = made;
  templateCount++;
  return made;
}

/** `template(…)` at the numbers `args` (one per placeholder). */
function templateAt(op: string, i: number, branch: Branch, args: readonly number[]): number {
  const t = template(op, args.length, i, branch);
  t.run ??= compileScalar(t.formula, placeholders.slice(0, args.length));
  return t.run(args);
}

/** A block as a flat list (children before parents, the root last) and each node's leaf key. */
export interface FlatBlock {
  readonly flat: FlatExpr;
  /** The leaf key of each node, undefined for a node inside the block. */
  readonly leafKeys: readonly (string | undefined)[];
  /**
   * The root's index. Every block has one (blockOf: the last node), so that the blocks reaching
   * `gradientAt` share one V8 map (an object without it has another, and its code deopted).
   */
  readonly root: number;
}

/** The block at `root` whose leaves `leafKey` names: the nodes down to its leaves, each once. */
function blockOf(root: Expr, leafKey: (e: Expr) => string | undefined): FlatBlock {
  // Post-order without recursion: expressions may be deep.
  const nodes: Expr[] = [];
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
    at.set(e, nodes.length);
    nodes.push(e);
    leafKeys.push(leaf);
  }
  const argStart = new Int32Array(nodes.length + 1);
  const args: number[] = [];
  for (let n = 0; n < nodes.length; n++) {
    const e = nodes[n]!;
    if (leafKeys[n] === undefined && e.kind === "call")
      for (const a of e.args) args.push(at.get(a)!);
    argStart[n + 1] = args.length;
  }
  return {
    flat: { nodes, argStart, args: Int32Array.from(args) },
    leafKeys,
    root: nodes.length - 1,
  };
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
  const {
    flat: { nodes, argStart, args },
    leafKeys,
  } = blockOf(root, leafKey);
  const formulaOf = w.reader(branch);
  // ∂e/∂argᵢ with the arguments' formulas in place, per call: the same for every key.
  const locals: Formula[][] = nodes.map(() => []);
  const local = (n: number, i: number): Formula => {
    const e = nodes[n] as CallExpr;
    let t = locals[n]![i];
    if (t === undefined) {
      const br = branchesOf(e.op) === undefined ? 0 : branch(e);
      locals[n]![i] = t = substitute(template(e.op, e.args.length, i, br).formula, (name) => {
        const k = argumentOf.get(name);
        return k === undefined ? undefined : formulaOf(e.args[k]!);
      });
    }
    return t;
  };
  return keys.map((key) => {
    // Per node, its derivative; null where it does not depend on the leaf.
    const derivatives: (Formula | null)[] = [];
    for (let n = 0; n < nodes.length; n++) {
      const leaf = leafKeys[n];
      if (leaf !== undefined || nodes[n]!.kind !== "call") {
        derivatives.push(leaf === key ? ONE : null);
        continue;
      }
      // D e = Σᵢ ∂e/∂argᵢ · D argᵢ over the arguments that depend on the leaf.
      const terms: Formula[] = [];
      for (let k = argStart[n]!, i = 0; k < argStart[n + 1]!; k++, i++) {
        const d = derivatives[args[k]!]!;
        if (d !== null) terms.push(fmul(local(n, i), d));
      }
      derivatives.push(terms.length === 0 ? null : terms.length === 1 ? terms[0]! : fadd(...terms));
    }
    return derivatives[nodes.length - 1] ?? fnum(0);
  });
}

/**
 * What `composedDerivatives` gives, at one element and on numbers: each node's value by its op's
 * formula and its local derivatives by the templates, both compiled once per op and evaluated at
 * the arguments' values, joined by the chain rule from the root down (each node once, however
 * many leaves). The same rules, without building the formulas: the fuzzer's cases. Across ops it
 * computes as the other legs do (a value rounds before the next op takes it), where the composed
 * formulas may rewrite (`log(1+x)` as `log1p(x)`). A leaf's value is `leafValue(key)`.
 */
export function composedGradientAt(
  root: Expr,
  branch: (e: CallExpr) => Branch,
  keys: readonly string[],
  leafKey: (e: Expr) => string | undefined,
  leafValue: (key: string) => number,
): number[] {
  return gradientAt(blockOf(root, leafKey), branch, keys, leafValue);
}

/** `composedGradientAt` of a block given flat (the root last). */
export function gradientAt(
  { flat: { nodes, argStart, args }, leafKeys, root }: FlatBlock,
  branch: (e: CallExpr) => Branch,
  keys: readonly string[],
  leafValue: (key: string) => number,
): number[] {
  const m = nodes.length;
  const value = new Float64Array(m);
  const depends = new Uint8Array(m);
  const branches = new Int8Array(m);
  // Each call's argument values, kept for its local derivatives.
  const argv: number[][] = new Array(m);
  for (let n = 0; n < m; n++) {
    const e = nodes[n]!;
    const leaf = leafKeys[n];
    if (leaf !== undefined) {
      value[n] = leafValue(leaf);
      depends[n] = keys.includes(leaf) ? 1 : 0;
    } else if (e.kind === "num") value[n] = e.value;
    else if (e.kind === "const") value[n] = CONSTANTS[e.name];
    else if (e.kind === "call") {
      const from = argStart[n]!;
      const v = (argv[n] = new Array<number>(argStart[n + 1]! - from));
      for (let i = 0; i < v.length; i++) {
        const a = args[from + i]!;
        v[i] = value[a]!;
        depends[n] |= depends[a]!;
      }
      const br = branchesOf(e.op) === undefined ? 0 : branch(e);
      branches[n] = br;
      value[n] = templateAt(e.op, -1, br, v);
    }
  }
  // Adjoints, d root / d node: each node's is complete before it passes it on (post-order).
  const adjoint = new Float64Array(m);
  adjoint[root] = 1;
  for (let n = root; n >= 0; n--) {
    const v = argv[n];
    if (v === undefined || depends[n] === 0) continue;
    const op = (nodes[n] as CallExpr).op;
    for (let i = 0, k = argStart[n]!; i < v.length; i++, k++)
      if (depends[args[k]!] === 1)
        adjoint[args[k]!] += adjoint[n]! * templateAt(op, i, branches[n] as Branch, v);
  }
  const out = mapPacked(keys, () => 0);
  for (let n = 0; n < m; n++) {
    const leaf = leafKeys[n];
    if (leaf !== undefined && depends[n] === 1) out[keys.indexOf(leaf)]! += adjoint[n]!;
  }
  return out;
}
