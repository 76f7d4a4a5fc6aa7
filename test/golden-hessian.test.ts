/**
 * Every Hessian of the PyTorch golden file (test/fixtures/torch-golden.json) through
 * `check(…, { order: 2 })`: autograd (double backward) and symbolic (the CAS's second
 * derivatives) to 1e-9 of the largest entry, numeric (differences of the gradient) to 1e-5, and
 * the verdict agree with all three legs.
 */
import { describe, expect, it } from "vitest";
import { check } from "../src/check/check.ts";
import { reportToJson } from "../src/check/report.ts";
import type { NestedArray } from "../src/expr/point.ts";
import golden from "./fixtures/torch-golden.json" with { type: "json" };
import { expectFloat32Close } from "./float32-close.ts";

interface GoldenCase {
  id: string;
  expr: string;
  at: Record<string, NestedArray>;
  hessian: number[][];
}

const TOLERANCE = { symbolic: 1e-9, autograd: 1e-9, numeric: 1e-5 } as const;

describe("Hessians agree with PyTorch three ways", () => {
  for (const c of golden as unknown as GoldenCase[]) {
    it(`${c.id}: ${c.expr}`, () => {
      const r = check(c.expr, { at: c.at, order: 2 });
      expect(r.verdict, r.reason ?? "").toBe("agree");
      expect(r.reason).toBeNull(); // all three legs ran, for the gradient and the Hessian
      const h = (reportToJson(r) as { hessian: Record<string, number[][]> }).hessian;
      const big = Math.max(...c.hessian.flat().map(Math.abs), Number.MIN_VALUE);
      for (const leg of ["symbolic", "numeric", "autograd"] as const) {
        const m = h[leg]!;
        expect(m.length).toBe(c.hessian.length);
        c.hessian.forEach((row, i) => {
          row.forEach((v, j) => {
            expect(Math.abs(m[i]![j]! - v), `${leg} [${i}][${j}]`).toBeLessThanOrEqual(
              TOLERANCE[leg] * big,
            );
          });
        });
      }
    });
  }

  it("in float32 (autograd's double backward) every case agrees within float32 rounding", () => {
    for (const c of golden as unknown as GoldenCase[]) {
      const r = check(c.expr, { at: c.at, order: 2, dtype: "float32" });
      expect([c.id, r.verdict, r.reason]).toEqual([c.id, "agree", null]);
      expectFloat32Close(r.hessian!.autograd!, c.hessian);
    }
  });

  it("logsumexp: diag(p) − ppᵀ by hand (p the softmax), three ways, also where exp overflows", () => {
    for (const x of [
      [1, 2, 3],
      [1000, 1001, 999],
    ]) {
      const r = check("logsumexp(x)", { at: { x }, order: 2 });
      expect([r.verdict, r.reason]).toEqual(["agree", null]);
      const z = x.map((v) => Math.exp(v - Math.max(...x)));
      const p = z.map((v) => v / z.reduce((a, b) => a + b));
      for (const leg of ["symbolic", "numeric", "autograd"] as const)
        p.forEach((pi, i) => {
          p.forEach((pj, j) => {
            const want = (i === j ? pi : 0) - pi * pj;
            expect(r.hessian![leg]![i]![j]!).toBeCloseTo(want, leg === "numeric" ? 8 : 13);
          });
        });
    }
  });

  it("a Hessian that cancels to 0 (log Σ softmax = log 1): the CAS outvoted, autograd confirmed", () => {
    // The numeric leg's error covers its complex-step gradient's rounding (terms of ~0.3 that
    // cancel), so its 3e-14 agrees with autograd's 1e-17; nerdamer's exponent merge is outvoted.
    for (const x of [
      [1, 2],
      [1, 2, 3],
    ]) {
      const r = check("log(sum(exp(x)/sum(exp(x))))", { at: { x }, order: 2 });
      expect([r.verdict, r.blame]).toEqual(["disagree", "symbolic"]);
      for (const row of r.hessian!.numeric!)
        for (const v of row) expect(Math.abs(v)).toBeLessThan(1e-12);
    }
  });

  it("x^x: the Hessian matches the hand formula", () => {
    // x^x: its Hessian by hand is x^x((log x + 1)² + 1/x); at x = 1.5 all three legs give it.
    const r = check("x^x", { at: { x: 1.5 }, order: 2 });
    const x = 1.5;
    const byHand = x ** x * ((Math.log(x) + 1) ** 2 + 1 / x);
    expect(r.hessian!.autograd![0]![0]).toBeCloseTo(byHand, 12);
    expect(r.hessian!.symbolic![0]![0]).toBeCloseTo(byHand, 12);
  });
});
