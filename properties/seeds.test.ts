/**
 * The seed cases over their domains: the three legs agree with each other (verdict `agree`) and
 * with the manual formulas the seed notebooks write by hand.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { check } from "../src/check/check.ts";
import { runs } from "./runs.ts";

const close = (actual: number, expected: number, rel = 1e-12, abs = 1e-14): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + abs);
};

const finite = (lo: number, hi: number) =>
  fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });

describe("seed cases over their domains", () => {
  it("x^2: all legs agree with 2x", () => {
    fc.assert(
      fc.property(finite(-100, 100), (x) => {
        const r = check("x^2", { at: { x } });
        expect(r.verdict).toBe("agree");
        for (const leg of ["symbolic", "autograd"] as const)
          close(r.gradients.x![leg] as number, 2 * x);
        close(r.gradients.x!.numeric as number, 2 * x, 1e-9, 1e-9);
      }),
      { numRuns: runs(60) },
    );
  });

  it("sin(x^2): all legs agree with 2x·cos(x²)", () => {
    fc.assert(
      fc.property(finite(-10, 10), (x) => {
        const r = check("sin(x^2)", { at: { x } });
        expect(r.verdict).toBe("agree");
        const manual = 2 * x * Math.cos(x ** 2);
        // x² rounds before the cosine: allow the resulting relative error |x|²·eps·|tan(x²)|.
        const slack = 4 * Number.EPSILON * x * x * Math.abs(2 * x * Math.sin(x ** 2));
        for (const leg of ["symbolic", "autograd"] as const)
          close(r.gradients.x![leg] as number, manual, 1e-12, slack + 1e-14);
      }),
      { numRuns: runs(60) },
    );
  });

  it("mean(x^2) for lengths 1 to 64: all legs agree with 2x/n", () => {
    fc.assert(
      fc.property(fc.array(finite(-50, 50), { minLength: 1, maxLength: 64 }), (xs) => {
        const r = check("mean(x^2)", { at: { x: xs } });
        expect(r.verdict).toBe("agree");
        const n = xs.length;
        for (const leg of ["symbolic", "autograd", "numeric"] as const) {
          const g = r.gradients.x![leg] as number[];
          expect(g).toHaveLength(n);
          for (const [i, x] of xs.entries())
            close(g[i]!, (2 * x) / n, leg === "numeric" ? 1e-9 : 1e-12, 1e-12);
        }
      }),
      { numRuns: runs(40) },
    );
  });

  const bce = "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)";
  const bceCase = (y: fc.Arbitrary<number>) =>
    fc
      .record({ w: finite(-3, 3), b: finite(-3, 3), x: finite(-5, 5), y })
      .filter(({ w, b, x }) => Math.abs(w * x + b) < 15); // the clamp stays inactive

  for (const [label, y] of [
    ["y ∈ {0, 1}", fc.constantFrom(0, 1)],
    ["y ∈ [0, 1]", finite(0, 1)],
  ] as const) {
    it(`BCE with clamp, ${label}: all legs agree with (ŷ−y)·x and (ŷ−y)`, () => {
      fc.assert(
        fc.property(bceCase(y), (at) => {
          const r = check(bce, { at });
          expect(r.verdict).toBe("agree");
          const yhat = 1 / (1 + Math.exp(-(at.w * at.x + at.b)));
          for (const leg of ["symbolic", "autograd"] as const) {
            close(r.gradients.w![leg] as number, (yhat - at.y) * at.x, 1e-9, 1e-12);
            close(r.gradients.b![leg] as number, yhat - at.y, 1e-9, 1e-12);
          }
        }),
        { numRuns: runs(40) },
      );
    });
  }
});
