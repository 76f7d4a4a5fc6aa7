import { describe, expect, it } from "vitest";
import { defineOp } from "../autograd/define-op.ts";
import { check } from "./check.ts";

describe("kinks from evidence", () => {
  it.each([
    ["relu(x)*x", 0],
    ["relu(x)^2", 0],
    ["abs(x)^2", 0],
  ])("%s at %d is differentiable (both one-sided derivatives 0): agree", (expr, x) => {
    const r = check(expr, { at: { x } });
    expect(r.verdict).toBe("agree");
    // The hand derivative is 0; the numeric leg's estimate covers it.
    const g = r.gradients.x!;
    expect(Math.abs(g.numeric as number)).toBeLessThanOrEqual(g.numericError as number);
    expect(g.autograd).toBe(0);
  });

  it("abs(x) at 0 is a kink: the reason gives PyTorch's convention and the subgradient interval", () => {
    const r = check("abs(x)", { at: { x: 0 } });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(/^kink: the function is not differentiable here/);
    expect(r.reason).toMatch(/left derivative -1, right derivative 1/);
    expect(r.reason).toMatch(
      /autograd gives 0, PyTorch's convention, inside the subgradient interval \[-1, 1\]/,
    );
  });

  it("relu(x) at 0: autograd's 0 is the left end of the subgradient interval [0, 1]", () => {
    const r = check("relu(x)", { at: { x: 0 } });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(/autograd gives 0, PyTorch's convention, inside .*\[0, 1\]/);
  });

  it("an oscillating smooth function is no kink (sin(100x)·exp(−x²/100), Richardson)", () => {
    const x = 12.345;
    const r = check("sin(100*x)*exp(-x^2/100)", { at: { x }, method: "richardson" });
    expect(r.verdict).toBe("agree");
    // d/dx = (100·cos(100x) − x/50·sin(100x))·exp(−x²/100), by hand
    const want =
      (100 * Math.cos(100 * x) - (x / 50) * Math.sin(100 * x)) * Math.exp(-(x * x) / 100);
    const g = r.gradients.x!;
    expect(Math.abs((g.numeric as number) - want)).toBeLessThanOrEqual(g.numericError as number);
  });

  it("clamp with coinciding bounds is a breakpoint: inconclusive, autograd is not blamed", () => {
    // clamp(c, y, y) = y, so d/dy = 1; PyTorch's rule gives 0 there.
    const r = check("clamp(0.5-pi, y, y)", { at: { y: 0.3 } });
    expect(r.gradients.y!.numeric).toBeCloseTo(1, 12);
    expect(r.verdict).toBe("inconclusive");
    expect(r.blame).toBeNull();
    expect(r.reason).toMatch(/breakpoint \(clamp at its upper bound\).*PyTorch's convention/);
  });

  it("a custom op on a kink of its own is a kink of the function", () => {
    defineOp({
      name: "kinksTestAbs",
      arity: 1,
      forward: Math.abs,
      backward: ({ args: [a], grad }) => [Math.sign(a!) * grad],
    });
    const r = check("kinksTestAbs(x)*2", { at: { x: 0 } });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(/left derivative -2, right derivative 2/);
  });
});

describe("an unreliable numeric leg cannot convict autograd", () => {
  // sin with a wrong backward (−cos): no formula, so no symbolic leg.
  defineOp({
    name: "kinksTestWrongSin",
    arity: 1,
    forward: Math.sin,
    backward: ({ args: [a], grad }) => [-Math.cos(a!) * grad],
  });

  it("where float64 cannot resolve f (sin at exp(34.5)), the verdict is inconclusive", () => {
    const r = check("kinksTestWrongSin(exp(3*x))", { at: { x: 11.5 } });
    expect(r.legs.numeric.unreliable).toBe(true);
    expect(r.legs.numeric.reason).toMatch(/^unreliable: /);
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(/too few legs/);
  });

  it("where it can, the same wrong backward is caught", () => {
    const r = check("kinksTestWrongSin(exp(3*x))", { at: { x: 0.5 } });
    expect(r.legs.numeric.unreliable).toBeUndefined();
    expect(r.verdict).toBe("disagree");
  });
});
