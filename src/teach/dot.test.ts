// The DOT output is a well-formed digraph: checked by a small structural parser here, and by
// Graphviz itself when `dot` is installed (the test is skipped otherwise).
import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { buildChain } from "./chain.ts";
import { toDot } from "./dot.ts";

const dotInstalled = spawnSync("dot", ["-V"]).status === 0;

/** Splits DOT statements, checking quotes and braces balance; returns node ids and edges. */
function structure(dot: string) {
  const body = /^digraph \w+ \{\n([\s\S]*)\n\}$/.exec(dot);
  if (body === null) throw new Error("not a digraph { … }");
  const nodes = new Map<string, string>();
  const edges: [string, string][] = [];
  for (const line of body[1]!.split("\n")) {
    const stmt = line.trim();
    expect(stmt.endsWith(";")).toBe(true);
    // Every quoted string closes: strip escaped characters, then count quotes.
    expect((stmt.replace(/\\./g, "").match(/"/g) ?? []).length % 2).toBe(0);
    const node = /^(n\d+) \[label="((?:[^"\\]|\\.)*)"/.exec(stmt);
    const edge = /^(n\d+) -> (n\d+)/.exec(stmt);
    if (edge !== null) edges.push([edge[1]!, edge[2]!]);
    else if (node !== null) {
      const label = node[2]!.replace(/\\\\/g, "");
      // A record label: { a | b | … } with the record characters inside fields escaped.
      expect(label.startsWith("{ ") && label.endsWith(" }")).toBe(true);
      nodes.set(node[1]!, label);
    }
  }
  for (const [a, b] of edges) {
    expect(nodes.has(a)).toBe(true);
    expect(nodes.has(b)).toBe(true);
  }
  return { nodes, edges };
}

describe("toDot", () => {
  const chain = buildChain(
    parse("bce(sigmoid(w*x+b), y)"),
    toValues({ w: 1, b: 0, x: 6.7, y: 0 }),
    {
      wrt: ["w", "b"],
    },
  );
  const dot = toDot(chain);

  it("one record per node with name, grad_fn, value and gradient; an edge per use", () => {
    const { nodes, edges } = structure(dot);
    expect(nodes.size).toBe(chain.nodes.length);
    const labels = [...nodes.values()];
    expect(labels).toContain("{ w | leaf (requires grad) | data 1 | grad 6.69176 }");
    expect(labels.some((l) => l.includes("SigmoidBackward0") && l.includes("data 0.998771"))).toBe(
      true,
    );
    expect(
      labels.some((l) => l.startsWith("{ x ") && l.includes("data 6.7") && !l.includes("grad")),
    ).toBe(true);
    // w→u1, u1→u2, b→u2, u2→u3, u3→f, plus data x→u1 and y→f (dashed)
    expect(edges).toHaveLength(7);
  });

  it("a rule in words on an edge (relu: 1 if u1 > 0, else 0) stays inside its quotes", () => {
    const c = buildChain(parse("relu(x*y)+clamp(x, 0, 1)"), toValues({ x: 0.5, y: 2 }));
    const { edges } = structure(toDot(c));
    expect(toDot(c)).toContain('label="1 if u1 > 0, else 0 = 1"');
    expect(edges.length).toBeGreaterThan(3);
  });

  it.skipIf(!dotInstalled)("Graphviz renders it (dot -Tsvg)", () => {
    const svg = execFileSync("dot", ["-Tsvg"], { input: dot }).toString();
    expect(svg).toContain("<svg");
    expect(svg).toContain("SigmoidBackward0");
  });
});
