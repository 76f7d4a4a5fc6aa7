import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { registerUnchecked } from "../../test/register-op.ts";
import { type Expr, postOrder, variablesOf } from "../expr/ast.ts";
import type { CustomOpDefinition } from "../expr/ops.ts";
import { toValues } from "../expr/point.ts";
import { evaluate } from "../numeric/evaluate.ts";
import {
  exprArbitrary,
  fuzzCaseArbitrary,
  opExprArbitrary,
  pointArbitrary,
  unitPointArbitrary,
} from "./arbitraries.ts";

const def = (name: string, arity: number, domain?: [number, number][]): CustomOpDefinition =>
  registerUnchecked({
    name,
    arity,
    forward: (...a) => a.reduce((s, v) => s + v, 0),
    backward: ({ args, grad }) => args.map(() => grad),
    ...(domain === undefined ? {} : { domain }),
  });

const half = def("arbHalfLine", 1, [[2, Infinity]]);
const unit = def("arbUnit", 2, [
  [0, 1],
  [-Infinity, Infinity],
]);
const below = def("arbBelow", 1, [[-Infinity, -3]]);
const tri = def("arbTri", 3);
const ops = [half, unit, below, tri];
const byName = new Map(ops.map((d) => [d.name, d]));

const calls = (e: Expr) =>
  postOrder(e).filter((n): n is Expr & { kind: "call" } => n.kind === "call" && byName.has(n.op));

describe("fuzzCaseArbitrary", () => {
  it("keeps every custom-op argument inside its declared open domain, at every point", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ops).chain((focus) => fuzzCaseArbitrary({ ops, focus })),
        ({ expr, at }) => {
          const values = toValues(at);
          for (const c of calls(expr)) {
            const d = byName.get(c.op)!;
            c.args.forEach((arg, i) => {
              const [lo, hi] = d.domain?.[i] ?? [-Infinity, Infinity];
              const v = evaluate(arg, values).data[0]!;
              expect(v > lo && v < hi, `${c.op} argument ${i} = ${v}`).toBe(true);
            });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("makes every argument of every op call depend on a variable, and holds exactly its variables", () => {
    fc.assert(
      fc.property(fuzzCaseArbitrary({ ops, focus: tri }), ({ expr, at }) => {
        for (const c of calls(expr))
          for (const a of c.args) expect(variablesOf(a).length).toBeGreaterThan(0);
        expect(Object.keys(at).sort()).toEqual(variablesOf(expr).sort());
        for (const v of Object.values(at)) expect(Math.abs(v as number)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });

  it("puts the focus op at the root sometimes and inside other calls often", () => {
    const sample = fc.sample(opExprArbitrary({ ops, focus: unit }), { numRuns: 400, seed: 3 });
    let root = 0;
    let nested = 0;
    for (const e of sample) {
      expect(calls(e).some((c) => c.op === "arbUnit")).toBe(true);
      if (e.kind === "call" && e.op === "arbUnit") root++;
      else nested++;
    }
    expect(root).toBeGreaterThan(40);
    expect(nested).toBeGreaterThan(200);
  });

  it("exercises every argument slot of every op with distinct variables", () => {
    const sample = fc.sample(fuzzCaseArbitrary({ ops, focus: tri }), { numRuns: 300, seed: 5 });
    const distinct = sample.filter(({ expr }) =>
      calls(expr).some(
        (c) => c.op === "arbTri" && new Set(c.args.map((a) => variablesOf(a).join())).size === 3,
      ),
    );
    expect(distinct.length).toBeGreaterThan(20);
  });
});

describe("exprArbitrary", () => {
  it("roots every expression at one of the given ops", () => {
    for (const e of fc.sample(exprArbitrary({ ops: [half, below], maxDepth: 2 }), 100))
      expect(e.kind === "call" && (e.op === "arbHalfLine" || e.op === "arbBelow")).toBe(true);
  });

  it("rejects bad options with a clear message", () => {
    expect(() => exprArbitrary({ ops: [] })).toThrow("give at least one op");
    expect(() => exprArbitrary({ ops: [half], maxDepth: 0 })).toThrow(
      "maxDepth must be an integer",
    );
    expect(() => exprArbitrary({ ops: ["noSuchOp"] })).toThrow("no custom op named 'noSuchOp'");
  });
});

describe("points", () => {
  it("unitPointArbitrary: a 0.001 grid in [-1, 1]", () => {
    for (const p of fc.sample(unitPointArbitrary(["x", "y"]), 200)) {
      for (const v of [p.x as number, p.y as number]) {
        expect(Math.abs(v)).toBeLessThanOrEqual(1);
        expect(Math.abs(v * 1000 - Math.round(v * 1000))).toBeLessThan(1e-9);
      }
    }
  });

  it("pointArbitrary: shapes as declared, elements strictly inside their interval", () => {
    const arb = pointArbitrary({
      w: { interval: [0.5, 0.75] },
      A: { shape: [2, 3], interval: [-2, -1] },
    });
    for (const p of fc.sample(arb, 200)) {
      expect(p.w as number).toBeGreaterThan(0.5);
      expect(p.w as number).toBeLessThan(0.75);
      const A = p.A as number[][];
      expect(A.map((r) => r.length)).toEqual([3, 3]);
      for (const v of A.flat()) expect(v > -2 && v < -1).toBe(true);
    }
  });

  it("pointArbitrary rejects an empty or infinite interval", () => {
    expect(() => pointArbitrary({ x: { interval: [1, 1] } })).toThrow("x.interval");
    expect(() => pointArbitrary({ x: { interval: [0, Infinity] } })).toThrow("finite lo < hi");
  });
});
