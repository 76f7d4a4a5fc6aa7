/**
 * The teaching graph as Graphviz DOT, in the manner of micrograd's `draw_dot`: one record per
 * node (name, grad_fn, value, gradient), edges from each input to the node that uses it,
 * labelled with the local derivative. Leaves that require grad are filled; data is dashed.
 */
import type { Arr, Chain, ChainNode } from "./chain.ts";

/** A number in 6 significant digits, an array in its first elements. */
export function numberText(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e15)) return v.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(6)));
}

export function arrayText(a: Arr | null): string {
  if (a === null) return "—";
  if (a.shape.length === 0) return numberText(a.data[0]!);
  const xs = Array.from(a.data.slice(0, 4), numberText);
  return `[${xs.join(", ")}${a.data.length > 4 ? `, … (${a.data.length})` : ""}]`;
}

/** Text inside a record field: the record syntax's own characters escaped. */
const field = (s: string) => s.replace(/[\\{}|<>"]/g, (ch) => `\\${ch}`);
/** Text inside a quoted DOT string. */
const quoted = (s: string) => `"${s.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;

const id = (n: ChainNode) => `n${n.id}`;

/**
 * The graph as a DOT digraph, laid out left to right from the leaves to the output.
 * @example toDot(buildChain(parse("sin(x^2)"), toValues({ x: 3 }))) // "digraph gradtrio { … }"
 */
export function toDot(chain: Chain): string {
  const lines = [
    "digraph gradtrio {",
    "  rankdir=LR;",
    '  node [shape=record, fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const n of chain.nodes) {
    const parts = [
      n.kind === "op" && n.text !== n.name ? `${n.name} = ${n.text}` : n.name,
      n.kind === "op" ? (n.gradFn ?? "—") : n.kind === "leaf" ? "leaf (requires grad)" : "data",
      `data ${arrayText(n.value)}`,
    ];
    if (n.kind !== "data") parts.push(`grad ${arrayText(n.grad)}`);
    const style =
      n.kind === "leaf"
        ? ', style=filled, fillcolor="#dbeafe"'
        : n.kind === "data"
          ? ', style=dashed, color="#888888"'
          : n === chain.output
            ? ', style=filled, fillcolor="#fde68a"'
            : "";
    lines.push(`  ${id(n)} [label=${quoted(`{ ${parts.map(field).join(" | ")} }`)}${style}];`);
  }
  // Data feeds nodes too (x into w*x, y into 1 - y): dashed, without a derivative.
  for (const n of chain.nodes) {
    for (const e of n.inputs)
      lines.push(
        `  ${id(e.to)} -> ${id(n)} [label=${quoted(`${e.plain} = ${arrayText(e.value)}`)}];`,
      );
    for (const d of new Set(n.args))
      if (d?.kind === "data") lines.push(`  ${id(d)} -> ${id(n)} [style=dashed, color="#888888"];`);
  }
  lines.push("}");
  return lines.join("\n");
}
