/**
 * Small faults at points where rounding of the intermediates dwarfs them: sin(650 + 343·sin(…))
 * nested three deep carries an error of ~1e-8 of its gradient in its float64 intermediates, which
 * every leg shares when it evaluates the same ones. A 1e-8 relative fault of a backward rule
 * passed there (exit 0, the rounding bound covered it); compared at the shared intermediates it
 * is caught, and the correct op still passes.
 */
import { describe, expect, it } from "vitest";
import { defineOp } from "../autograd/define-op.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { check } from "./check.ts";
import { outcome } from "./outcome.ts";
import { roundingAnalysis } from "./rounding.ts";

const sinOp = (name: string, fault: number) =>
  defineOp({
    name,
    arity: 1,
    forward: Math.sin,
    backward: ({ args: [a], grad }) => [grad * Math.cos(a!) * (1 + fault)],
    formula: (a) => `sin(${a})`,
  });
sinOp("chainSin", 0);
sinOp("chainSinFault", 1e-8);

const nest = (op: string) => `${op}(650 + 343*sin(${op}(650 + 343*sin(${op}(650 + 343*y)))))`;
const at = { y: -0.345 };

describe("comparing at shared float64 intermediates", () => {
  it("bounds the shared chain's own arithmetic far below the intermediates' error", () => {
    const expr = parse(nest("sin"));
    const values = toValues(at);
    const full = roundingAnalysis(expr, values).bounds!.get("y")![0]!;
    const shared = roundingAnalysis(expr, values, undefined, { shared: true }).bounds!.get(
      "y",
    )![0]!;
    // d/dy by hand: the chain rule in float64 at the same intermediates.
    const u1 = 650 + 343 * -0.345;
    const u2 = 650 + 343 * Math.sin(Math.sin(u1));
    const u3 = 650 + 343 * Math.sin(Math.sin(u2));
    const d =
      Math.cos(u3) *
      343 *
      Math.cos(Math.sin(u2)) *
      Math.cos(u2) *
      343 *
      Math.cos(Math.sin(u1)) *
      Math.cos(u1) *
      343;
    expect(full).toBeGreaterThan(1e-9 * Math.abs(d));
    expect(shared).toBeLessThan(1e-13 * Math.abs(d));
  });

  it("catches a 1e-8 relative fault of a backward rule there, and passes the correct rule", () => {
    const bad = check(nest("chainSinFault"), { at });
    expect(outcome(bad), bad.reason ?? "").toBe("fail");
    expect(bad.blame).toBe("autograd");
    const good = check(nest("chainSin"), { at });
    expect(outcome(good), good.reason ?? "").toBe("pass");
  });
});

describe("an ill-conditioned point with a fault the shared intermediates resolve", () => {
  const cube = (name: string, fault: number) =>
    defineOp({
      name,
      arity: 1,
      forward: (a) => a * a * a,
      backward: ({ args: [a], grad }) => [3 * a! * a! * grad * (1 + fault)],
      formula: (a) => `(${a})^3`,
    });
  cube("chainCube", 0);
  cube("chainCubeFault", 1e-8);
  // (4y)^9 ≈ 4e5 feeds sin: rounding may move the gradient (1e8) by ±7e2, more than 1e-6 of it.
  const expr = (op: string) => `chainSin(650 + 343*sin(${op}(${op}(4*y))))`;

  it("is inconclusive for the correct rule and contradicts the faulty one", () => {
    const good = check(expr("chainCube"), { at: { y: 0.993 } });
    expect(good.rule).toBe("ill-conditioned");
    const bad = check(expr("chainCubeFault"), { at: { y: 0.993 } });
    expect(outcome(bad), bad.reason ?? "").toBe("fail");
    expect(bad.reason).toMatch(/intermediates numeric and autograd share/);
  });
});
