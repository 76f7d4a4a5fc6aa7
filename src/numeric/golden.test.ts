// Every case of torch-golden.json (PyTorch float64): Richardson within 1e-9 relative, the complex
// step within 1e-13, each with an error estimate that covers its distance to PyTorch.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "../expr/parse.ts";
import { type Point, toValues } from "../expr/point.ts";
import { complexStepGradient } from "./complex-step.ts";
import { compileForward, flattenValues } from "./evaluate.ts";
import { gradient } from "./gradient.ts";

interface GoldenCase {
  id: string;
  expr: string;
  at: Point;
  value: number;
  grad: Record<string, number | number[] | number[][]>;
}
const golden = JSON.parse(
  readFileSync(new URL("../../test/fixtures/torch-golden.json", import.meta.url), "utf8"),
) as GoldenCase[];
const flat = (g: GoldenCase["grad"]): number[] =>
  Object.values(g).flatMap((v) => (Array.isArray(v) ? (v.flat(2) as number[]) : [v]));
// Relative error; absolute where PyTorch's gradient is 0.
const rel = (got: number, want: number) =>
  want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);

describe.each(golden)("torch-golden $id: $expr", (c) => {
  const { x, layout } = flattenValues(toValues(c.at));
  const expr = parse(c.expr);
  const f = compileForward(expr, layout);
  const want = flat(c.grad);

  it("evaluates the value PyTorch gives", () => {
    expect(rel(f(x), c.value)).toBeLessThan(1e-14);
  });

  it("Richardson: within 1e-9, error estimate honest, no kink", () => {
    const r = gradient(f, x);
    expect(r.kinks).toEqual([]);
    expect(r.nonFinite).toEqual([]);
    for (let i = 0; i < x.length; i++) {
      expect(rel(r.gradient[i]!, want[i]!)).toBeLessThan(1e-9);
      expect(Math.abs(r.gradient[i]! - want[i]!)).toBeLessThanOrEqual(r.error[i]!);
    }
  });

  it("complex step: within 1e-14, error estimate honest", () => {
    const z = complexStepGradient(expr, layout, x);
    expect(z.ok).toBe(true);
    if (!z.ok) return;
    for (let i = 0; i < x.length; i++) {
      expect(rel(z.gradient[i]!, want[i]!)).toBeLessThan(1e-14);
      // The reference is float64 too: where it forms 1 − p (the seed BCE's ∂/∂y is
      // log(1 − p) − log p at p = σ(6.7)), it sits ~36 ulps off the exact derivative that the
      // complex step's bce-of-sigmoid path computes. Allow the reference 64 ulps of its own.
      const reference = 64 * Number.EPSILON * Math.abs(want[i]!);
      expect(Math.abs(z.gradient[i]! - want[i]!)).toBeLessThanOrEqual(z.error[i]! + reference);
    }
  });

  it("plain central difference: within 1e-7", () => {
    const r = gradient(f, x, { method: "central" });
    for (let i = 0; i < x.length; i++) expect(rel(r.gradient[i]!, want[i]!)).toBeLessThan(1e-7);
  });
});
