/**
 * `gradtrio explain EXPR --at … [--wrt NAMES]`: the seed notebooks' "manual vs automatic", for
 * any expression. A renderer: the graph and the chain rule come from src/teach/chain.ts.
 *  1. the graph autograd records (shared values one node, PyTorch's grad_fn names, data apart);
 *  2. the chain rule node by node in reverse mode, each local derivative as a student writes it;
 *  3. for small graphs, the paths from the output to each leaf, multiplied and added up, and the
 *     total in closed form when the CAS can simplify it;
 *  4. the three legs side by side, with the numeric method and its step named.
 */
import type { DType } from "../autograd/index.ts";
import type { Report } from "../check/report.ts";
import { GradtrioError } from "../errors.ts";
import { fromValue, type NestedArray, toValues } from "../expr/point.ts";
import { loadOps } from "../fuzz/load.ts";
import { directionalMethodWords } from "../numeric/types.ts";
import {
  type Arr,
  buildChain,
  type Chain,
  type ChainNode,
  pathCount,
  pathProduct,
  pathsTo,
  simplifiedTotal,
} from "../teach/chain.ts";
import { toDot } from "../teach/dot.ts";
import { gradientLatex, latexTotal } from "../teach/latex.ts";
import { METHODS, type Method, regionOf, type StepStudy, stepStudy } from "../teach/steps.ts";
import { type CheckFlags, runCheck, seedNote, verdictLine } from "./check-command.ts";
import { hessianExplanation, jacobianExplanation } from "./explain-matrix.ts";
import {
  type Colors,
  colorsFor,
  errorText,
  flat,
  full,
  short,
  table,
  valueText,
  width,
} from "./format.ts";
import { type CliIO, EXIT } from "./io.ts";
import { type Prepared, prepare } from "./prepare.ts";
import { reportError } from "./report-error.ts";

export interface ExplainFlags extends CheckFlags {
  /** Also the step-size lesson: FD error against h. */
  readonly steps?: boolean;
  /** Print the graph as Graphviz DOT instead of the teaching view. */
  readonly dot?: boolean;
}

/** Paths listed per leaf; beyond that the node-by-node sums stand alone. */
const MAX_PATHS = 4;
/** Nodes beyond which a graph is not "small": no paths are written out. */
const SMALL_GRAPH = 24;
/** Terms of a node's sum written out one by one. */
const MAX_TERMS = 8;
/** Nodes beyond which only the leaves' gradients are written out term by term. */
const BIG_GRAPH = 60;

export async function explainCommand(
  source: string,
  flags: ExplainFlags,
  io: CliIO,
): Promise<number> {
  let lines: string[];
  try {
    if (flags.dot === true && flags.steps === true)
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        "--steps and --dot do not go together: --dot prints the graph alone (run explain --steps for the lesson)",
      );
    for (const file of flags.ops ?? []) await loadOps(file, io.cwd);
    const p = prepare(source, flags.at, io.cwd, flags.wrt, { vectorOutput: true });
    const c = colorsFor(io.isTTY);
    lines =
      jacobianExplanation(p, flags, c) ??
      (flags.dot === true ? [toDot(chainOf(p, flags.dtype))] : explainLines(p, flags, c));
  } catch (e) {
    return reportError(e, io);
  }
  for (const l of lines) io.out(l);
  return EXIT.ok;
}

const arrText = (a: Arr | null, fmt: (x: number) => string = short): string =>
  a === null ? "—" : a.shape.length === 0 ? fmt(a.data[0]!) : valueText(fromValue(a), fmt);

/**
 * The chain of a prepared subject: its named intermediates by name, its `--wrt` leaves, in the
 * dtype's arithmetic (float32: the by-hand numbers as a float32 notebook computes them).
 */
export function chainOf(p: Prepared, dtype: DType = "float64"): Chain {
  return buildChain(p.expr, toValues(p.point), {
    names: new Map(p.bindings.map((b) => [b.expr, b.name])),
    wrt: p.wrt,
    dtype,
  });
}

/** The whole teaching view, as lines. */
export function explainLines(p: Prepared, flags: ExplainFlags, c: Colors): string[] {
  const chain = chainOf(p, flags.dtype);
  const f = chain.output.name;
  const lines: string[] = [];
  const at = Object.entries(p.point)
    .map(([k, v]) => `${k} = ${valueText(v)}`)
    .join(", ");
  lines.push(
    `${c.bold("gradtrio explain")}  ${c.bold(namedOutput(p.source, p.bindings.length, f))}`,
  );
  lines.push(`${c.dim("at")} ${at}`);
  lines.push("");
  lines.push(...graphSection(chain, c));
  lines.push("");
  lines.push(...backwardSection(chain, c));
  lines.push("");
  const small = chain.nodes.length <= SMALL_GRAPH;
  if (small) {
    lines.push(...pathSection(chain, c));
    lines.push("");
  }
  const number = small ? 4 : 3;
  const r = runCheck(p, flags);
  lines.push(...legsSection(chain, r, seedNote(r, p, flags), c, number));
  lines.push(...hessianExplanation(p, flags, c, number + 1));
  // The step-size lesson is about float64 finite differences: its exact value is float64's.
  const exact = chain.dtype === "float64" ? chain : chainOf(p);
  if (flags.steps === true)
    lines.push("", ...(r.rule === "kink" ? kinkSteps(c) : stepsLines(p, exact, c)));
  if (flags.steps === true && chain.dtype === "float32")
    lines.push(
      "",
      ...wrap(
        c.dim(
          "The lesson is float64's: its differences are computed in float64. In float32 the rounding term is ε₃₂/h with ε₃₂ ≈ 1.2e-7, so the V bottoms near h ≈ √ε₃₂ ≈ 3e-4 (forward) and ∛ε₃₂ ≈ 5e-3 (central).",
        ),
        "   ",
      ),
    );
  return lines;
}

/**
 * The subject with its output named: `f = sin(x^2)`; after named intermediates the name goes on
 * the output, the last part (`z = w*x+b; f = sigmoid(z)`), not in front of the first binding.
 */
export function namedOutput(source: string, bindings: number, name: string): string {
  const text = source.trim();
  const last = bindings === 0 ? -1 : text.replace(/;\s*$/, "").lastIndexOf(";");
  if (last < 0) return `${name} = ${text}`;
  const output = text.slice(last + 1).trim();
  // The output is a bound name (`z = x^2; z`): named already.
  return output === name ? text : `${text.slice(0, last + 1)} ${name} = ${output}`;
}

function graphSection(chain: Chain, c: Colors): string[] {
  const leaves = [...chain.leaves.keys()];
  const data = chain.nodes.filter((n) => n.kind === "data" && n.text === n.name).map((n) => n.name);
  const lines = [c.bold("1. Forward pass: the graph autograd records")];
  lines.push(
    c.dim(
      `   ${list(leaves)} ${leaves.length === 1 ? "requires" : "require"} grad: leaves (grad_fn None) that get a .grad.` +
        (data.length > 0
          ? `\n   ${list(data)} ${data.length === 1 ? "is" : "are"} data: no gradient, and what is computed from data alone records no grad_fn (— below).`
          : "") +
        "\n   Every operation on a tensor that requires grad records a node with a grad_fn that knows\n" +
        "   its derivative; a value used twice is one node, used twice.",
    ),
  );
  lines.push("");
  const rows = chain.nodes.map((n) => [
    n.name,
    n.kind === "leaf"
      ? c.dim("leaf, requires grad")
      : n.kind === "data" && n.text === n.name
        ? c.dim("data")
        : n.text,
    arrText(n.value),
    n.kind === "op" ? c.cyan(n.gradFn ?? "—") : c.dim(n.kind === "leaf" ? "None" : "—"),
    n.kind === "op" ? String(n.uses.length || "") : n.kind === "leaf" ? String(n.uses.length) : "",
  ]);
  if (rows.length > BIG_GRAPH)
    rows.splice(30, rows.length - 40, [c.dim(`… ${rows.length - 40} more nodes`), "", "", "", ""]);
  lines.push(
    ...table(["node", "computes", "value", "grad_fn", "used by"], rows, { indent: "   ", c }),
  );
  const out = chain.output;
  if (out.gradFn !== null)
    lines.push(
      "",
      c.dim(
        `   ${out.name}.grad_fn = <${out.gradFn}>; backward() walks these nodes from ${out.name} back to the leaves.`,
      ),
    );
  for (const n of chain.nodes)
    if (n.gradFn === "ReciprocalBackward0")
      lines.push(
        c.dim(
          `   ${n.text} is Python's c / x for a plain number c: PyTorch computes x.reciprocal() * c.`,
        ),
      );
  return lines;
}

const list = (xs: readonly string[]) =>
  xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} and ${xs.at(-1)}`;

/** ∂f/∂node, the only thing labelled with ∂f/∂. */
const total = (chain: Chain, n: ChainNode) => `∂${chain.output.name}/∂${n.name}`;

function backwardSection(chain: Chain, c: Colors): string[] {
  const f = chain.output.name;
  const lines = [c.bold("2. Backward pass: the chain rule, node by node (reverse mode)")];
  lines.push(
    c.dim(
      `   Each node's gradient ${total(chain, { name: "node" } as ChainNode)} adds up, over the nodes that use it, their gradient times\n` +
        "   the local derivative of that use (the rule as you would write it). Each gradient is\n" +
        `   computed once, from ${f} down to the leaves; the local derivatives are taken at the point.`,
    ),
  );
  // A big graph: the leaves' sums only (every node is still accumulated; --dot draws them all).
  const big = chain.nodes.length > BIG_GRAPH;
  const shown = (n: ChainNode) => !big || n.kind === "leaf" || n === chain.output;
  const edges = chain.nodes.filter(shown).flatMap((n) => n.uses.slice(0, MAX_TERMS));
  if (big)
    lines.push(
      c.dim(
        `   ${chain.nodes.length} nodes: only the sums that reach the leaves are written out here.`,
      ),
    );
  if (edges.length > 0) {
    lines.push("");
    lines.push(
      ...table(
        ["use", "local derivative", "value"],
        edges.map((e) => [
          `${e.to.name} → ${e.from.name}` +
            (e.from.inputs.filter((o) => o.to === e.to).length > 1
              ? c.dim(` (argument ${e.arg + 1})`)
              : ""),
          (e.unavailable === null ? e.plain : `— (${e.unavailable})`) +
            (e.note === null ? "" : c.dim(`  (${e.note})`)),
          arrText(e.value),
        ]),
        { indent: "   ", c },
      ),
    );
  }
  lines.push("");
  for (let i = chain.nodes.length - 1; i >= 0; i--) {
    const n = chain.nodes[i]!;
    if (n.kind === "data" || !shown(n)) continue;
    if (n === chain.output) {
      lines.push(`   ${c.bold(`${total(chain, n)} = 1`)}`);
      continue;
    }
    const label = c.bold(total(chain, n));
    if (n.uses.length === 0) {
      lines.push(`   ${label} = 0  ${c.dim(`(${f} does not use ${n.name})`)}`);
      continue;
    }
    const pad = " ".repeat(total(chain, n).length);
    if (n.uses.length > MAX_TERMS) {
      lines.push(
        `   ${label} = the sum over its ${n.uses.length} uses of (their gradient × local)`,
      );
      lines.push(
        `   ${pad} = ${n.grad === null ? `unavailable (${n.gradUnavailable})` : c.bold(arrText(n.grad))}`,
      );
      continue;
    }
    const symbolic = n.uses.map((u) => `${total(chain, u.from)} · ${paren(u.plain)}`).join(" + ");
    const numeric = n.uses.map((u) => `${arrText(u.from.grad)} × ${arrText(u.value)}`).join(" + ");
    lines.push(`   ${label} = ${symbolic}`);
    lines.push(`   ${pad} = ${numeric}`);
    lines.push(
      `   ${pad} = ${n.grad === null ? `unavailable (${n.gradUnavailable})` : c.bold(arrText(n.grad))}`,
    );
    lines.push(c.dim(`   ${pad}   LaTeX: ${gradientLatex(chain, n)}`));
  }
  return lines;
}

/** `s` in parentheses when a product would otherwise read it wrongly (a sum, a rule in words). */
function paren(s: string): string {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (depth === 0 && (ch === " " || ((ch === "+" || ch === "-") && i > 0))) return `(${s})`;
  }
  return s;
}

function pathSection(chain: Chain, c: Colors): string[] {
  const lines = [c.bold("3. The same, along the paths: multiply along each path, add the paths")];
  for (const [name, leaf] of chain.leaves) {
    lines.push("");
    const count = pathCount(chain, leaf);
    const label = c.bold(total(chain, leaf));
    if (count === 0) {
      lines.push(`   ${label} = 0: ${chain.output.name} does not depend on ${name}`);
      continue;
    }
    const paths = pathsTo(chain, leaf, MAX_PATHS);
    if (paths === null) {
      lines.push(
        `   ${label}: ${count} paths, too many to list; section 2 adds them up node by node.`,
      );
    } else {
      const products = paths.map(pathProduct);
      paths.forEach((path, k) => {
        const route = [chain.output.name, ...path.map((e) => e.to.name)].join(" → ");
        lines.push(`   ${count > 1 ? `path ${k + 1}` : "path"}: ${route}`);
        lines.push(`     ${path.map((e) => paren(e.plain)).join(" · ")}`);
        const factors = path.map((e) => arrText(e.value));
        lines.push(
          `     = ${factors.length > 1 ? `${factors.join(" × ")} = ` : ""}${arrText(products[k]!)}`,
        );
      });
      if (count > 1 && products.every((x) => x !== null))
        lines.push(
          `   ${label} = ${products.map((x) => arrText(x)).join(" + ")} = ${arrText(leaf.grad)}`,
        );
    }
    const s = simplifiedTotal(chain, leaf);
    const exact =
      leaf.grad !== null && leaf.grad.shape.length === 0
        ? full(leaf.grad.data[0]!)
        : arrText(leaf.grad);
    if (s !== null) {
      lines.push(
        `   ${label} = ${c.bold(s.plain)} = ${exact}  ${c.dim("(simplified by the CAS)")}`,
      );
      lines.push(c.dim(`   LaTeX: ${latexTotal(chain, leaf)} = ${s.latex}`));
    } else lines.push(`   ${label} = ${c.bold(exact)}`);
  }
  return lines;
}

/** What the numeric leg did, in words, with its step h. */
export function numericMethodText(r: Pick<Report, "method" | "directional" | "gradients">): string {
  switch (r.method) {
    case "complex":
      return "complex step, h = 2^-100 ≈ 7.9e-31 times |x|'s scale: Im f(x + ih)/h subtracts nothing, so it is exact to rounding. It is not a finite difference: a forward difference is good to about 1e-8 at best (see --steps).";
    case "richardson":
      return "Richardson extrapolation of central differences, h = max(1, |x|)/4 halved up to 14 times; the error is estimated from the tableau (see --steps).";
    case "central":
      return "central difference, h = ∛ε·max(1, |x|) ≈ 6.1e-6·max(1, |x|): truncation ~h², rounding ~ε/h (see --steps).";
    case "fast": {
      const each = Object.keys(r.gradients).filter((name) => r.gradients[name]!.numeric !== null);
      const partials = r.directional?.partialsBy ?? [];
      const same = partials.length === 1 && partials[0] === r.directional?.method;
      return `fast mode: one directional derivative uᵀ∇f by ${directionalMethodWords(r.directional?.method ?? "richardson")} along a random unit vector u${each.length === Object.keys(r.gradients).length ? "" : ", not one derivative per element"}${each.length === 0 ? "" : `; and ${list(each)} per element, ${same ? "the same way" : `by ${partials.map(directionalMethodWords).join(" and ")}`} along each element's unit vector`}.`;
    }
    default:
      return "the numeric leg did not run.";
  }
}

/** Section `number`: the three legs' gradients; `note` (--seed's, or null) under the method. */
function legsSection(
  chain: Chain,
  r: Report,
  note: string | null,
  c: Colors,
  number: number,
): string[] {
  const lines = [c.bold(`${number}. Three independent ways, side by side`)];
  lines.push(
    c.dim(
      "   symbolic: the CAS differentiates the whole expression; numeric: the forward function\n" +
        "   evaluated near the point; autograd: backward() through the graph of section 1.",
    ),
  );
  lines.push(...wrap(`${c.dim("numeric method:")} ${numericMethodText(r)}`, "   "));
  if (note !== null) lines.push(...wrap(`note: ${note}`, "   ").map((l) => c.dim(l)));
  lines.push("");
  const rows: string[][] = [];
  for (const [name, leaf] of chain.leaves) {
    const gr = r.gradients[name];
    if (gr === undefined) continue;
    const isScalar = typeof r.at[name] === "number";
    const fmt = isScalar ? full : (x: number) => short(x, 8);
    const cell = (v: NestedArray | null) => (v === null ? "—" : valueText(v, fmt));
    const ne = flat(gr.numericError);
    const numeric =
      gr.numeric === null
        ? c.dim(
            r.directional !== null
              ? "(directional only)"
              : `— (${r.legs.numeric.reason ?? (r.legs.numeric.status === "ok" ? "no derivative where f is not finite" : r.legs.numeric.status)})`,
          )
        : `${cell(gr.numeric)} ${c.dim(`± ${isScalar ? errorText(ne?.[0] ?? null) : ne === null ? "—" : errorText(Math.max(...ne))}`)}`;
    rows.push([
      name,
      leaf.grad === null ? `unavailable (${leaf.gradUnavailable})` : arrText(leaf.grad, fmt),
      cell(gr.symbolic),
      numeric,
      cell(gr.autograd),
    ]);
  }
  lines.push(
    ...table(["input", "by hand (above)", "symbolic", "numeric ± error", "autograd"], rows, {
      indent: "   ",
      numeric: [false, true, true, true, true],
      c,
    }),
  );
  if (r.directional !== null) {
    const d = r.directional;
    lines.push(
      `   ${c.dim("uᵀ∇f:")} symbolic ${full(d.symbolic)}, numeric ${full(d.numeric)} ± ${errorText(d.numericError)}, autograd ${full(d.autograd)}`,
    );
  }
  lines.push("");
  for (const name of chain.leaves.keys()) {
    const gr = r.gradients[name];
    if (gr?.formula == null) continue;
    lines.push(`   ${c.dim("CAS:")} ∂${chain.output.name}/∂${name} = ${gr.formula}`);
    const latex = r.latex[name];
    if (latex !== undefined)
      lines.push(
        `   ${c.dim("LaTeX:")} \\frac{\\partial ${chain.output.name}}{\\partial ${name}} = ${latex}`,
      );
  }
  lines.push(`   ${verdictLine(r, c)}`);
  if (r.directional !== null && r.verdict === "agree") {
    const only = Object.keys(r.gradients).filter((name) => r.gradients[name]!.numeric === null);
    if (only.length > 0)
      lines.push(
        c.dim(
          `   (the numeric leg checked ${list(only)} by the one directional derivative uᵀ∇f, not each element)`,
        ),
      );
  }
  return lines;
}

/** Words wrapped at 96 columns, each line indented. */
function wrap(text: string, indent: string): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && width(line) + 1 + width(word) > 96 - indent.length) {
      out.push(indent + line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") out.push(indent + line);
  return out;
}

const MARK: Record<Method, string> = { forward: "f", central: "c", complex: "i" };

/**
 * `--steps` at a kink: no step size converges (the one-sided slopes differ, whatever h), so there
 * is no V to show, and PyTorch's subgradient is no exact value to measure errors against.
 */
function kinkSteps(c: Colors): string[] {
  return [
    c.bold("The step size h: finite differences against the complex step"),
    ...wrap(
      "   No lesson at a kink: the left and right derivatives differ (the verdict above), so no h converges. A forward difference reads the right slope at every h, a backward one the left, a central one their mean; none is an error that shrinks with h. Take a point where the function is differentiable for the lesson.",
      "   ",
    ),
  ];
}

/** `--steps`: the error of each method against h, as a table and as an ASCII log-log plot. */
export function stepsLines(p: Prepared, chain: Chain, c: Colors): string[] {
  const lines = [c.bold("The step size h: finite differences against the complex step")];
  lines.push(
    c.dim(
      "   forward (f(x+h) − f(x))/h has truncation error ∝ h, central (f(x+h) − f(x−h))/2h ∝ h²;\n" +
        "   both subtract nearly equal numbers, so rounding grows as ε/h: the error falls, then\n" +
        "   rises again, a V on a log-log plot. The complex step Im f(x+ih)/h subtracts nothing.",
    ),
  );
  const values = toValues(p.point);
  let offset = 0;
  const offsets = new Map<string, number>();
  for (const [name, v] of values) {
    offsets.set(name, offset);
    offset += v.data.length;
  }
  for (const [name, leaf] of chain.leaves) {
    if (leaf.grad === null) continue;
    const label = leaf.value.shape.length === 0 ? name : `${name}[0]`;
    const byHand = leaf.grad.data[0]!;
    lines.push("");
    // No error can be measured against a value that is not finite, nor where f itself is not.
    const value = chain.output.value.data.find((v) => !Number.isFinite(v));
    if (value !== undefined || !Number.isFinite(byHand)) {
      lines.push(
        ...wrap(
          `${c.bold(`∂${chain.output.name}/∂${label}`)} at ${label} = ${short(leaf.value.data[0]!)}: ${
            value !== undefined
              ? `${chain.output.name} is ${value} at the point, so no step size gives a derivative there (the chain rule's ${full(byHand)} in section 2 is its formula's value, not a derivative of ${chain.output.name}).`
              : `the chain rule gives ${full(byHand)} (section 2): there is no exact value to measure the finite differences' error against.`
          }`,
          "   ",
        ),
      );
      continue;
    }
    const study = stepStudy(p.expr, values, offsets.get(name)!, byHand);
    lines.push(
      `   ${c.bold(`∂${chain.output.name}/∂${label}`)} at ${label} = ${short(study.x)}: exact ${full(study.reference)} (by hand, section 2)`,
    );
    const rows = study.rows.map((r) => [
      r.h.toExponential(0),
      ...METHODS.map((m) => {
        const e = r.error[m];
        const text = e === null ? "—" : errorText(e);
        return r.h === study.best[m] ? c.bold(`${text} *`) : text;
      }),
      regionOf(study, "forward", r.h),
      regionOf(study, "central", r.h),
    ]);
    lines.push(
      ...table(
        ["h", "forward error", "central error", "complex-step error", "forward", "central"],
        rows,
        { indent: "   ", numeric: [true, true, true, true, false, false], c },
      ),
    );
    lines.push(...vPlot(study));
    const th = (v: number | null) => (v === null ? "—" : v.toExponential(0));
    lines.push(
      ...wrap(
        `${c.dim("*")} best h measured: forward ${th(study.best.forward)} (theory: about √ε·max(1,|x|) ≈ ${th(study.theory.forward)}), central ${th(study.best.central)} (theory: about ∛ε·max(1,|x|) ≈ ${th(study.theory.central)}); the factor depends on f's higher derivatives. Above the best h truncation dominates, below it rounding.`,
        "   ",
      ),
    );
    lines.push(
      ...wrap(
        study.complexReason === null
          ? "The complex step truncates like the central difference (∝ h²) but has no rounding arm: with no subtraction it only improves as h shrinks, down to rounding level."
          : `The complex step does not apply here: ${study.complexReason}.`,
        "   ",
      ).map(c.dim),
    );
  }
  return lines;
}

/** The errors on a log-log grid: h from 1e-1 (left) to 1e-15, one row per decade of error. */
function vPlot(study: StepStudy): string[] {
  const top = 1;
  const bottom = -17;
  const cell = 4;
  const grid: string[][] = [];
  for (let d = top; d >= bottom; d--) grid.push(study.rows.map(() => " ".repeat(cell)));
  study.rows.forEach((r, j) => {
    for (const m of METHODS) {
      const e = r.error[m];
      if (e === null || !Number.isFinite(e)) continue;
      const d = e === 0 ? bottom : Math.max(bottom, Math.min(top, Math.round(Math.log10(e))));
      const row = grid[top - d]!;
      const old = row[j]!.trim();
      row[j] = ` ${old === "" ? MARK[m] : `${old}${MARK[m]}`}`.padEnd(cell);
    }
  });
  const out = ["", "   error (log) against h (log): f forward, c central, i complex step"];
  grid.forEach((row, k) => {
    const d = top - k;
    const label = d % 2 === 0 || d === top ? `1e${d}`.padStart(6) : "      ";
    out.push(`   ${label} │${row.join("").trimEnd()}`);
  });
  out.push(`          └${"─".repeat(cell * study.rows.length)}`);
  out.push(
    `           ${study.rows.map((r, j) => (j % 2 === 0 ? `1e${Math.round(Math.log10(r.h))}`.padEnd(cell * 2) : "")).join("")}h`,
  );
  const mark = (m: "forward" | "central") =>
    study.rows
      .map((r) => (r.h === study.best[m] ? ` ^${MARK[m]}`.padEnd(cell) : " ".repeat(cell)))
      .join("");
  out.push(`           ${mark("forward").trimEnd()}   best forward h`);
  out.push(`           ${mark("central").trimEnd()}   best central h`);
  return out;
}
