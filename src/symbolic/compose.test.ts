import { describe, expect, it } from "vitest";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { casStats } from "./cas.ts";
import { composingDerivatives, withComposedDerivatives } from "./compose.ts";
import { symbolicLeg } from "./leg.ts";

const gradient = (text: string, at: Record<string, number>, name = "x") => {
  const r = symbolicLeg(parse(text), toValues(at));
  if (r.status !== "ok") throw new Error(r.reason);
  return r.gradients.get(name)![0]!;
};

describe("composed derivatives", () => {
  it("give the hand-derived gradient", () => {
    withComposedDerivatives(() => {
      // d/dx sin(x^3 * y) = 3x²y·cos(x³y); d/dy = x³·cos(x³y)
      const [x, y] = [0.7, -1.3];
      expect(gradient("sin(x^3 * y)", { x, y })).toBeCloseTo(
        3 * x * x * y * Math.cos(x ** 3 * y),
        14,
      );
      expect(gradient("sin(x^3 * y)", { x, y }, "y")).toBeCloseTo(
        x ** 3 * Math.cos(x ** 3 * y),
        14,
      );
      // d/dx softplus(2.5*x) / (1 + x^2) by the quotient rule, by hand
      const s = Math.log1p(Math.exp(2.5 * x));
      const ds = 2.5 / (1 + Math.exp(-2.5 * x));
      expect(gradient("softplus(2.5*x) / (1 + x^2)", { x })).toBeCloseTo(
        (ds * (1 + x * x) - s * 2 * x) / (1 + x * x) ** 2,
        14,
      );
      // A piecewise op on its active branch: relu(x - 1) at x = 0.7 is 0, at 1.4 it is x - 1.
      expect(gradient("relu(x - 1) * x", { x })).toBe(0);
      expect(gradient("relu(x - 1) * x", { x: 1.4 })).toBeCloseTo(2 * 1.4 - 1, 14);
    });
    expect(composingDerivatives()).toBe(false);
  });

  it("give the gradient without display formulas, which check gives otherwise", () => {
    const x = 0.3;
    const composed = withComposedDerivatives(() => symbolicLeg(parse("sin(x^2)"), toValues({ x })));
    const whole = symbolicLeg(parse("sin(x^2)"), toValues({ x }));
    if (composed.status !== "ok" || whole.status !== "ok") throw new Error("no symbolic leg");
    expect(composed.gradients.get("x")![0]).toBeCloseTo(2 * x * Math.cos(x * x), 15);
    expect(composed.formulas.size).toBe(0);
    expect(composed.latex.size).toBe(0);
    expect(whole.formulas.get("x")).toBe("2*x*cos(x^2)");
  });

  it("derive each op once: 40 new expressions over the same ops cost no new CAS call", () => {
    withComposedDerivatives(() => {
      gradient("sin(0.5*x^2) + cos(x)", { x: 0.3 });
      const before = casStats.calls;
      for (let k = 1; k <= 40; k++) {
        const c = 1 + k / 7;
        const g = gradient(`sin(${c}*x^2) + cos(x)`, { x: 0.3 });
        expect(g).toBeCloseTo(2 * c * 0.3 * Math.cos(c * 0.09) - Math.sin(0.3), 13);
      }
      expect(casStats.calls - before).toBe(0);
    });
  });
});
