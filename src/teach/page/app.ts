/// <reference lib="dom" />
/**
 * The interactive page of `gradtrio teach`, running in the browser: the library as it is (the
 * expression parser, the chain of src/teach/chain.ts, the three legs of check()) recomputed on
 * every edit, drawn as SVG. Put into the page by src/teach/page/bundle.ts: the built ES modules it
 * reaches in an import map (installed), or bundled by esbuild (in a checkout).
 */
import dagre from "@dagrejs/dagre";
import type { DType } from "../../autograd/index.ts";
import { check } from "../../check/check.ts";
import type { Report } from "../../check/report.ts";
import { GradtrioError } from "../../errors.ts";
import { variablesOf } from "../../expr/ast.ts";
import { type NestedArray, type Point, toValues } from "../../expr/point.ts";
import { checkScalarOutput, inferShapes, type Shape } from "../../expr/shapes.ts";
import { compileForward, flattenValues } from "../../numeric/index.ts";
import { type Arr, buildChain, type Chain, type ChainNode, simplifiedTotal } from "../chain.ts";
import { arrayText, numberText } from "../dot.ts";
import { gradientLatex, latexTotal } from "../latex.ts";
import { escapeHtml, toMathML } from "../mathml.ts";
import { parseForTeaching } from "../program.ts";
import { LESSON_STEPS, METHODS, type Method, stepStudy } from "../steps.ts";

/** What the page starts with (written into the page by `gradtrio teach`). */
export interface PageSeed {
  readonly expr: string;
  readonly at: string;
  readonly wrt: string;
  /** The arithmetic of the chain rule and of autograd (check's `dtype`). */
  readonly dtype: DType;
}

/** Timings the browser test reads (`window.gradtrio`). */
export interface Timings {
  firstRenderMs: number | null;
  lastRenderMs: number | null;
  renders: number;
  /** The last recompute by part: compute (parse, chain, the three legs), graph, legs, chain, plots. */
  phases: Record<string, number>;
  /** Graph layouts computed (an edit of the point alone reuses the last one). */
  layouts: number;
}

const SVG = "http://www.w3.org/2000/svg";
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** `w=1 b=0 x=[1,2,3]`: assignments separated by spaces (not inside brackets). */
export function parsePointText(text: string): Point {
  const point: Point = {};
  const items: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text.trim()) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if (/[\s,]/.test(ch) && depth === 0) {
      if (cur !== "") items.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur !== "") items.push(cur);
  for (const item of items) {
    const eq = item.indexOf("=");
    const name = item.slice(0, eq);
    if (eq < 1 || !/^[A-Za-z_]\w*$/.test(name))
      throw new GradtrioError("INVALID_ARGUMENT", `expected NAME=VALUE, got '${item}'`);
    let v: unknown;
    try {
      v = JSON.parse(item.slice(eq + 1));
    } catch {
      throw new GradtrioError("INVALID_ARGUMENT", `${name}: not a number or a JSON array`);
    }
    if (typeof v !== "number" && !Array.isArray(v))
      throw new GradtrioError("INVALID_ARGUMENT", `${name}: not a number or a JSON array`);
    point[name] = v as NestedArray;
  }
  return point;
}

interface State {
  chain: Chain;
  report: Report;
  expr: ReturnType<typeof parseForTeaching>["expr"];
  point: Point;
  /** The coordinate of the 1-D plots: a leaf and its flat offset among the inputs. */
  leaf: ChainNode;
  offset: number;
}

let state: State | null = null;
const timings: Timings = {
  firstRenderMs: null,
  lastRenderMs: null,
  renders: 0,
  phases: {},
  layouts: 0,
};
(window as unknown as { gradtrio: Timings }).gradtrio = timings;

function compute(): State {
  const source = $<HTMLInputElement>("expr").value;
  const point = parsePointText($<HTMLInputElement>("at").value);
  const wrtText = $<HTMLInputElement>("wrt").value.trim();
  const dtype = $<HTMLSelectElement>("dtype").value as DType;
  const { expr, names } = parseForTeaching(source);
  const vars = variablesOf(expr);
  for (const v of vars)
    if (!(v in point)) throw new GradtrioError("INVALID_ARGUMENT", `give ${v} a value`);
  for (const k of Object.keys(point))
    if (!vars.includes(k)) throw new GradtrioError("INVALID_ARGUMENT", `${k} is not used`);
  const shapes = new Map<string, Shape>();
  for (const [k, v] of toValues(point)) shapes.set(k, v.shape);
  checkScalarOutput(inferShapes(expr, shapes, { source }).shape, { expr, source });
  const values = toValues(point);
  const wrt = wrtText === "" ? undefined : wrtText.split(/[\s,]+/);
  const chain = buildChain(expr, values, { names, dtype, ...(wrt === undefined ? {} : { wrt }) });
  const report = check(source, { at: point, dtype });
  const leaf = [...chain.leaves.values()][0]!;
  let offset = 0;
  for (const [k, v] of values) {
    if (k === leaf.name) break;
    offset += v.data.length;
  }
  return { chain, report, expr, point, leaf, offset };
}

function recompute(): void {
  const t0 = performance.now();
  let t = t0;
  const phase = (name: string) => {
    const now = performance.now();
    timings.phases[name] = now - t;
    t = now;
  };
  timings.phases = {};
  try {
    state = compute();
    phase("compute");
    $("error").textContent = "";
    document.body.classList.remove("stale");
    drawGraph(state.chain);
    phase("graph");
    drawLegs(state);
    phase("legs");
    drawChainRule(state.chain);
    phase("chain");
    drawPlots();
    phase("plots");
  } catch (e) {
    $("error").textContent = e instanceof Error ? e.message : String(e);
    // What is drawn below is of the last input that worked: greyed and said so, not current.
    document.body.classList.add("stale");
  }
  const ms = performance.now() - t0;
  timings.lastRenderMs = ms;
  timings.renders++;
  $("timing").textContent = `computed and drawn in ${ms.toFixed(1)} ms`;
}

function el<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const CHAR = 7.2; // px per character of the 12px monospace font
const LINE = 16;

function nodeLines(n: ChainNode): string[] {
  const lines = [n.kind === "op" && n.text !== n.name ? `${n.name} = ${n.text}` : n.name];
  lines.push(
    n.kind === "op" ? (n.gradFn ?? "—") : n.kind === "leaf" ? "leaf, requires grad" : "data",
  );
  lines.push(`value ${arrayText(n.value)}`);
  if (n.kind !== "data") lines.push(`grad ${arrayText(n.grad)}`);
  return lines;
}

/** A node's box: its centre and size. */
interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Where dagre put the nodes (by id) and the edges (by `v w name`), and the drawing's size. */
interface Layout {
  readonly width: number;
  readonly height: number;
  readonly nodes: ReadonlyMap<string, Box>;
  readonly edges: readonly {
    readonly v: string;
    readonly w: string;
    readonly name: string;
    readonly points: readonly { x: number; y: number }[];
    readonly x?: number;
    readonly y?: number;
  }[];
}

/** The last layout and what it was made for: an edit of the point alone keeps the graph's shape. */
let lastLayout: { key: string; layout: Layout } | null = null;

/** Characters of a scalar's value or gradient the box leaves room for (any 6-digit number). */
const NUMBER_CHARS = 12;

/**
 * A node box's width: its longest line, a scalar's value and gradient counted at their widest, and
 * rounded up to 4 characters, so that an edit of the point alone keeps the layout.
 */
function boxWidth(n: ChainNode, lines: readonly string[]): number {
  const chars = lines.map((l, i) => {
    if (i < 2 || n.value.shape.length > 0) return l.length;
    const label = l.indexOf(" ") + 1; // "value " or "grad "
    return label + Math.max(NUMBER_CHARS, l.length - label);
  });
  return Math.ceil(Math.max(...chars) / 4) * 4 * CHAR + 16;
}

/** px per character of an edge's label (the 11px monospace font). */
const EDGE_CHAR = 6.6;

/** An edge's label: × its local derivative. */
const edgeLabel = (local: Arr | null): string => `×${arrayText(local)}`;

/**
 * The width an edge's label gets in the layout: that of the widest label of its shape (NUMBER_CHARS
 * a number, as the boxes have), so that editing the point keeps the layout, or its own if wider.
 */
function edgeLabelWidth(local: Arr | null): number {
  if (local === null) return Math.ceil(2 * EDGE_CHAR) + 8;
  const n = local.data.length;
  const shown = Math.min(n, 4);
  const widest =
    local.shape.length === 0
      ? 1 + NUMBER_CHARS
      : 3 + shown * NUMBER_CHARS + 2 * (shown - 1) + (n > 4 ? `, … (${n})`.length : 0);
  return Math.ceil(Math.max(widest, edgeLabel(local).length) * EDGE_CHAR) + 8;
}

/** The graph laid out by dagre, left to right, leaves first; reused while only the values change. */
function layoutOf(chain: Chain, lines: ReadonlyMap<ChainNode, string[]>): Layout {
  // [from, to, name, the label's width] (data edges have no label).
  const edges: [string, string, string, number][] = [];
  for (const n of chain.nodes) {
    n.inputs.forEach((e, k) => {
      edges.push([String(e.to.id), String(n.id), `d${k}`, edgeLabelWidth(e.value)]);
    });
    for (const d of new Set(n.args))
      if (d?.kind === "data") edges.push([String(d.id), String(n.id), "data", 0]);
  }
  const key = JSON.stringify([
    chain.nodes.map((n) => [n.id, boxWidth(n, lines.get(n)!), lines.get(n)!.length]),
    edges,
  ]);
  if (lastLayout?.key === key) return lastLayout.layout;
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 60, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of chain.nodes) {
    const l = lines.get(n)!;
    g.setNode(String(n.id), { width: boxWidth(n, l), height: l.length * LINE + 10 });
  }
  for (const [v, w, name, width] of edges)
    g.setEdge(v, w, name === "data" ? {} : { width, height: 14 }, name);
  dagre.layout(g);
  timings.layouts++;
  const { width = 0, height = 0 } = g.graph();
  const layout: Layout = {
    width,
    height,
    nodes: new Map(
      g.nodes().map((id: string) => {
        const { x, y, width, height } = g.node(
          id,
        ) as unknown as Layout["nodes"] extends ReadonlyMap<string, infer P> ? P : never;
        return [id, { x, y, width, height }] as const;
      }),
    ),
    edges: g.edges().map((e: { v: string; w: string; name?: string }) => {
      const { points, x, y } = g.edge(e) as {
        points: { x: number; y: number }[];
        x?: number;
        y?: number;
      };
      return { v: e.v, w: e.w, name: e.name!, points, ...(x === undefined ? {} : { x, y: y! }) };
    }),
  };
  lastLayout = { key, layout };
  return layout;
}

/** The graph as SVG: each node's grad_fn, value and gradient, each edge's local derivative. */
function drawGraph(chain: Chain): void {
  const lines = new Map(chain.nodes.map((n) => [n, nodeLines(n)]));
  const { width, height, nodes, edges } = layoutOf(chain, lines);
  const byId = new Map(chain.nodes.map((n) => [String(n.id), n]));
  const svg = el("svg", { id: "graph-svg", width, height, viewBox: `0 0 ${width} ${height}` });
  svg.append(el("defs", {}));
  const marker = el("marker", {
    id: "arrow",
    viewBox: "0 0 10 10",
    refX: 10,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: "auto",
  });
  marker.append(el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#555" }));
  svg.firstChild!.appendChild(marker);
  for (const edge of edges) {
    const data = edge.name === "data";
    const local = data ? null : byId.get(edge.w)!.inputs[Number(edge.name.slice(1))]!;
    const d = edge.points
      .map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
      .join(" ");
    svg.append(
      el("path", {
        d,
        fill: "none",
        stroke: data ? "#aaa" : "#555",
        "stroke-dasharray": data ? "4 3" : "none",
        "marker-end": "url(#arrow)",
      }),
    );
    if (local !== null && edge.x !== undefined) {
      const label = el(
        "text",
        { x: edge.x, y: edge.y! + 4, class: "edge-label", "text-anchor": "middle" },
        edgeLabel(local.value),
      );
      label.append(el("title", {}, `local derivative ${local.plain}`));
      svg.append(label);
    }
  }
  for (const n of chain.nodes) {
    const v = nodes.get(String(n.id))!;
    const group = el("g", {
      class: `node ${n.kind}`,
      "data-name": n.name,
      transform: `translate(${v.x - v.width / 2},${v.y - v.height / 2})`,
    });
    group.append(el("rect", { width: v.width, height: v.height, rx: 5 }));
    lines.get(n)!.forEach((line, i) => {
      group.append(
        el(
          "text",
          { x: 8, y: 17 + i * LINE, class: i === 0 ? "title" : i === 1 ? "gradfn" : "num" },
          line,
        ),
      );
    });
    svg.append(group);
  }
  $("graph").replaceChildren(svg);
}

const full = (v: number | null) => (v === null ? "—" : String(v));

function drawLegs(s: State): void {
  const rows = [...s.chain.leaves].map(([name, leaf]) => {
    const g = s.report.gradients[name];
    const cell = (v: NestedArray | null | undefined) =>
      v === null || v === undefined ? "—" : typeof v === "number" ? full(v) : JSON.stringify(v);
    const err = g?.numericError;
    return `<tr data-input="${name}"><td>${name}</td><td class="byhand">${leaf.grad === null ? "—" : leaf.grad.shape.length === 0 ? full(leaf.grad.data[0]!) : arrayText(leaf.grad)}</td><td class="symbolic">${cell(g?.symbolic)}</td><td class="numeric">${cell(g?.numeric)}${err !== null && err !== undefined ? ` <small>± ${typeof err === "number" ? err.toExponential(1) : "…"}</small>` : ""}</td><td class="autograd">${cell(g?.autograd)}</td></tr>`;
  });
  const verdict =
    s.report.verdict === "agree"
      ? "✓ agree"
      : s.report.verdict === "disagree"
        ? "✗ disagree"
        : "? inconclusive";
  $("legs").innerHTML =
    `<table><thead><tr><th>input</th><th>by hand (chain rule)</th><th>symbolic (CAS)</th><th>numeric (${s.report.method ?? "—"})</th><th>autograd</th></tr></thead><tbody>${rows.join("")}</tbody></table><p class="verdict ${s.report.verdict}">${verdict}${s.report.reason === null ? "" : ` — ${escapeHtml(s.report.reason)}`}</p>`;
}

/** A formula on a line of its own, left-aligned (display style: fractions full size). */
const mathBlock = (latex: string) => `<div class="math">${toMathML(latex)}</div>`;

function drawChainRule(chain: Chain): void {
  const f = chain.output.name;
  const items: string[] = [];
  for (let i = chain.nodes.length - 1; i >= 0; i--) {
    const n = chain.nodes[i]!;
    if (n.kind === "data") continue;
    const label = `∂${f}/∂${n.name}`;
    if (n === chain.output) {
      items.push(`<li>${mathBlock(gradientLatex(chain, n))}<b>${label} = 1</b></li>`);
      continue;
    }
    const sym = n.uses.map((u) => `∂${f}/∂${u.from.name} · (${escapeHtml(u.plain)})`).join(" + ");
    const num = n.uses.map((u) => `${arrayText(u.from.grad)} × ${arrayText(u.value)}`).join(" + ");
    items.push(
      `<li data-node="${n.name}">${mathBlock(gradientLatex(chain, n))}<b>${label}</b> = ${sym || "0"}<br><span class="num">= ${num || "0"} = <b>${arrayText(n.grad)}</b></span></li>`,
    );
  }
  // Small graphs: each leaf's total in closed form, as the CAS simplifies the path sum.
  const totals =
    chain.nodes.length > 24
      ? []
      : [...chain.leaves].map(([name, leaf]) => {
          const s = simplifiedTotal(chain, leaf);
          return s === null
            ? ""
            : `<li class="total" data-leaf="${name}">${mathBlock(`${latexTotal(chain, leaf)} = ${s.latex}`)}<b>∂${f}/∂${name} = ${escapeHtml(s.plain)}</b> <span class="num">(the path sum, simplified by the CAS) = ${arrayText(leaf.grad)}</span></li>`;
        });
  $("chain").innerHTML = `<ol>${items.join("")}${totals.join("")}</ol>`;
}

/** log10 h from the slider. */
const currentH = () => 10 ** Number($<HTMLInputElement>("h").value);

function quotients(h: number): Record<Method, number | null> {
  const s = state!;
  const study = stepStudy(s.expr, toValues(s.point), s.offset, s.leaf.grad?.data[0] ?? Number.NaN, [
    h,
  ]);
  return study.rows[0]!.estimate;
}

function drawPlots(): void {
  const s = state;
  if (s === null) return;
  const h = currentH();
  $("h-value").textContent = `h = ${h.toExponential(1)}`;
  drawFunction(s, h);
  drawErrors(s, h);
}

/** f along the first leaf's first coordinate, with its tangent and the secant over [x, x+h]. */
function drawFunction(s: State, h: number): void {
  const W = 420;
  const H = 260;
  const pad = 36;
  const values = toValues(s.point);
  const { x, layout } = flattenValues(values);
  const f = compileForward(s.expr, layout);
  const x0 = x[s.offset]!;
  const at = (t: number) => {
    const p = x.slice();
    p[s.offset] = t;
    return f(p);
  };
  const f0 = at(x0);
  const slope = s.leaf.grad?.data[0] ?? 0;
  const span = Math.max(1, Math.abs(x0)) * 0.5;
  const xs = Array.from({ length: 161 }, (_, k) => x0 - span + (2 * span * k) / 160);
  const ys = xs.map(at);
  const finite = ys.filter(Number.isFinite);
  let lo = Math.min(...finite, f0);
  let hi = Math.max(...finite, f0);
  if (hi - lo < 1e-12) {
    lo -= 1;
    hi += 1;
  }
  const X = (t: number) => pad + ((t - xs[0]!) / (2 * span)) * (W - 2 * pad);
  const Y = (v: number) => H - pad - ((v - lo) / (hi - lo)) * (H - 2 * pad);
  const svg = el("svg", { id: "function-svg", width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  svg.append(
    el("rect", { x: pad, y: pad, width: W - 2 * pad, height: H - 2 * pad, class: "frame" }),
  );
  const poly = (pts: [number, number][]) =>
    pts
      .filter(([, v]) => Number.isFinite(v))
      .map(([t, v]) => `${X(t).toFixed(1)},${Y(Math.min(hi, Math.max(lo, v))).toFixed(1)}`)
      .join(" ");
  svg.append(el("polyline", { points: poly(xs.map((t, k) => [t, ys[k]!])), class: "curve" }));
  const ends = [xs[0]!, xs.at(-1)!];
  svg.append(
    el("polyline", { points: poly(ends.map((t) => [t, f0 + slope * (t - x0)])), class: "tangent" }),
  );
  const fh = at(x0 + h);
  const secant = (fh - f0) / h;
  svg.append(
    el("polyline", { points: poly(ends.map((t) => [t, f0 + secant * (t - x0)])), class: "secant" }),
  );
  // A value that is not finite (a pole, outside the domain) has no place on the plot.
  if (Number.isFinite(f0)) svg.append(el("circle", { cx: X(x0), cy: Y(f0), r: 4, class: "point" }));
  if (Number.isFinite(fh))
    svg.append(el("circle", { cx: X(x0 + h), cy: Y(fh), r: 3, class: "point-h" }));
  svg.append(
    el(
      "text",
      { x: pad, y: pad - 8 },
      `f along ${s.leaf.name}${s.leaf.value.shape.length > 0 ? "[0]" : ""}: tangent slope ${numberText(slope)}, secant slope ${numberText(secant)}`,
    ),
  );
  svg.append(
    el(
      "text",
      { x: W / 2, y: H - 8, "text-anchor": "middle" },
      `${s.leaf.name} from ${numberText(xs[0]!)} to ${numberText(xs.at(-1)!)}`,
    ),
  );
  $("function").replaceChildren(svg);
}

const COLORS: Record<Method, string> = {
  forward: "#dc2626",
  central: "#2563eb",
  complex: "#059669",
};

/** The error of each method against h, log-log, with the current h marked on each curve. */
function drawErrors(s: State, h: number): void {
  const W = 420;
  const H = 260;
  const pad = 40;
  const steps = [...LESSON_STEPS];
  const exact = s.leaf.grad?.data[0] ?? Number.NaN;
  const study = stepStudy(s.expr, toValues(s.point), s.offset, exact, steps);
  const now = quotients(h);
  const floor = 1e-17;
  const lx = (v: number) => Math.log10(v);
  const ly = (e: number) => Math.log10(Math.max(floor, e));
  const X = (v: number) => pad + ((lx(v) - -1) / (-15 - -1)) * (W - 2 * pad) * 1;
  const Y = (e: number) => pad + ((1 - ly(e)) / (1 - -17)) * (H - 2 * pad);
  const svg = el("svg", { id: "error-svg", width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  svg.append(
    el("rect", { x: pad, y: pad, width: W - 2 * pad, height: H - 2 * pad, class: "frame" }),
  );
  for (const d of [1, -3, -7, -11, -15])
    svg.append(
      el("text", { x: pad - 4, y: Y(10 ** d) + 4, "text-anchor": "end", class: "tick" }, `1e${d}`),
    );
  for (const d of [-1, -4, -8, -12, -15])
    svg.append(
      el(
        "text",
        { x: X(10 ** d), y: H - pad + 14, "text-anchor": "middle", class: "tick" },
        `1e${d}`,
      ),
    );
  svg.append(el("line", { x1: X(h), x2: X(h), y1: pad, y2: H - pad, class: "h-line" }));
  for (const m of METHODS) {
    const pts = study.rows
      .filter((r) => r.error[m] !== null && Number.isFinite(r.error[m]!))
      .map((r) => `${X(r.h).toFixed(1)},${Y(r.error[m]!).toFixed(1)}`);
    svg.append(
      el("polyline", {
        points: pts.join(" "),
        fill: "none",
        stroke: COLORS[m],
        "stroke-width": 1.5,
      }),
    );
    const e = now[m];
    if (e !== null && Number.isFinite(e) && Number.isFinite(Y(Math.abs(e - exact))))
      svg.append(
        el("circle", {
          cx: X(h),
          cy: Y(Math.abs(e - exact)),
          r: 4,
          fill: COLORS[m],
          class: `marker ${m}`,
          "data-method": m,
        }),
      );
    if (m !== "complex" && study.best[m] !== null) {
      const b = study.best[m]!;
      const row = study.rows.find((r) => r.h === b)!;
      svg.append(
        el(
          "text",
          {
            x: X(b),
            y: Y(row.error[m]!) + 14,
            "text-anchor": "middle",
            fill: COLORS[m],
            class: "tick",
          },
          `best ${m}`,
        ),
      );
    }
  }
  svg.append(el("text", { x: pad, y: pad - 10 }, "|error| against h (log-log)"));
  METHODS.forEach((m, k) => {
    svg.append(
      el(
        "text",
        { x: pad + 6, y: H - pad - 34 + 14 * k, style: `fill: ${COLORS[m]}` },
        m === "complex" ? "complex step" : `${m} difference`,
      ),
    );
  });
  svg.append(el("text", { x: W - pad, y: H - 8, "text-anchor": "end", class: "tick" }, "h →"));
  $("errors").replaceChildren(svg);
  const err = (m: Method) => (now[m] === null ? "—" : Math.abs(now[m]! - exact).toExponential(1));
  $("h-errors").textContent =
    `at h = ${h.toExponential(1)}: forward error ${err("forward")}, central ${err("central")}, complex step ${err("complex")} (truncation above the best h, rounding below)`;
}

function start(): void {
  const seed = JSON.parse($("seed").textContent!) as PageSeed;
  $<HTMLInputElement>("expr").value = seed.expr;
  $<HTMLInputElement>("at").value = seed.at;
  $<HTMLInputElement>("wrt").value = seed.wrt;
  $<HTMLSelectElement>("dtype").value = seed.dtype;
  for (const id of ["expr", "at", "wrt", "dtype"]) $(id).addEventListener("input", recompute);
  $("h").addEventListener("input", drawPlots);
  recompute();
  timings.firstRenderMs = performance.now();
}

start();
