/**
 * The chain rule as the teaching view shows it, computed once (explain, --dot and the teach page
 * render it): the graph autograd records for an expression — shared subexpressions one node, only
 * the `wrt` variables leaves with gradients, PyTorch's grad_fn names — each edge's local
 * derivative as a student writes it (src/teach/rules.ts), each node's gradient accumulated in
 * reverse mode, the paths from the output to each leaf, and the total simplified by the CAS.
 *
 * Pure: no Node.js APIs, so the page runs it in the browser.
 */
import { type DType, enableGrad, type Tensor, tensor, tensorAlgebra } from "../autograd/index.ts";
import { GradtrioError } from "../errors.ts";
import { call, type Expr, postOrder, variable } from "../expr/ast.ts";
import { broadcastIndex, expandTo, matmulDims, sameShape, sizeOfShape } from "../expr/broadcast.ts";
import { interpretAll } from "../expr/interpret.ts";
import { BUILTIN_OPS, isBuiltinOp, isTensorOp, lookupCustomOp } from "../expr/ops.ts";
import type { Value } from "../expr/point.ts";
import { print } from "../expr/print.ts";
import { checkScalarOutput } from "../expr/shapes.ts";
import { casSimplifySum } from "../symbolic/cas.ts";
import { compileFormula } from "../symbolic/evaluate.ts";
import {
  type Formula,
  fadd,
  fconst,
  ffn,
  fmul,
  fnum,
  fpow,
  fsym,
  simplify,
  substitute,
  symbolsOf,
} from "../symbolic/formula.ts";
import { localDerivative } from "../symbolic/local.ts";
import { toLatex, toPlain } from "../symbolic/print.ts";
import { readCas } from "../symbolic/read-cas.ts";
import { type LocalForm, RECIPROCAL_RULE, RULES, type RuleInput, SCALE_RULE } from "./rules.ts";

/** A tensor value: row-major data and its shape. */
export interface Arr {
  readonly data: Float64Array;
  readonly shape: readonly number[];
}

/**
 * A node of the graph. `leaf`: a variable autograd differentiates for (requires grad, grad_fn
 * None, gets a gradient); `data`: a variable that does not require grad, or a value computed from
 * such variables only (`1 - y`); `op`: a node autograd records, with its grad_fn.
 */
export interface ChainNode {
  readonly id: number;
  readonly name: string;
  /** Whether the name is the user's (a variable or a named intermediate), not a made-up uₖ. */
  readonly named: boolean;
  readonly kind: "leaf" | "data" | "op";
  /** What it computes, with its inputs by name: `sigmoid(z)`, `1/x`; a variable's own name. */
  readonly text: string;
  readonly gradFn: string | null;
  readonly value: Arr;
  /** ∂output/∂node (leaf and op nodes); null where a local derivative is unknown. */
  grad: Arr | null;
  /** Why `grad` is null. */
  gradUnavailable: string | null;
  /** Every argument that is a node (data included), in order; null for a constant. */
  readonly args: readonly (ChainNode | null)[];
  /** The edges into this node from the nodes that use it (its gradient's terms). */
  readonly uses: ChainEdge[];
  /** The edges to the inputs autograd differentiates for. */
  readonly inputs: ChainEdge[];
}

/** From a node (`from`) to one of its inputs (`to`): the local derivative ∂from/∂to. */
export interface ChainEdge {
  readonly from: ChainNode;
  readonly to: ChainNode;
  readonly arg: number;
  readonly plain: string;
  readonly latex: string;
  /** The local derivative at the point: over `from`'s shape (elementwise), `to`'s (reductions). */
  readonly value: Arr | null;
  readonly note: string | null;
  /** Why `value` is null. */
  readonly unavailable: string | null;
  /** ∂output/∂from times this local derivative, summed to `to`'s shape: one term of ∂output/∂to. */
  contribution: Arr | null;
  /** The local derivative as a formula over node names (scalar graphs; for the simplified total). */
  readonly formula: Formula | null;
  /** A local derivative that is a linear map on the gradient, not a factor (`value` its data). */
  readonly map: "matmul" | "softmax" | null;
  /** The chain is in float32: every step of the chain rule rounds to float32. */
  readonly float32: boolean;
}

export interface Chain {
  /** Children before parents; the output last. */
  readonly nodes: readonly ChainNode[];
  readonly output: ChainNode;
  /** The variables with gradients, in the point's order. */
  readonly wrt: readonly string[];
  readonly leaves: ReadonlyMap<string, ChainNode>;
  /**
   * Scalar graphs: what an unnamed node (or a piecewise one, on its branch at the point) stands
   * for in terms of its inputs, so that a closed-form total reads in the user's names.
   */
  readonly definitions: ReadonlyMap<string, Formula>;
  /** The arithmetic of the values, the local derivatives and the chain rule's steps. */
  readonly dtype: DType;
}

export interface ChainOptions {
  /** The variables to differentiate for (default: every variable of the point). */
  readonly wrt?: readonly string[];
  /** Names of intermediate nodes (`z = w*x+b; …`): node → name. */
  readonly names?: ReadonlyMap<Expr, string>;
  /**
   * "float32": the values in float32 (the point rounded, `Math.fround` after each op, as the
   * engine computes them), and so every local derivative and every step of the chain rule, as a
   * notebook computes its "manual" gradient on float32 tensors. Default float64.
   */
  readonly dtype?: DType;
}

const SCALAR: readonly number[] = [];
const toArr = (t: Tensor): Arr => ({ data: t.data, shape: t.shape });

/** An argument of a node: another node, or a constant written in the expression. */
type Input = { readonly node: ChainNode } | { readonly constant: Formula; readonly value: number };

/**
 * The graph of `expr` at the point `values`, with every local derivative and every node's
 * gradient. Throws a GradtrioError for a `wrt` name that is not a variable of the point, and for
 * an output that is not a scalar (NON_SCALAR).
 * @example
 * const c = buildChain(parse("sin(x^2)"), toValues({ x: 3 }));
 * c.leaves.get("x")!.grad!.data[0]; // 2·3·cos 9 = -5.466781571308061
 */
export function buildChain(
  expr: Expr,
  values: ReadonlyMap<string, Value>,
  opts: ChainOptions = {},
): Chain {
  const wrt = opts.wrt ?? [...values.keys()];
  for (const n of wrt)
    if (!values.has(n))
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `--wrt names '${n}', which is not a variable of the point (${[...values.keys()].join(", ")})`,
      );
  const wrtSet = new Set(wrt);
  const dtype = opts.dtype ?? "float64";
  const f32 = dtype === "float32";
  /** A number written in the expression, as the dtype's arithmetic sees it. */
  const round = (v: number) => (f32 ? Math.fround(v) : v);
  const leafTensors = new Map<string, Tensor>();
  for (const [n, v] of values)
    leafTensors.set(
      n,
      tensor(Float64Array.from(v.data), { shape: v.shape, requiresGrad: wrtSet.has(n), dtype }),
    );
  const tensors = enableGrad(() => interpretAll(expr, tensorAlgebra(leafTensors)));

  const used = new Set<string>([...values.keys(), ...(opts.names?.values() ?? [])]);
  let k = 0;
  const fresh = (): string => {
    let n: string;
    do n = `u${++k}`;
    while (used.has(n));
    used.add(n);
    return n;
  };
  const nodes: ChainNode[] = [];
  const make = (
    name: string,
    named: boolean,
    kind: ChainNode["kind"],
    text: string,
    gradFn: string | null,
    value: Arr,
    args: readonly Input[] = [],
  ): ChainNode => {
    const n: ChainNode = {
      id: nodes.length,
      name,
      named,
      kind,
      text,
      gradFn,
      value,
      args: args.map((i) => ("node" in i ? i.node : null)),
      grad: null,
      gradUnavailable: null,
      uses: [],
      inputs: [],
    };
    nodes.push(n);
    return n;
  };

  const byExpr = new Map<Expr, Input>();
  const vars = new Map<string, ChainNode>();
  const rules = new Map<ChainNode, { op: string; inputs: Input[]; rule?: typeof SCALE_RULE }>();
  const order = postOrder(expr);
  const rootName = opts.names?.get(expr) ?? (used.has("f") ? fresh() : "f");
  used.add(rootName);
  for (const e of order) {
    const t = tensors.get(e)!;
    if (e.kind === "num") byExpr.set(e, { constant: fnum(e.value), value: round(e.value) });
    else if (e.kind === "const")
      byExpr.set(e, { constant: fconst(e.name), value: round(t.item()) });
    else if (e.kind === "var") {
      let n = vars.get(e.name);
      if (n === undefined) {
        n = make(e.name, true, wrtSet.has(e.name) ? "leaf" : "data", e.name, null, toArr(t));
        vars.set(e.name, n);
      }
      byExpr.set(e, { node: n });
    } else {
      const inputs = e.args.map((a) => byExpr.get(a)!);
      if (inputs.every((i) => "constant" in i)) {
        byExpr.set(e, { constant: fnum(t.item()), value: round(t.item()) });
        continue;
      }
      const given = opts.names?.get(e);
      const nameOf = () => (e === expr ? rootName : (given ?? fresh()));
      const kind = t.requiresGrad ? "op" : "data";
      const textOf = (ins: readonly Input[], op = e.op) =>
        print(
          call(
            op,
            e.args.map((a, i) => {
              const x = ins[i]!;
              return "node" in x ? variable(x.node.name) : a;
            }),
          ),
        );
      // Python's `c / x` for a plain number c is `x.reciprocal() * c`: two nodes.
      const [num, den] = inputs;
      if (e.op === "div" && kind === "op" && "constant" in num! && "node" in den!) {
        const inner = t.gradFn!.nextFunctions[0]![0]!;
        const d = den.node.value;
        const rv = { data: d.data.map((v) => round(1 / v)), shape: d.shape };
        const r = make(fresh(), false, "op", `1/${den.node.name}`, inner.name, rv, [den]);
        rules.set(r, { op: "reciprocal", inputs: [den], rule: RECIPROCAL_RULE });
        const text = `${r.name}*${print(e.args[0]!)}`;
        const n = make(nameOf(), given !== undefined, kind, text, t.gradFn!.name, toArr(t), [
          { node: r },
          num,
        ]);
        rules.set(n, { op: "mul", inputs: [{ node: r }, num], rule: SCALE_RULE });
        byExpr.set(e, { node: n });
        continue;
      }
      const n = make(
        nameOf(),
        given !== undefined,
        kind,
        textOf(inputs),
        t.gradFn?.name ?? null,
        toArr(t),
        inputs,
      );
      rules.set(n, { op: e.op, inputs });
      byExpr.set(e, { node: n });
    }
  }
  const rootInput = byExpr.get(expr)!;
  const output =
    "node" in rootInput
      ? rootInput.node
      : make(rootName, false, "data", print(expr), null, {
          data: Float64Array.of(rootInput.value),
          shape: SCALAR,
        });

  // Unnamed elementary nodes (w*x, 1 - p, sin(x)) and piecewise ops on their branch are
  // substituted into a closed-form total; a named node, or an unnamed sigmoid, stays a name
  // (`x*(u3-y)`: the CAS does not simplify the sigmoid written out).
  const definitions = new Map<string, Formula>();
  for (const [n, r] of rules) {
    const piecewise = ["clamp", "relu", "maximum", "minimum"].includes(r.op);
    if (!piecewise && (n.named || !ELEMENTARY.has(r.op))) continue;
    const d = definitionOf(r.op, r.inputs);
    if (d !== null) definitions.set(n.name, d);
  }

  // The local derivatives: an edge from each op node to each input that requires grad.
  for (const n of nodes) {
    const r = rules.get(n);
    if (r === undefined || n.kind !== "op") continue;
    const locals = localsOf(n, r.op, r.inputs, f32, r.rule);
    r.inputs.forEach((input, i) => {
      if (!("node" in input) || input.node.kind === "data") return;
      const l = locals[i]!;
      const edge: ChainEdge = {
        from: n,
        to: input.node,
        arg: i,
        contribution: null,
        float32: f32,
        ...l,
      };
      n.inputs.push(edge);
      input.node.uses.push(edge);
    });
  }

  // Reverse mode: each node's gradient is the sum of what its users pass down, computed once,
  // from ∂output/∂output = 1 (a vector output has no such seed: its derivative is a Jacobian).
  checkScalarOutput(output.value.shape, { expr });
  if (output.kind !== "data") output.grad = { data: Float64Array.of(1), shape: output.value.shape };
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.kind === "data") continue;
    if (n !== output) {
      let acc: Arr | null = { data: new Float64Array(n.value.data.length), shape: n.value.shape };
      for (const u of n.uses) {
        if (u.contribution === null) {
          acc = null;
          n.gradUnavailable ??= u.from.gradUnavailable ?? u.unavailable ?? "—";
          continue;
        }
        if (acc !== null)
          for (let j = 0; j < acc.data.length; j++)
            acc.data[j] = round(acc.data[j]! + u.contribution.data[j]!);
      }
      n.grad = acc;
    }
    for (const e of n.inputs) e.contribution = n.grad === null ? null : stepBack(e, n.grad);
  }
  const leaves = new Map<string, ChainNode>();
  for (const w of wrt) {
    const n = vars.get(w);
    if (n !== undefined) leaves.set(w, n);
  }
  return { nodes, output, wrt, leaves, definitions, dtype };
}

const ELEMENTARY = new Set([
  ...["add", "sub", "mul", "div", "reciprocal", "neg", "pow"],
  ...["sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "abs", "log1p", "expm1"],
  ...["asin", "acos", "atan", "sinh", "cosh", "erf"],
]);

/** A node's value as a formula of its inputs (scalars only; null where none is written). */
function definitionOf(op: string, inputs: readonly Input[]): Formula | null {
  const scalar = (i: Input) => ("node" in i ? i.node.value.data.length === 1 : true);
  if (!inputs.every(scalar)) return null;
  const [a, b] = inputs.map((i) => ("node" in i ? fsym(i.node.name) : i.constant)) as Formula[];
  const v = inputs.map((i) => ("node" in i ? i.node.value.data[0]! : i.value));
  const m1 = (x: Formula) => fmul(fnum(-1), x);
  switch (op) {
    case "add":
      return fadd(a!, b!);
    case "sub":
      return fadd(a!, m1(b!));
    case "mul":
      return fmul(a!, b!);
    case "div":
      return fmul(a!, fpow(b!, fnum(-1)));
    case "reciprocal":
      return fpow(a!, fnum(-1));
    case "pow":
      return fpow(a!, b!);
    case "neg":
      return m1(a!);
    case "sin":
    case "cos":
    case "tan":
    case "exp":
    case "log":
    case "sqrt":
    case "tanh":
    case "abs":
    case "asin":
    case "acos":
    case "atan":
    case "sinh":
    case "cosh":
    case "erf":
      return ffn(op, a!);
    case "expm1":
      return fadd(ffn("exp", a!), fnum(-1));
    case "maximum":
      return v[0]! > v[1]! ? a! : v[1]! > v[0]! ? b! : null;
    case "minimum":
      return v[0]! < v[1]! ? a! : v[1]! < v[0]! ? b! : null;
    case "log1p":
      return ffn("log", fadd(fnum(1), a!));
    case "sigmoid":
      return fpow(fadd(fnum(1), ffn("exp", m1(a!))), fnum(-1));
    case "softplus":
      return ffn("log", fadd(fnum(1), ffn("exp", a!)));
    case "relu":
      return v[0]! > 0 ? a! : fnum(0);
    case "clamp": {
      const [x, lo, hi] = v as [number, number, number];
      return x < lo ? inputFormula(inputs[1]!) : x > hi ? inputFormula(inputs[2]!) : a!;
    }
    default:
      return null;
  }
}

const inputFormula = (i: Input): Formula => ("node" in i ? fsym(i.node.name) : i.constant);

type Local = Omit<ChainEdge, "from" | "to" | "arg" | "contribution" | "float32">;

const inputValue = (i: Input): Arr =>
  "node" in i ? i.node.value : { data: Float64Array.of(i.value), shape: SCALAR };

/** Each argument's local derivative at the point, from the rule table (or the CAS). */
function localsOf(
  n: ChainNode,
  op: string,
  inputs: readonly Input[],
  f32: boolean,
  special?: typeof SCALE_RULE,
): (Local | null)[] {
  const builtin = isBuiltinOp(op);
  const reduction = builtin && BUILTIN_OPS[op].kind === "reduction";
  const rule = special ?? (builtin ? RULES[op] : "cas");
  if (rule === "linear") return op === "matmul" ? matmulLocals(inputs) : [softmaxLocal(n)];
  const shape = reduction ? inputValue(inputs[0]!).shape : n.value.shape;
  const scalarGraph = shape.length === 0 && inputs.every((i) => inputValue(i).shape.length === 0);
  const cols = (slots: readonly string[], self: Arr) =>
    slots.map((s) => {
      const a = s === n.name ? self : nodeValue(inputs, s);
      return a.data.length === 1 ? a.data[0]! : expand(a, shape).data;
    });
  const custom = builtin ? undefined : lookupCustomOp(op);
  if (custom !== undefined && isTensorOp(custom))
    return inputs.map((i) =>
      "node" in i ? unavailableLocal("a tensor op: its Jacobian, applied by its backward") : null,
    );
  if (rule === "cas") {
    // A custom op: its local derivatives come from the CAS, from its declared formula.
    const texts = inputs.map((i) => ("node" in i ? i.node.name : toPlain(i.constant)));
    const derived = localDerivative(op, texts);
    return derived.map((d, i) => {
      if (!("node" in inputs[i]!)) return null;
      if (d.status !== "ok")
        return unavailableLocal(
          / has no formula$/.test(d.reason) ? "op has no formula" : `CAS: ${d.reason}`,
        );
      const data = new Float64Array(sizeOfShape(shape));
      const args = inputs.map((x) => expand(inputValue(x), shape));
      for (let j = 0; j < data.length; j++) {
        const v = d.evaluate(args.map((a) => a.data[j]!));
        data[j] = f32 ? Math.fround(v) : v;
      }
      return {
        plain: d.formula,
        latex: d.latex,
        value: { data, shape },
        note: null,
        unavailable: null,
        formula: null,
        map: null,
      };
    });
  }
  const input: RuleInput = {
    args: inputs.map((i) => ("node" in i ? fsym(i.node.name) : i.constant)),
    out: fsym(n.name),
    size: sizeOfShape(inputValue(inputs[0]!).shape),
  };
  const forms: LocalForm[] = rule(input);
  return forms.map((form, i): Local | null => {
    if (!("node" in inputs[i]!)) return null;
    if (form.kind === "mask") {
      const args = inputs.map((x) => expand(inputValue(x), shape));
      const out = expand(n.value, shape).data;
      const data = new Float64Array(sizeOfShape(shape));
      for (let j = 0; j < data.length; j++)
        data[j] = form.keep(
          args.map((a) => a.data[j]!),
          out[j]!,
        );
      return {
        plain: form.plain,
        latex: form.latex,
        value: { data, shape },
        note: form.note ?? null,
        unavailable: null,
        formula: scalarGraph ? fnum(data[0]!) : null,
        map: null,
      };
    }
    const formula = simplify(form.formula);
    const slots = [...symbolsOf(formula)];
    const run = compileFormula(formula, slots, { float32: f32 });
    const col = run(cols(slots, n.value));
    const data =
      typeof col === "number"
        ? new Float64Array(sizeOfShape(shape)).fill(col)
        : Float64Array.from(col);
    return {
      plain: toPlain(formula),
      latex: toLatex(formula),
      value: { data, shape },
      note: form.note ?? null,
      unavailable: null,
      formula: scalarGraph ? formula : null,
      map: null,
    };
  });
}

/** softmax: per row y ⊙ (G − Σ G ⊙ y), with y its output. */
function softmaxLocal(n: ChainNode): Local {
  return {
    plain: `G ↦ ${n.name}⊙(G − Σ G⊙${n.name})`,
    latex: `G \\mapsto ${n.name} \\odot (G - \\textstyle\\sum G \\odot ${n.name})`,
    value: n.value,
    note: "per row of the last dimension",
    unavailable: null,
    formula: null,
    map: "softmax",
  };
}

function nodeValue(inputs: readonly Input[], name: string): Arr {
  for (const i of inputs) if ("node" in i && i.node.name === name) return i.node.value;
  throw new Error(`no input named ${name}`);
}

const unavailableLocal = (why: string): Local => ({
  plain: "—",
  latex: "—",
  value: null,
  note: null,
  unavailable: why,
  formula: null,
  map: null,
});

function matmulLocals(inputs: readonly Input[]): (Local | null)[] {
  const [a, b] = inputs as [Input, Input];
  const nameOf = (i: Input) => ("node" in i ? i.node.name : toPlain(i.constant));
  const linear = (plain: string, latex: string, v: Arr, note: string): Local => ({
    plain,
    latex,
    value: v,
    note,
    unavailable: null,
    formula: null,
    map: "matmul",
  });
  return [
    "node" in a
      ? linear(
          `G ↦ G·${nameOf(b)}ᵀ`,
          `G \\mapsto G ${nameOf(b)}^\\top`,
          inputValue(b),
          "matmul is linear: the gradient G of the product times the other factor",
        )
      : null,
    "node" in b
      ? linear(
          `G ↦ ${nameOf(a)}ᵀ·G`,
          `G \\mapsto ${nameOf(a)}^\\top G`,
          inputValue(a),
          "matmul is linear: the other factor, transposed, times the gradient G",
        )
      : null,
  ];
}

function expand(a: Arr, shape: readonly number[]): Arr {
  return { data: expandTo(a.data, a.shape, shape), shape };
}

/**
 * Sums a gradient over the node's shape back to an argument's (broadcast) shape, each addition
 * rounded by `r` (float32): not src/expr/broadcast.ts's `sumTo`, which adds in float64.
 */
function sumTo(g: Arr, shape: readonly number[], r: (v: number) => number): Arr {
  if (sameShape(g.shape, shape)) return g;
  const idx = broadcastIndex(shape, g.shape);
  const data = new Float64Array(sizeOfShape(shape));
  for (let j = 0; j < idx.length; j++) data[idx[j]!] = r(data[idx[j]!]! + g.data[j]!);
  return { data, shape };
}

/**
 * Passes `upstream` (∂output/∂from, over from's shape) through one edge, as the chain rule
 * says: ∂output/∂from · ∂from/∂to, summed back to to's shape. Null when the local is unknown.
 * In a float32 chain each product and each sum rounds to float32.
 */
export function stepBack(e: ChainEdge, upstream: Arr): Arr | null {
  const L = e.value;
  if (L === null) return null;
  const r = e.float32 ? Math.fround : (v: number) => v;
  const to = e.to.value.shape;
  if (e.map === "softmax") {
    // Each row of the last dimension: y_i (G_i − Σ_j G_j y_j).
    const y = L.data;
    const G = upstream.data;
    const len = L.shape.at(-1) ?? 1;
    const out = new Float64Array(y.length);
    for (let row = 0; row < y.length; row += len) {
      let dot = 0;
      for (let i = row; i < row + len; i++) dot = r(dot + r(G[i]! * y[i]!));
      for (let i = row; i < row + len; i++) out[i] = r(y[i]! * r(G[i]! - dot));
    }
    return { data: out, shape: to };
  }
  if (e.map === "matmul") {
    // matmul: G·Bᵀ for the first factor, Aᵀ·G for the second.
    const [a, b] = e.arg === 0 ? [null, L] : [L, null];
    const A = a ?? e.to.value;
    const B = b ?? e.to.value;
    const { m, k, n } = matmulDims(A.shape, B.shape);
    const G = upstream.data;
    const out = new Float64Array(e.arg === 0 ? m * k : k * n);
    if (e.arg === 0)
      for (let i = 0; i < m; i++)
        for (let p = 0; p < k; p++) {
          let acc = 0;
          for (let j = 0; j < n; j++) acc = r(acc + r(G[i * n + j]! * B.data[p * n + j]!));
          out[i * k + p] = acc;
        }
    else
      for (let p = 0; p < k; p++)
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let i = 0; i < m; i++) acc = r(acc + r(A.data[i * k + p]! * G[i * n + j]!));
          out[p * n + j] = acc;
        }
    return { data: out, shape: to };
  }
  // Reductions: a scalar upstream times each element's local; elementwise: the product, then
  // summed back over the elements an argument was broadcast to.
  const ge = expand(upstream, L.shape);
  const prod = new Float64Array(L.data.length);
  for (let j = 0; j < prod.length; j++) prod[j] = r(ge.data[j]! * L.data[j]!);
  return sumTo({ data: prod, shape: L.shape }, to, r);
}

/** How many paths lead from the output down to `leaf`. */
export function pathCount(chain: Chain, leaf: ChainNode): number {
  const count = new Map<ChainNode, number>([[chain.output, 1]]);
  for (let i = chain.nodes.length - 1; i >= 0; i--) {
    const n = chain.nodes[i]!;
    const c = count.get(n) ?? 0;
    if (c === 0) continue;
    for (const e of n.inputs) count.set(e.to, (count.get(e.to) ?? 0) + c);
  }
  return count.get(leaf) ?? 0;
}

/** Every path from the output down to `leaf` (edges, top first), or null beyond `limit` paths. */
export function pathsTo(chain: Chain, leaf: ChainNode, limit: number): ChainEdge[][] | null {
  if (pathCount(chain, leaf) > limit) return null;
  const out: ChainEdge[][] = [];
  const stack: { n: ChainNode; edges: ChainEdge[] }[] = [{ n: chain.output, edges: [] }];
  while (stack.length > 0) {
    const { n, edges } = stack.pop()!;
    if (n === leaf) {
      out.push(edges);
      continue;
    }
    for (let i = n.inputs.length - 1; i >= 0; i--) {
      const e = n.inputs[i]!;
      stack.push({ n: e.to, edges: [...edges, e] });
    }
  }
  return out;
}

/** The product of the local derivatives along a path, as the chain rule multiplies them. */
export function pathProduct(path: readonly ChainEdge[]): Arr | null {
  let run: Arr | null = { data: Float64Array.of(1), shape: SCALAR };
  for (const e of path) run = run === null ? null : stepBack(e, run);
  return run;
}

/** A total in closed form: the CAS's simplification of the path sum. */
export interface Simplified {
  readonly plain: string;
  readonly latex: string;
}

/**
 * ∂output/∂leaf in closed form over the graph's names (`x*(p-y)` for the BCE of a sigmoid):
 * the path sum, each product simplified, then the sum; checked against the accumulated value at
 * the point. Null for tensor graphs, too many paths, or when the CAS cannot give it.
 */
export function simplifiedTotal(chain: Chain, leaf: ChainNode, limit = 16): Simplified | null {
  const paths = pathsTo(chain, leaf, limit);
  if (paths === null || paths.length === 0 || leaf.grad === null) return null;
  if (paths.some((p) => p.some((e) => e.formula === null))) return null;
  const symbol = new Map<string, string>();
  const back = new Map<string, string>();
  const names = {
    plain: (n: string) => {
      let s = symbol.get(n);
      if (s === undefined) {
        s = `v${symbol.size}`;
        symbol.set(n, s);
        back.set(s, n);
      }
      return s;
    },
    latex: (n: string) => n,
  };
  // Unnamed nodes by their definitions, until only the user's names are left.
  const expand = (f: Formula): Formula =>
    substitute(f, (n) => {
      const d = chain.definitions.get(n);
      return d === undefined ? undefined : expand(d);
    });
  const terms = paths.map((p) => p.map((e) => `(${toPlain(expand(e.formula!), names)})`).join("*"));
  const answer = casSimplifySum(terms);
  if (!answer.ok) return null;
  let f: Formula;
  try {
    f = readCas(answer.text, (s) =>
      back.has(s) ? fsym(back.get(s)!) : s === "e" || s === "pi" ? fconst(s) : undefined,
    );
  } catch {
    return null;
  }
  const byName = new Map(chain.nodes.map((n) => [n.name, n]));
  const slots = [...symbolsOf(f)];
  const got = compileFormula(f, slots)(slots.map((s) => byName.get(s)!.value.data[0]!)) as number;
  const want = leaf.grad.data[0]!;
  // float32: the accumulated value carries float32 rounding, the closed form is evaluated in float64.
  const rtol = chain.dtype === "float32" ? 1e-5 : 1e-9;
  if (!(Math.abs(got - want) <= rtol * Math.max(1, Math.abs(want)))) return null;
  return { plain: toPlain(f), latex: toLatex(f) };
}
