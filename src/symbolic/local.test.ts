import { describe, expect, it } from "vitest";
import { GradtrioError } from "../errors.ts";
import { BUILTIN_OPS } from "../expr/ops.ts";
import { type LocalDerivative, localDerivative } from "./local.ts";

const okAll = (rs: ReturnType<typeof localDerivative>): LocalDerivative[] =>
  rs.map((r) => {
    if (r.status !== "ok") throw new Error(r.reason);
    return r;
  });

describe("localDerivative", () => {
  it("gives the CAS formula of ∂op/∂arg at symbolic arguments", () => {
    const [sin] = okAll(localDerivative("sin", ["x^2"]));
    expect(sin!.formula).toBe("cos(x^2)");
    expect(sin!.latex).toBe("\\cos\\left(x^{2}\\right)");
    expect(sin!.evaluate([0.3])).toBe(Math.cos(0.3));
    const [pa, pb] = okAll(localDerivative("pow", ["x", "y"]));
    expect(pa!.formula).toBe("y*x^(y-1)");
    expect(pb!.formula).toBe("x^y*log(x)");
  });

  it("evaluates every elementwise built-in at numbers like the hand formulas", () => {
    const u = 0.3;
    const s = 1 / (1 + Math.exp(-u));
    const hand: Record<string, number> = {
      neg: -1,
      sin: Math.cos(u),
      cos: -Math.sin(u),
      tan: 1 / Math.cos(u) ** 2,
      exp: Math.exp(u),
      log: 1 / u,
      sqrt: 0.5 / Math.sqrt(u),
      tanh: 1 - Math.tanh(u) ** 2,
      sigmoid: s * (1 - s),
      log1p: 1 / (1 + u),
      softplus: s,
      relu: 1,
      abs: 1,
      erf: (2 / Math.sqrt(Math.PI)) * Math.exp(-u * u),
      gelu: 0.7323277668271098, // Φ(u) + u φ(u), by Python's math.erf
      asin: 1 / Math.sqrt(1 - u * u),
      acos: -1 / Math.sqrt(1 - u * u),
      atan: 1 / (1 + u * u),
      sinh: Math.cosh(u),
      cosh: Math.sinh(u),
      expm1: Math.exp(u),
    };
    for (const [op, want] of Object.entries(hand)) {
      const [d] = okAll(localDerivative(op, undefined, [u]));
      expect(Math.abs(d!.evaluate([u]) - want), op).toBeLessThan(1e-15);
    }
    const [p, t] = okAll(localDerivative("bce", ["p", "t"]));
    expect(p!.evaluate([0.25, 1])).toBeCloseTo(-4, 14);
    expect(t!.evaluate([0.25, 1])).toBeCloseTo(Math.log(3), 14);
    const [cu, clo, chi] = okAll(localDerivative("clamp", ["x", "0", "1"], [2, 0, 1]));
    expect([cu!.formula, clo!.formula, chi!.formula]).toEqual(["0", "0", "1"]);
    const [ma, mb] = okAll(localDerivative("maximum", ["x", "y"], [2, 1]));
    expect([ma!.formula, mb!.formula]).toEqual(["1", "0"]);
    const elementwise = Object.entries(BUILTIN_OPS).filter(([, s]) => s.kind === "elementwise");
    expect(elementwise.length).toBe(30);
  });

  it("reports a piecewise op on its breakpoint as a kink, and wants the values otherwise", () => {
    expect(localDerivative("relu", ["x"], [0])[0]!.status).toBe("kink");
    expect(() => localDerivative("abs", ["x"])).toThrow(GradtrioError);
    expect(() => localDerivative("sum", ["x"])).toThrow(GradtrioError);
    expect(() => localDerivative("sin", ["x", "y"])).toThrow(GradtrioError);
  });
});
