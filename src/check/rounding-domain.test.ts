import { describe, expect, it } from "vitest";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { roundingAnalysis } from "./rounding.ts";

describe("roundingAnalysis: domains and extremes", () => {
  it("names the first argument outside its op's domain", () => {
    // bce(1, x): p = 1 is the edge of (0, 1), where log(1 - p) is -∞.
    const a = roundingAnalysis(parse("exp(bce(1, x))"), toValues({ x: 1.05 }));
    expect(a.outsideDomain).toBe("the 1st argument of bce is 1, outside its domain (0, 1)");
    expect(roundingAnalysis(parse("log(x - 1)"), toValues({ x: 0.5 })).outsideDomain).toMatch(
      /^the 1st argument of log is -0\.5, outside its domain \(0, Infinity\)$/,
    );
  });

  it("finds nothing wrong inside every domain", () => {
    const a = roundingAnalysis(
      parse("bce(sigmoid(x), 0.3) + log(x^2) + sqrt(2)"),
      toValues({ x: 0.7 }),
    );
    expect(a.outsideDomain).toBeNull();
    expect(a.extreme).toBeNull();
  });

  it("reports values whose square leaves float64's range (beyond 2^±511)", () => {
    expect(roundingAnalysis(parse("x*y"), toValues({ x: 1e-160, y: 2 })).extreme).toBe(1e-160);
    expect(roundingAnalysis(parse("exp(x)"), toValues({ x: 360 })).extreme).toBe(Math.exp(360));
    expect(roundingAnalysis(parse("exp(x)*y"), toValues({ x: 350, y: 1e-150 })).extreme).toBeNull();
  });
});

describe("roundingAnalysis: pow under a constant exponent", () => {
  const domainAt = (expr: string, at: Record<string, number | number[]>) =>
    roundingAnalysis(parse(expr), toValues(at)).outsideDomain;

  it("a non-integer exponent needs a base in (0, ∞), as sqrt does: 0 is its singularity", () => {
    // d/da a^0.5 = 0.5·a^-0.5 = 0.5/√a: +∞ at a = 0.
    const at0 =
      "the base of pow is 0 under the non-integer exponent 0.5, outside its domain (0, Infinity) (a^b's derivative b·a^(b−1) is infinite at a = 0)";
    expect(domainAt("(x*0)^0.5", { x: 1 })).toBe(at0);
    expect(domainAt("(x-x)^0.5", { x: 1.347 })).toBe(at0);
    expect(domainAt("sin(pow(x-x, 0.5))", { x: 1 })).toBe(at0);
    // (−2)^0.5 is NaN in IEEE arithmetic (and in PyTorch): no real value.
    expect(domainAt("(x^0.5)^0", { x: -2 })).toBe(
      "the base of pow is -2 under the non-integer exponent 0.5, outside its domain (0, Infinity) (a negative number has no real non-integer power)",
    );
    expect(domainAt("x^(1/3)", { x: -8 })).toMatch(
      /^the base of pow is -8 under the non-integer exponent 0\.333/,
    );
    // 1.5 ≥ 1: the derivative 1.5·√a is finite at 0, but a < 0 is still outside: the edge.
    expect(domainAt("(x-x)^1.5", { x: 1 })).toBe(
      "the base of pow is 0 under the non-integer exponent 1.5, outside its domain (0, Infinity)",
    );
  });

  it("a negative exponent at a base of 0 is a pole: a division by zero", () => {
    expect(domainAt("(x-x)^-1", { x: 1 })).toBe(
      "the base of pow is 0 under the negative exponent -1: a pole (a division by zero)",
    );
    expect(domainAt("((y-y)^-1)^y", { y: -0.348 })).toBe(
      "the base of pow is 0 under the negative exponent -1: a pole (a division by zero)",
    );
    expect(domainAt("x^-0.5", { x: 0 })).toBe(
      "the base of pow is 0 under the negative exponent -0.5: a pole (a division by zero)",
    );
  });

  it("an integer exponent (2.0 included) allows every other base, negative ones too", () => {
    for (const [expr, x] of [
      ["x^2", 0],
      ["x^2.0", -2],
      ["x^3", -2],
      ["x^-1", -2],
      ["x^0", 0],
      ["(x-x)^1", 1],
      ["x^0.5", 2],
      ["x^-0.5", 3],
      ["(x^2)^0.5", 1],
    ] as const)
      expect(domainAt(expr, { x }), expr).toBeNull();
  });

  it("looks at every element of a vector base", () => {
    expect(domainAt("sum(x^0.5)", { x: [4, 1, 0, 9] })).toMatch(/^the base of pow is 0 under/);
    expect(domainAt("sum(x^0.5)", { x: [4, 1, 2, 9] })).toBeNull();
    expect(domainAt("sum(x^3)", { x: [4, -1, 0, 9] })).toBeNull();
  });
});
