/**
 * `gradtrio explain EXPR --at …`: the seed notebooks' "manual vs automatic", for any expression.
 *  1. the computation graph autograd records, with PyTorch's grad_fn names and forward values;
 *  2. the chain rule by hand along each path from the output to each input: every local
 *     derivative derived by the CAS and evaluated at the point, and the running product;
 *  3. the three legs side by side, with the by-hand result, and the verdict.
 */
import { enableGrad, type Tensor, tensor, tensorAlgebra } from "../autograd/index.ts";
import type { Report } from "../check/report.ts";
import { type CallExpr, call, type Expr, postOrder, variable } from "../expr/ast.ts";
import { interpretAll } from "../expr/interpret.ts";
import { BUILTIN_OPS, isBuiltinOp } from "../expr/ops.ts";
import { fromValue, type NestedArray, toValues, type Value } from "../expr/point.ts";
import { print } from "../expr/print.ts";
import { loadOps } from "../fuzz/load.ts";
import { broadcastIndex, matmulDims } from "../numeric/broadcast.ts";
import { symbolicLeg } from "../symbolic/leg.ts";
import { type CheckFlags, runCheck, verdictLine } from "./check-command.ts";
import {
  type Colors,
  colorsFor,
  errorText,
  flat,
  full,
  short,
  table,
  valueText,
} from "./format.ts";
import { type CliIO, EXIT } from "./io.ts";
import { type Prepared, prepare } from "./prepare.ts";
import { reportError } from "./report-error.ts";

/** Paths listed per input; beyond that only their sum is shown. */
const MAX_PATHS = 12;

export async function explainCommand(
  source: string,
  flags: CheckFlags,
  io: CliIO,
): Promise<number> {
  let lines: string[];
  try {
    if (flags.ops !== undefined) await loadOps(flags.ops, io.cwd);
    const p = prepare(source, flags.at, io.cwd, flags.wrt);
    lines = explainLines(p, flags, colorsFor(io.isTTY));
  } catch (e) {
    return reportError(e, io);
  }
  for (const l of lines) io.out(l);
  return EXIT.ok;
}

/** A tensor value: row-major data and its shape. */
interface Arr {
  readonly data: Float64Array;
  readonly shape: readonly number[];
}

/** One local derivative ∂node/∂arg_i: the CAS formula and its value at the point. */
interface Local {
  readonly formula: string;
  /** Elementwise ops: over the node's (broadcast) shape; reductions: over the argument's shape. */
  readonly value: Arr | null;
  readonly note: string | null;
  /** Why `value` is null, for the total: "op has no formula". */
  readonly unavailable?: string;
}

/** The graph: every node that depends on an input, named, with its autograd tensor. */
interface Graph {
  readonly root: Expr;
  readonly name: Map<Expr, string>;
  readonly tensor: Map<Expr, Tensor>;
  /** The call nodes that depend on an input, children first. */
  readonly calls: CallExpr[];
  readonly dependsOnInput: (e: Expr) => boolean;
}

const toArr = (t: Tensor): Arr => ({ data: t.data, shape: t.shape });

function buildGraph(expr: Expr, values: Map<string, Value>): Graph {
  const leaves = new Map<string, Tensor>();
  for (const [n, v] of values)
    leaves.set(n, tensor(Float64Array.from(v.data), { shape: v.shape, requiresGrad: true }));
  const tensors = enableGrad(() => interpretAll(expr, tensorAlgebra(leaves)));
  const dependsOnInput = (e: Expr) => e.kind === "var" || tensors.get(e)?.requiresGrad === true;
  const used = new Set<string>([...values.keys()]);
  const name = new Map<Expr, string>();
  const calls: CallExpr[] = [];
  let k = 0;
  const fresh = (): string => {
    let n: string;
    do n = `u${++k}`;
    while (used.has(n));
    used.add(n);
    return n;
  };
  for (const e of postOrder(expr)) {
    if (e.kind === "var") name.set(e, e.name);
    else if (e.kind === "call" && dependsOnInput(e)) {
      calls.push(e);
      name.set(e, e === expr && !used.has("f") ? "f" : fresh());
    }
  }
  return { root: expr, name, tensor: tensors, calls, dependsOnInput };
}

/** The node's op with its graph children replaced by their names: `sigmoid(u2)`. */
function nodeText(e: CallExpr, g: Graph): string {
  return print(
    call(
      e.op,
      e.args.map((a) => (g.name.has(a) ? variable(g.name.get(a)!) : a)),
    ),
  );
}

function expand(a: Arr, shape: readonly number[]): Arr {
  if (a.shape.length === shape.length && a.shape.every((d, i) => d === shape[i])) return a;
  const idx = broadcastIndex(a.shape, shape);
  const data = new Float64Array(idx.length);
  for (let k = 0; k < idx.length; k++) data[k] = a.data[idx[k]!]!;
  return { data, shape };
}

/** Sums a gradient over the node's shape back to an argument's (broadcast) shape. */
function sumTo(g: Arr, shape: readonly number[]): Arr {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const idx = broadcastIndex(shape, g.shape);
  let n = 1;
  for (const d of shape) n *= d;
  const data = new Float64Array(n);
  for (let k = 0; k < idx.length; k++) data[idx[k]!]! += g.data[k]!;
  return { data, shape };
}

/**
 * The local derivatives of one node, by the CAS: the node's op is differentiated on its own,
 * with its graph children as symbols (named as in the graph), at their forward values.
 */
function localDerivatives(e: CallExpr, g: Graph): (Local | null)[] {
  const out = toArr(g.tensor.get(e)!);
  const locals: (Local | null)[] = e.args.map(() => null);
  if (e.op === "matmul") {
    const [a, b] = e.args.map((x) => toArr(g.tensor.get(x)!)) as [Arr, Arr];
    const [na, nb] = e.args.map((x) => g.name.get(x) ?? print(x)) as [string, string];
    if (g.dependsOnInput(e.args[0]!))
      locals[0] = {
        formula: `G ↦ G·${nb}ᵀ`,
        value: b,
        note: "matmul is linear: the gradient G of the product times the other factor",
      };
    if (g.dependsOnInput(e.args[1]!))
      locals[1] = {
        formula: `G ↦ ${na}ᵀ·G`,
        value: a,
        note: "matmul is linear: the other factor, transposed, times the gradient G",
      };
    return locals;
  }
  const elementwise = isBuiltinOp(e.op) ? BUILTIN_OPS[e.op].kind === "elementwise" : true;
  const names = new Map<string, number>();
  const symbols: (string | null)[] = [];
  const values = new Map<string, Value>();
  const args = e.args.map((a) => {
    if (!g.dependsOnInput(a)) {
      symbols.push(null);
      return a;
    }
    let s = g.name.get(a)!;
    const seen = names.get(s) ?? 0;
    names.set(s, seen + 1);
    if (seen > 0) s = `${s}_${seen + 1}`; // the same input twice in one op: one symbol each
    symbols.push(s);
    const v = toArr(g.tensor.get(a)!);
    const x = elementwise ? expand(v, out.shape) : v;
    values.set(s, { data: Float64Array.from(x.data), shape: x.shape });
    return variable(s);
  });
  let local: Expr = call(e.op, args);
  if (elementwise && out.shape.length > 0) local = call("sum", [local]);
  let result: ReturnType<typeof symbolicLeg>;
  try {
    result = symbolicLeg(local, values);
  } catch (err) {
    result = { status: "unavailable", reason: (err as Error).message };
  }
  symbols.forEach((s, i) => {
    if (s === null) return;
    if (result.status !== "ok") {
      locals[i] = {
        formula: "—",
        value: null,
        note: `CAS: ${result.status}: ${result.reason}`,
        unavailable: / has no formula$/.test(result.reason)
          ? "op has no formula"
          : `the CAS could not derive ∂${g.name.get(e)}/∂${s}`,
      };
      return;
    }
    locals[i] = {
      formula: result.formulas.get(s) ?? "—",
      value: { data: result.gradients.get(s)!, shape: values.get(s)!.shape },
      note:
        e.op === "mean" || e.op === "sum"
          ? "for each element"
          : e.op === "clamp"
            ? clampNote(g.tensor.get(e.args[0]!)!, e, g)
            : null,
    };
  });
  return locals;
}

function clampNote(x: Tensor, e: CallExpr, g: Graph): string | null {
  const lo = g.tensor.get(e.args[1]!)!;
  const hi = g.tensor.get(e.args[2]!)!;
  if (x.numel !== 1 || lo.numel !== 1 || hi.numel !== 1) return null;
  const v = x.data[0]!;
  if (v > lo.data[0]! && v < hi.data[0]!)
    return `inside the bounds: clamp passes ${g.name.get(e.args[0]!)} through`;
  return "at or beyond a bound: clamp is constant there";
}

/** One step of a path: from node `e` to its argument `i`. */
interface Step {
  readonly node: CallExpr;
  readonly arg: number;
}

/**
 * Back-propagates `gr` (over the node's shape) through one step, as the chain rule says; null
 * when the local derivative is not known.
 */
function stepBack(s: Step, gr: Arr, local: Local, g: Graph): Arr | null {
  const argT = g.tensor.get(s.node.args[s.arg]!)!;
  const L = local.value;
  if (L === null) return null;
  if (s.node.op === "matmul") {
    const [a, b] = s.node.args.map((x) => g.tensor.get(x)!) as [Tensor, Tensor];
    const { m, k, n } = matmulDims(a.shape, b.shape);
    const G = gr.data; // m×n
    const out = new Float64Array(s.arg === 0 ? m * k : k * n);
    if (s.arg === 0)
      for (let i = 0; i < m; i++)
        for (let p = 0; p < k; p++) {
          let acc = 0;
          for (let j = 0; j < n; j++) acc += G[i * n + j]! * b.data[p * n + j]!;
          out[i * k + p] = acc;
        }
    else
      for (let p = 0; p < k; p++)
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let i = 0; i < m; i++) acc += a.data[i * k + p]! * G[i * n + j]!;
          out[p * n + j] = acc;
        }
    return { data: out, shape: argT.shape };
  }
  // Reductions: a scalar gradient times ∂reduction/∂element; elementwise: product, then summed
  // back over the elements an argument was broadcast to.
  const ge = expand(gr, L.shape);
  const prod = new Float64Array(L.data.length);
  for (let k = 0; k < prod.length; k++) prod[k] = ge.data[k]! * L.data[k]!;
  return sumTo({ data: prod, shape: L.shape }, argT.shape);
}

/**
 * The first paths (at most MAX_PATHS per input, within a budget of visited nodes) from the root
 * down to an occurrence of an input, as lists of steps: the ones shown. The totals do not come
 * from them (see `adjoints`).
 */
function pathsTo(g: Graph): Map<string, Step[][]> {
  const paths = new Map<string, Step[][]>();
  const stack: { e: Expr; steps: Step[] }[] = [{ e: g.root, steps: [] }];
  let budget = 10_000;
  while (stack.length > 0 && budget-- > 0) {
    const { e, steps } = stack.pop()!;
    if (e.kind === "var") {
      const list = paths.get(e.name) ?? [];
      if (list.length < MAX_PATHS) list.push(steps);
      paths.set(e.name, list);
      continue;
    }
    if (e.kind !== "call") continue;
    for (let i = e.args.length - 1; i >= 0; i--)
      if (g.dependsOnInput(e.args[i]!))
        stack.push({ e: e.args[i]!, steps: [...steps, { node: e, arg: i }] });
  }
  return paths;
}

/** How many paths lead from the root to each input (exact, however many there are). */
function pathCounts(g: Graph): Map<string, number> {
  const count = new Map<Expr, number>([[g.root, 1]]);
  const out = new Map<string, number>();
  if (g.root.kind === "var") out.set(g.root.name, 1);
  for (let i = g.calls.length - 1; i >= 0; i--) {
    const e = g.calls[i]!;
    const n = count.get(e) ?? 0;
    for (const a of e.args) {
      if (!g.dependsOnInput(a)) continue;
      if (a.kind === "var") out.set(a.name, (out.get(a.name) ?? 0) + n);
      else count.set(a, (count.get(a) ?? 0) + n);
    }
  }
  return out;
}

function add(a: Arr | undefined, b: Arr): Arr {
  if (a === undefined) return b;
  const data = new Float64Array(a.data.length);
  for (let k = 0; k < data.length; k++) data[k] = a.data[k]! + b.data[k]!;
  return { data, shape: a.shape };
}

/**
 * ∂root/∂input for every input, by reverse-mode accumulation of the same local derivatives: a
 * node's adjoint is the sum over its parents, which is the sum over every path however many
 * there are. An input some path reaches through an unknown local derivative gets the reason.
 */
function adjoints(
  g: Graph,
  locals: Map<CallExpr, (Local | null)[]>,
  values: Map<string, Value>,
): Map<string, Arr | { unavailable: string }> {
  const adj = new Map<Expr, Arr>([[g.root, { data: Float64Array.of(1), shape: [] }]]);
  const blocked = new Map<Expr, string>();
  const totals = new Map<string, Arr | { unavailable: string }>();
  for (const [name, v] of values)
    totals.set(name, { data: new Float64Array(v.data.length), shape: v.shape });
  if (g.root.kind === "var") totals.set(g.root.name, adj.get(g.root)!);
  for (let i = g.calls.length - 1; i >= 0; i--) {
    const e = g.calls[i]!;
    const ge = adj.get(e);
    const why = blocked.get(e);
    if (ge === undefined && why === undefined) continue;
    e.args.forEach((a, ai) => {
      if (!g.dependsOnInput(a)) return;
      const local = locals.get(e)![ai]!;
      const reason = why ?? (local.value === null ? (local.unavailable ?? "—") : undefined);
      const back = reason === undefined ? stepBack({ node: e, arg: ai }, ge!, local, g) : null;
      if (a.kind === "var") {
        const t = totals.get(a.name)!;
        if ("unavailable" in t) return;
        totals.set(a.name, back === null ? { unavailable: reason! } : add(t, back));
      } else if (back === null) blocked.set(a, blocked.get(a) ?? reason!);
      else adj.set(a, add(adj.get(a), back));
    });
  }
  return totals;
}

const arrText = (a: Arr | null, fmt: (x: number) => string = short): string =>
  a === null ? "—" : a.shape.length === 0 ? fmt(a.data[0]!) : valueText(fromValue(a), fmt);

/** The whole teaching view, as lines. */
export function explainLines(p: Prepared, flags: CheckFlags, c: Colors): string[] {
  const values = toValues(p.point);
  const g = buildGraph(p.expr, values);
  const rootName = g.name.get(p.expr) ?? "f";
  const lines: string[] = [];
  const at = Object.entries(p.point)
    .map(([k, v]) => `${k} = ${valueText(v)}`)
    .join(", ");
  lines.push(`${c.bold("gradtrio explain")}  ${rootName} = ${c.bold(p.source)}`);
  lines.push(`${c.dim("at")} ${at}`);
  lines.push("");

  // 1. The graph.
  lines.push(c.bold("1. Forward pass: the computation graph autograd records"));
  lines.push(
    c.dim(
      "   Each input is a leaf tensor created with requiresGrad: true (grad_fn AccumulateGrad);\n" +
        "   every operation on it makes a node whose grad_fn knows that operation's derivative.",
    ),
  );
  lines.push("");
  const rows: string[][] = [];
  for (const name of values.keys())
    rows.push([
      name,
      c.dim("input"),
      arrText(toArr(g.tensor.get(firstVar(p.expr, name))!)),
      "AccumulateGrad",
    ]);
  for (const e of g.calls) {
    const t = g.tensor.get(e)!;
    rows.push([g.name.get(e)!, nodeText(e, g), arrText(toArr(t)), c.cyan(t.gradFn?.name ?? "—")]);
  }
  lines.push(...table(["node", "computes", "value", "grad_fn"], rows, { indent: "   ", c }));
  const rootT = g.tensor.get(p.expr)!;
  if (rootT.gradFn !== null)
    lines.push(
      "",
      c.dim(
        `   ${rootName}.grad_fn = <${rootT.gradFn.name}>; backward() walks these nodes from ${rootName} back to the leaves.`,
      ),
    );
  lines.push("");

  // 2. The chain rule by hand.
  lines.push(c.bold("2. Backward pass by hand: the chain rule"));
  lines.push(
    c.dim(
      `   ∂${rootName}/∂input is the product of the local derivatives along the path from ${rootName} down to\n` +
        "   the input; an input used in several places adds up its paths. The CAS (nerdamer)\n" +
        "   derives each local derivative; its value is taken at the point.",
    ),
  );
  const locals = new Map<CallExpr, (Local | null)[]>();
  for (const e of g.calls) locals.set(e, localDerivatives(e, g));
  const paths = pathsTo(g);
  const counts = pathCounts(g);
  const totals = adjoints(g, locals, values);
  const byHand = new Map<string, Arr | { unavailable: string }>();
  for (const name of values.keys()) {
    const ps = paths.get(name) ?? [];
    const count = counts.get(name) ?? 0;
    const total = totals.get(name)!;
    byHand.set(name, total);
    lines.push("");
    if (count === 0) {
      lines.push(`   ∂${rootName}/∂${name} = 0: ${rootName} does not depend on ${name}`);
      continue;
    }
    if (count > 1)
      lines.push(`   ${c.bold(name)} is used ${count} times: ${count} paths, added up.`);
    ps.forEach((steps, pi) => {
      const route = [rootName, ...steps.map((s) => g.name.get(s.node.args[s.arg]!)!)].join(" → ");
      lines.push(
        `   ${c.bold(`∂${rootName}/∂${name}`)}${count > 1 ? ` path ${pi + 1}` : ""}: ${route}`,
      );
      let run: Arr | null = { data: Float64Array.of(1), shape: [] };
      const srows: string[][] = [];
      for (const s of steps) {
        const local = locals.get(s.node)![s.arg]!;
        run = run === null ? null : stepBack(s, run, local, g);
        const top = g.name.get(s.node)!;
        const below = g.name.get(s.node.args[s.arg]!)!;
        srows.push([
          `∂${top}/∂${below}`,
          local.formula + (local.note === null ? "" : c.dim(`  (${local.note})`)),
          arrText(local.value),
          arrText(run),
        ]);
      }
      lines.push(
        ...table(["local derivative", "formula (CAS)", "value", "running product"], srows, {
          indent: "     ",
          c,
        }),
      );
    });
    if (count > ps.length)
      lines.push(c.dim(`     … ${count - ps.length} more paths (included in the sum)`));
    if ("unavailable" in total) {
      lines.push(`   ${c.bold(`∂${rootName}/∂${name} = unavailable (${total.unavailable})`)}`);
      continue;
    }
    const exact = total.shape.length === 0 ? ` ${c.dim(`(${full(total.data[0]!)})`)}` : "";
    lines.push(`   ${c.bold(`∂${rootName}/∂${name} = ${arrText(total)}`)}${exact}`);
  }
  lines.push("");

  // 3. The three legs.
  const report = runCheck(p, flags);
  lines.push(c.bold("3. Three independent ways, side by side"));
  lines.push(
    c.dim(
      "   symbolic: the CAS differentiates the whole expression; numeric: finite differences of\n" +
        "   the forward function; autograd: backward() through the graph of section 1.",
    ),
  );
  lines.push("");
  lines.push(...sideBySide(report, byHand, c));
  lines.push("");
  for (const [name, gr] of Object.entries(report.gradients)) {
    if (gr.formula === null) continue;
    lines.push(`   ${c.dim("CAS:")} ∂${rootName}/∂${name} = ${gr.formula}`);
    const latex = report.latex[name];
    if (latex !== undefined)
      lines.push(
        `   ${c.dim("LaTeX:")} \\frac{\\partial ${rootName}}{\\partial ${name}} = ${latex}`,
      );
  }
  lines.push(`   ${verdictLine(report, c)}`);
  return lines;
}

function firstVar(expr: Expr, name: string): Expr {
  return postOrder(expr).find((e) => e.kind === "var" && e.name === name)!;
}

function sideBySide(
  r: Report,
  byHand: Map<string, Arr | { unavailable: string }>,
  c: Colors,
): string[] {
  const rows: string[][] = [];
  for (const [name, gr] of Object.entries(r.gradients)) {
    const h = byHand.get(name) ?? null;
    const isScalar = typeof r.at[name] === "number";
    const fmt = isScalar ? full : (x: number) => short(x, 8);
    const cell = (v: NestedArray | null) => (v === null ? "—" : valueText(v, fmt));
    const ne = flat(gr.numericError);
    rows.push([
      name,
      h === null ? "—" : "unavailable" in h ? `unavailable (${h.unavailable})` : arrText(h, fmt),
      cell(gr.symbolic),
      `${cell(gr.numeric)} ${c.dim(`± ${isScalar ? errorText(ne?.[0] ?? null) : ne === null ? "—" : errorText(Math.max(...ne))}`)}`,
      cell(gr.autograd),
    ]);
  }
  return table(["input", "by hand (above)", "symbolic", "numeric ± error", "autograd"], rows, {
    indent: "   ",
    numeric: [false, true, true, true, true],
    c,
  });
}
