/**
 * The 7 PyTorch float64 Jacobians (test/fixtures/torch-jacobians.json): every leg of `check` must
 * match PyTorch's, autograd and symbolic to 1e-9 of the largest entry, numeric to 1e-5, and the
 * verdict must be agree with all three legs.
 */
import { describe, expect, it } from "vitest";
import { check } from "../src/check/check.ts";
import { reportToJson } from "../src/check/report.ts";
import type { NestedArray } from "../src/expr/point.ts";
import cases from "./fixtures/torch-jacobians.json" with { type: "json" };
import { expectFloat32Close } from "./float32-close.ts";

interface JacobianCase {
  id: string;
  expr: string;
  at: Record<string, NestedArray>;
  value: NestedArray;
  jacobian: number[][];
}

const TOLERANCE = { symbolic: 1e-9, autograd: 1e-9, numeric: 1e-5 } as const;

describe("Jacobians agree with PyTorch three ways", () => {
  for (const c of cases as unknown as JacobianCase[]) {
    it(`${c.id}: ${c.expr}`, () => {
      const r = check(c.expr, { at: c.at });
      const json = reportToJson(r) as { gradients: unknown; jacobian: Record<string, number[][]> };
      expect(r.verdict, r.reason ?? "").toBe("agree");
      expect(r.reason).toBeNull(); // all three legs ran
      expect(json.gradients).toBeNull();
      const big = Math.max(...c.jacobian.flat().map(Math.abs));
      for (const leg of ["symbolic", "numeric", "autograd"] as const) {
        const m = json.jacobian[leg]!;
        expect(m.length).toBe(c.jacobian.length);
        c.jacobian.forEach((row, i) => {
          row.forEach((v, j) => {
            expect(Math.abs(m[i]![j]! - v), `${leg} [${i}][${j}]`).toBeLessThanOrEqual(
              TOLERANCE[leg] * big,
            );
          });
        });
      }
      const flatValue = (v: NestedArray): number[] =>
        Array.isArray(v) ? v.flatMap(flatValue) : [v];
      flatValue(r.value!).forEach((v, i) => {
        expect(v).toBeCloseTo(flatValue(c.value)[i]!, 12);
      });
    });

    it(`${c.id} in float32: agree, autograd's float32 entries within float32 rounding of PyTorch's`, () => {
      const r = check(c.expr, { at: c.at, dtype: "float32" });
      expect([r.verdict, r.reason]).toEqual(["agree", null]);
      expectFloat32Close(r.jacobian!.autograd!, c.jacobian);
    });
  }
});
