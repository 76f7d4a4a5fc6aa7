// A leg's NaN or ±Infinity never counts as agreeing with a finite value, and never widens a
// tolerance (|a − b| ≤ rtol·max(|a|, |b|) is Infinity ≤ Infinity with an infinite a): the two
// finite legs outvote it (PyTorch's gradcheck, too, fails a non-finite analytical gradient where
// the numerical one is finite), and at a domain edge where the derivative is not finite the
// check is inconclusive.
import { describe, expect, it } from "vitest";
// infB, negInfB, bigB: x² whose backward gives ±Infinity (directly, or 1e308·grad overflowing)
// instead of 2x; powSelf: x^x on [0, 5] whose backward is 12345 instead of x^x·(ln x + 1).
import "../../test/fixtures/ops/non-finite/ops.ts";
import { check } from "./check.ts";
import { checkFunction } from "./check-function.ts";
import { outcome } from "./outcome.ts";

describe("a backward rule that returns a non-finite value", () => {
  it.each([
    ["infB(x)", "Infinity", 2],
    ["negInfB(x)", "-Infinity", 2],
    // 1e308·grad with grad = 10 overflows to Infinity.
    ["bigB(x)*10", "Infinity", 20],
  ])(
    "%s at 1: autograd's %s is outvoted by symbolic and numeric (2x by hand)",
    (expr, inf, want) => {
      const r = check(expr, { at: { x: 1 } });
      expect(r).toMatchObject({ verdict: "disagree", blame: "autograd" });
      expect(outcome(r)).toBe("fail");
      expect(r.reason).toBe(
        `autograd gives ${inf} at x where symbolic gives ${want} and numeric gives ${want}`,
      );
    },
  );
});

describe("x^x at 0, where the derivative x^x·(ln x + 1) tends to −∞", () => {
  it.each(["x^x", "x^x + 12345*x", "pow(x,x)*2"])(
    "%s: inconclusive (the CAS's −Infinity agrees with no finite value)",
    (expr) => {
      const r = check(expr, { at: { x: 0 } });
      expect(r).toMatchObject({ verdict: "inconclusive", rule: "outside the domain" });
      expect(r.reason).toBe(
        "outside the domain: the base of pow is 0 while its exponent varies; a^b is differentiable in b only for a > 0",
      );
    },
  );
  it("a custom x^x with a wrong backward is inconclusive there too, and caught inside", () => {
    const r = check("powSelf(x)", { at: { x: 0 } });
    expect(r).toMatchObject({ verdict: "inconclusive", rule: "outside the domain" });
    // At 1 the derivative is 1·(0 + 1) = 1, not 12345.
    expect(check("powSelf(x)", { at: { x: 1 } })).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
    });
  });
});

describe("checkFunction with a hand-written grad that is not finite", () => {
  it.each([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN])(
    "grad %s where d/dx x² = 6: disagree, the reason naming a finite tolerance",
    (g) => {
      const r = checkFunction((x: Float64Array) => x[0]! ** 2, { grad: () => [g], at: [3] });
      expect(r).toMatchObject({ verdict: "disagree", blame: null, failing: ["x[0]"] });
      expect(outcome(r)).toBe("fail");
      expect(r.reason).toMatch(
        new RegExp(
          `^numeric and autograd differ at x\\[0\\]: 6 vs ${g} \\(tolerance \\d\\.\\de-\\d+\\)`,
        ),
      );
    },
  );
  it("a vector output whose vjp gives Infinity", () => {
    const F = (x: Float64Array) => Float64Array.of(x[0]! * x[1]!, x[0]!);
    const vjp = (x: Float64Array, v: Float64Array) =>
      Float64Array.of(v[0]! * x[1]! + v[1]!, v[0]! === 1 ? Number.POSITIVE_INFINITY : 0);
    const r = checkFunction(F, { vjp, at: [0.5, 2] });
    expect(r.verdict).toBe("disagree");
    expect(outcome(r)).toBe("fail");
  });
});
