// The step-size lesson against hand-computed difference quotients and the textbook's V.
import { describe, expect, it } from "vitest";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { LESSON_STEPS, regionOf, stepStudy } from "./steps.ts";

const exact = 6 * Math.cos(9); // d/dx sin(x²) at 3
const study = stepStudy(parse("sin(x^2)"), toValues({ x: 3 }), 0, exact);

describe("stepStudy", () => {
  it("computes each method's quotient at each h, as written by hand", () => {
    expect(study.rows.map((r) => r.h)).toEqual([...LESSON_STEPS]);
    const f = (x: number) => Math.sin(x * x);
    const h = 1e-3;
    const row = study.rows[2]!;
    expect(row.estimate.forward).toBe((f(3 + h) - f(3)) / h);
    expect(row.estimate.central).toBe((f(3 + h) - f(3 - h)) / (2 * h));
    expect(row.error.forward).toBe(Math.abs((f(3 + h) - f(3)) / h - exact));
  });

  it("finite differences trace a V: the best h near √ε and ∛ε, truncation above, rounding below", () => {
    expect(study.best.forward).toBeGreaterThanOrEqual(1e-9);
    expect(study.best.forward).toBeLessThanOrEqual(1e-7);
    expect(study.best.central).toBeGreaterThanOrEqual(1e-7);
    expect(study.best.central).toBeLessThanOrEqual(1e-4);
    for (const m of ["forward", "central"] as const) {
      const err = (h: number) => study.rows.find((r) => r.h === h)!.error[m]!;
      expect(err(1e-1)).toBeGreaterThan(err(study.best[m]!) * 100);
      expect(err(1e-15)).toBeGreaterThan(err(study.best[m]!) * 100);
      expect(regionOf(study, m, 1e-1)).toBe("truncation");
      expect(regionOf(study, m, 1e-15)).toBe("rounding");
    }
    expect(study.theory.forward).toBeCloseTo(3 * Math.sqrt(Number.EPSILON), 20);
  });

  it("the complex step has no rounding arm: at h ≤ 1e-8 it is exact to rounding", () => {
    for (const r of study.rows.filter((r) => r.h <= 1e-8))
      expect(r.error.complex!).toBeLessThan(1e-13);
    expect(study.complexReason).toBeNull();
  });

  it("a kink: the complex step does not apply to abs at 0, and says why", () => {
    const s = stepStudy(parse("abs(x)"), toValues({ x: 0 }), 0, 0);
    expect(s.rows[0]!.estimate.complex).toBeNull();
    expect(s.complexReason).not.toBeNull();
  });
});
