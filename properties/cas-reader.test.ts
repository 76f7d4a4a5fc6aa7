/**
 * `CasWriter.reader` reads an expression's CAS text without writing it out whole: whatever it
 * returns must be what writing the text and reading it back (`readCas(write(…))`) gives, formula
 * for formula, error for error, over random elementwise expressions with custom ops (formulas in
 * the expression language and in nerdamer's wider one), every piecewise branch and any number.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { type CallExpr, call, type Expr, num, variable } from "../src/expr/ast.ts";
import { BUILTIN_OPS, branchesOf } from "../src/expr/ops.ts";
import { print } from "../src/expr/print.ts";
import type { Formula } from "../src/symbolic/formula.ts";
import { MAX_DEPTH as READ_MAX_DEPTH, readCas } from "../src/symbolic/read-cas.ts";
import { type Branch, CasWriter } from "../src/symbolic/to-cas.ts";
import { registerUnchecked } from "../test/register-op.ts";
import { canonicalNumber, exprArbitrary, type OpSignature } from "./arbitraries.ts";
import { runs } from "./runs.ts";

const customs = [
  // In the expression language: expanded as an expression (a constant base, a root, e and pi).
  { name: "readerExpr", arity: 2, formula: (a: string, b: string) => `2^(${a})*sqrt(${b})+e*pi` },
  // nerdamer's wider vocabulary: read by readCas and written back (a constant base, 1/3).
  { name: "readerText", arity: 1, formula: (u: string) => `sech(${u})*3^(${u})+2^(1/3)*sec(${u})` },
  // A custom op in another's formula.
  { name: "readerNested", arity: 1, formula: (u: string) => `readerText(${u})*gelu(${u})` },
];
for (const c of customs)
  registerUnchecked({
    ...c,
    forward: () => 0,
    backward: ({ args }) => args.map(() => 0),
  });

const ops: OpSignature[] = [
  ...Object.entries(BUILTIN_OPS)
    .filter(([, spec]) => spec.kind === "elementwise")
    .map(([name, spec]) => ({ name, arity: spec.arity })),
  ...customs,
  { name: "sum", arity: 1 },
];

/** A block's leaves: its variables, and `sum(…)` as a value computed elsewhere. */
const leafKey = (e: Expr): string | undefined =>
  e.kind === "var" ? e.name : e.kind === "call" && e.op === "sum" ? `#${print(e)}` : undefined;

/** A branch for each piecewise node, in turn. */
const branches = new WeakMap<CallExpr, Branch>();
let next = 0;
const branch = (e: CallExpr): Branch => {
  let b = branches.get(e);
  if (b === undefined) branches.set(e, (b = (next++ % branchesOf(e.op)!.cas.length) as Branch));
  return b;
};

type Outcome = { formula: Formula; expanded: string[] } | { error: string };

function outcome(read: () => Formula, w: CasWriter): Outcome {
  try {
    return { formula: read(), expanded: [...w.expanded.keys()].sort() };
  } catch (e) {
    return { error: String(e) };
  }
}

/**
 * `nodes` read both ways, in turn, by one writer each; how many the reader wrote out as text
 * (where it could not read them itself).
 */
function compare(nodes: readonly Expr[]): number {
  const byText = new CasWriter(leafKey);
  const byReader = new CasWriter(leafKey);
  const read = byReader.reader(branch);
  const written = vi.spyOn(byReader, "write");
  for (const e of nodes) {
    const want = outcome(() => readCas(byText.write(e, branch), byText.resolve), byText);
    expect(outcome(() => read(e), byReader)).toEqual(want);
  }
  return written.mock.calls.length;
}

describe("CasWriter.reader", () => {
  it("reads what the written text reads back as, over random expressions", () => {
    const numbers = fc.oneof(
      canonicalNumber,
      canonicalNumber.map((v) => -v),
      fc.integer({ min: -2_000_000, max: 2_000_000 }),
    );
    // Small random trees, joined by random ops into larger ones.
    const trees = fc
      .tuple(
        fc.array(exprArbitrary({ ops, numbers, maxDepth: 4 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.constantFrom(...ops), { maxLength: 10 }),
      )
      .map(([parts, joins]) => {
        const pool = [...parts];
        for (const [k, op] of joins.entries())
          pool.push(
            call(
              op.name,
              Array.from({ length: op.arity }, (_, i) => pool[(k + i) % pool.length]!),
            ),
          );
        return pool.at(-1)!;
      });
    fc.assert(
      fc.property(trees, (root) => {
        // Every subexpression, arguments first: the reader keeps what it read for the next.
        const nodes: Expr[] = [];
        const walk = (e: Expr): void => {
          if (e.kind === "call") for (const a of e.args) walk(a);
          nodes.push(e);
        };
        walk(root);
        // All of them without writing the text, unless the text itself nears readCas's depth
        // limit (custom ops nested in custom ops repeat their arguments: the text can grow so),
        // where the text decides (compare checks the answers either way).
        const written = compare(nodes);
        const w = new CasWriter(leafKey);
        const nesting = (e: Expr) => {
          try {
            return [...w.write(e, branch)].filter((c) => "(-+^".includes(c)).length;
          } catch {
            return Number.POSITIVE_INFINITY; // a limit of write itself
          }
        };
        if (nodes.every((e) => nesting(e) <= (READ_MAX_DEPTH - 2) / 2)) expect(written).toBe(0);
      }),
      { numRuns: runs(300) },
    );
  });

  it("gives the text's own answer where the text nears a limit of write or readCas", () => {
    const x = variable("x");
    // Around readCas's depth limit (each sigmoid nests it 5 deeper) and write's (400 nodes).
    for (const depth of [100, 140, 150, 160, 300, 399, 400, 401, 500]) {
      let e: Expr = x;
      for (let i = 0; i < depth; i++) e = call("sigmoid", [e]);
      // The chain read from the leaf up, then whole.
      const r: Expr[] = [x];
      for (let i = 0; i < depth; i++) r.push(call("relu", [r[i]!]));
      compare([e, ...r]);
      compare([e, r.at(-1)!]);
      // A constant base: written as a symbol for log(base), whose text readCas reads.
      let base: Expr = num(2);
      for (let i = 0; i < depth; i++) base = call("sigmoid", [base]);
      compare([call("pow", [base, x])]);
    }
    // A long text: each level doubles it, past write's 200 000 characters.
    const wide: Expr[] = [call("add", [x, num(2.5)])];
    for (let i = 0; i < 16; i++) wide.push(call("readerExpr", [wide[i]!, wide[i]!]));
    // relu on its zero branch: a short text, over an argument too long to write.
    const zero = call("relu", [wide.at(-1)!]);
    branches.set(zero, 1);
    compare([...wide, zero]);
  });
});
