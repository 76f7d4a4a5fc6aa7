// An intermediate that overflows float64 while the output stays finite (review11 finding 18):
// exp(710) = ∞ under sigmoid gives 1, and the chain rule multiplies that ∞ by 0 (NaN, as PyTorch's
// backward does: torch.sigmoid(torch.exp(x)) at 710 has grad NaN). No leg is wrong, so the check
// is inconclusive (rule "overflow"), where it used to blame autograd. A wrong backward at an
// ordinary point is still convicted, and a finite gradient the legs agree on stands.
// Also finding 10: ±∞ gradients past 2^±511 overflow float64 (x/y at y = 1e-200), no singularity.
import { describe, expect, it } from "vitest";
import { bigExp } from "../../test/fixtures/ops/overflow/ops.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { fuzz } from "../fuzz/fuzz.ts";
import { check } from "./check.ts";
import { outcome } from "./outcome.ts";
import { roundingAnalysis } from "./rounding.ts";

describe("an intermediate that overflows under a finite output", () => {
  // The intermediate, its value by hand (Math.cosh(800) is Infinity), the function's value.
  it.each([
    ["sigmoid(exp(x))", { x: 710 }, "exp(x)", "exp(710) = Infinity", 1],
    ["exp(-exp(x))", { x: 710 }, "exp(x)", "exp(710) = Infinity", 0],
    ["1/cosh(y)", { y: 800 }, "cosh(y)", "cosh(800) = Infinity", 0],
    ["minimum(1.95, sinh(cosh(y)))^0.5", { y: 8.626 }, "sinh(cosh(y))", "sinh(", Math.sqrt(1.95)],
    ["sigmoid(abs(cosh(x^3)))", { x: -8.991 }, "cosh(x^3)", "cosh(", 1],
  ])("%s at %j: inconclusive, naming %s", (expr, at, inner, element, value) => {
    const r = check(expr, { at });
    expect(r.value).toBeCloseTo(value, 12);
    expect(r).toMatchObject({ verdict: "inconclusive", blame: null, rule: "overflow" });
    expect(outcome(r)).toBe("inconclusive");
    expect(r.reason).toContain(`${inner} overflows float64: ${element}`);
    expect(r.reason).toContain("while the function stays finite");
    expect(r.reason).toContain("0·∞ = NaN");
    // The complex step's note speaks of its own complex evaluation, not of the finite f(x).
    expect(r.notes.join("\n")).not.toMatch(/f\(x\) = NaN/);
  });

  it("the rounding analysis finds the first overflowing intermediate and its argument", () => {
    const a = roundingAnalysis(parse("sigmoid(exp(x)) + x"), toValues({ x: 710 }));
    expect(a.overflow).toMatchObject({ value: Number.POSITIVE_INFINITY, args: [710] });
    expect(a.overflow?.expr).toMatchObject({ kind: "call", op: "exp" });
    // Below the limit (e^709.78 ≈ 1.8e308) nothing overflows; a pole is its domain, not overflow.
    expect(roundingAnalysis(parse("sigmoid(exp(x))"), toValues({ x: 709 })).overflow).toBeNull();
    const pole = roundingAnalysis(parse("sigmoid(1/x)"), toValues({ x: 0 }));
    expect(pole.overflow).toBeNull();
    expect(pole.outsideDomain).toBe("the divisor of div is 0");
  });

  it("float32: beyond float32's range (e^90 ≈ 1.2e39 > 3.4e38) where float64 is fine", () => {
    expect(Math.fround(Math.exp(90))).toBe(Number.POSITIVE_INFINITY);
    const r = check("sigmoid(exp(x))", { at: { x: 90 }, dtype: "float32" });
    expect(r).toMatchObject({ verdict: "inconclusive", rule: "overflow" });
    expect(r.reason).toContain(`exp(x) overflows float32: exp(90) = ${Math.exp(90)}`);
    expect(check("sigmoid(exp(x))", { at: { x: 90 } }).verdict).toBe("agree");
    const v = check("exp(-exp(x))", { at: { x: [1, 89] }, dtype: "float32" });
    expect(v).toMatchObject({ verdict: "inconclusive", rule: "overflow" });
  });

  it("a vector output (the Jacobian) too", () => {
    const r = check("exp(-exp(x))", { at: { x: [1, 710] } });
    expect(r).toMatchObject({ verdict: "inconclusive", rule: "overflow" });
    expect(r.reason).toContain("exp(x) overflows float64: exp(710) = Infinity");
  });

  it("a custom op whose value overflows: as a built-in's", () => {
    const r = check("sigmoid(bigExp(x))", { at: { x: 710 } });
    expect(r).toMatchObject({ verdict: "inconclusive", rule: "overflow" });
    expect(r.reason).toContain("bigExp(x) overflows float64: bigExp(710) = Infinity");
  });

  it("a custom op whose own backward is NaN at a finite point stays contradicted", () => {
    // invCosh's forward overflows inside the op (cosh(800)), its value 0 and derivative 0 are
    // finite: its backward's NaN is the code under test's, as the finite differences show.
    const r = check("invCosh(x)", { at: { x: 800 } });
    expect(r.rule).toBeUndefined();
    expect(outcome(r)).toBe("fail");
    expect(r.gradients.x!.numeric).toBe(0);
  });

  it("a wrong backward at an ordinary point is still convicted", () => {
    // bigExpBad's backward is 2e^a; the derivative of sigmoid(e^x) at 1 is e·σ'(e) by hand.
    const r = check("sigmoid(bigExpBad(x))", { at: { x: 1 } });
    expect(r).toMatchObject({ verdict: "disagree", blame: "autograd" });
    const s = 1 / (1 + Math.exp(-Math.E));
    expect(r.gradients.x!.symbolic).toBeCloseTo(Math.E * s * (1 - s), 14);
  });

  it("a finite gradient the legs agree on stands, though an intermediate overflows", () => {
    // exp(-exp(y)) overflows in y; differentiated in x only, the gradient is cos(1) by hand.
    const r = check("exp(-exp(y)) + sin(x)", { at: { x: 1, y: 710 }, wrt: ["x"] });
    expect(r.verdict).toBe("agree");
    expect(r.gradients.x!.autograd).toBeCloseTo(Math.cos(1), 15);
  });

  it("fuzz: random expressions over a correct op whose value overflows find no counterexample", () => {
    // Before: atan(bigExp(735*y)) at y = 0.966 was a counterexample (numeric 0, autograd NaN).
    const r = fuzz({ ops: [bigExp], runs: 300, seed: 7 });
    expect(r.perOp[0]!.counterexample).toBeNull();
    expect(r.perOp[0]!.inconclusive).toBeGreaterThan(0);
    expect(r.ok).toBe(true);
  }, 60_000);
});

describe("a gradient that overflows float64 is no singularity (finding 10)", () => {
  it("x/y at y = 1e-200: ∂/∂y = −1/y² = −1e400 overflows; the reason says so", () => {
    const r = check("x/y", { at: { x: 1, y: 1e-200 } });
    expect(r).toMatchObject({ verdict: "inconclusive", rule: "singularity" });
    expect(r.gradients.y!.autograd).toBe(Number.NEGATIVE_INFINITY);
    expect(r.reason).toBe(
      "the gradient overflows float64 (±∞ from the symbolic and autograd legs): a value of 1e-200 lies beyond 2^-511, where a derivative's terms (a square of it, a reciprocal of that) leave float64's range; no singularity is needed for that",
    );
  });

  it("sqrt(x) at 0 is still a singularity (the derivative is infinite there)", () => {
    const r = check("sqrt(x)", { at: { x: 0 } });
    expect(r.reason).toBe(
      "non-finite gradient from the symbolic and autograd legs: the point is on a singularity",
    );
  });
});
