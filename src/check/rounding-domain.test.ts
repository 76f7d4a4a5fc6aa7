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
