// pow under a constant exponent at a base outside its real domain, through the real bin: a base
// of 0 under an exponent below 1 (the derivative b·0^(b−1) is infinite), a negative base under a
// non-integer exponent (NaN), 0 under a negative exponent (a pole). Autograd's NaN there is
// PyTorch's answer too: inconclusive (exit 3), the reason naming pow and its base, as sqrt's does
// (these were exit 1: "no majority", or autograd blamed where (−2)^0.5 = NaN turns constant
// under ^0). Integer exponents keep every base but a pole's 0.
import { describe, expect, it } from "vitest";
import { type Run, runsTogether } from "./run-bin.ts";

const cases = {
  zeroTimes: ["check", "(x*0)^0.5", "--at", "x=1", "--json"],
  zeroMinus: ["check", "(x-x)^0.5", "--at", "x=1.347"],
  powCall: ["check", "pow(x-x, 0.5)", "--at", "x=1", "--json"],
  underSin: ["check", "sin((x-x)^0.5)", "--at", "x=1", "--json"],
  negativeToZero: ["check", "(x^0.5)^0", "--at", "x=-2", "--json"],
  coshPow: ["check", "cosh(pow(x^0.5, y-y))", "--at", "x=-2.235", "y=0.259", "--json"],
  poleInside: ["check", "(((y-y))^-1)^y", "--at", "y=-0.348", "--json"],
  pole: ["check", "(x-x)^-1", "--at", "x=1"],
  sqrtTwin: ["check", "sqrt(x*0)", "--at", "x=1", "--json"],
  integerExponents: ["check", "x^3 + x^-1 + x^2.0", "--at", "x=-2", "--json"],
} as const;
const runs = runsTogether(cases);
const json = (r: Run) => JSON.parse(r.stdout);

const AT_ZERO =
  "outside the domain: the base of pow is 0 under the non-integer exponent 0.5, outside its domain (0, Infinity) (a^b's derivative b·a^(b−1) is infinite at a = 0)";
const NEGATIVE =
  "outside the domain: the base of pow is -2 under the non-integer exponent 0.5, outside its domain (0, Infinity) (a negative number has no real non-integer power)";

describe("pow at a base outside its domain: inconclusive (exit 3), not a false alarm", () => {
  it("a base of 0 under ^0.5, however written: pow is named, as sqrt is for sqrt(x*0)", () => {
    for (const r of [runs.zeroTimes, runs.powCall, runs.underSin]) {
      expect(r.stderr).toBe("");
      expect(r.code).toBe(3);
      expect(json(r)).toMatchObject({
        verdict: "inconclusive",
        blame: null,
        reason: AT_ZERO,
      });
      // The function is 0 near x (identically): the finite differences say 0; autograd's
      // 0.5·0^-0.5 = ∞ times 0 is NaN (PyTorch's too).
      const g = json(r).gradients.x;
      expect(g.numeric).toBe(0);
      expect(g.autograd).toBeNull(); // NaN, written null in JSON
    }
    expect(runs.zeroMinus.code).toBe(3);
    expect(runs.zeroMinus.stdout).toContain(`? inconclusive: ${AT_ZERO}\n`);
    expect(runs.sqrtTwin.code).toBe(3);
    expect(json(runs.sqrtTwin).reason).toBe(
      "outside the domain: the 1st argument of sqrt is 0, outside its domain (0, Infinity)",
    );
  });

  it("a negative base under ^0.5 (NaN): autograd is not blamed where NaN^0 = 1 looks constant", () => {
    for (const r of [runs.negativeToZero, runs.coshPow]) {
      expect(r.code).toBe(3);
      expect(json(r)).toMatchObject({ verdict: "inconclusive", blame: null });
    }
    expect(json(runs.negativeToZero).reason).toBe(NEGATIVE);
    expect(json(runs.coshPow).reason).toBe(NEGATIVE.replace("-2 ", "-2.235 "));
  });

  it("a base of 0 under a negative exponent is a pole, said so (not an overflow)", () => {
    expect(runs.poleInside.code).toBe(3);
    expect(json(runs.poleInside).reason).toBe(
      "outside the domain: the base of pow is 0 under the negative exponent -1: a pole (a division by zero)",
    );
    expect(runs.pole.code).toBe(3);
    expect(runs.pole.stdout).toContain(
      "? inconclusive: the function is not finite at the point (value Infinity): outside the domain: the base of pow is 0 under the negative exponent -1: a pole (a division by zero)\n",
    );
    expect(runs.pole.stdout).not.toContain("overflow");
  });

  it("integer exponents (2.0 included) at a negative base: all three legs agree, exit 0", () => {
    const r = runs.integerExponents;
    expect(r.code).toBe(0);
    const j = json(r);
    expect(j).toMatchObject({ verdict: "agree" });
    // d/dx (x³ + x⁻¹ + x²) at −2 = 3·4 − 1/4 − 4, by hand.
    expect(Math.abs(j.gradients.x.autograd - 7.75)).toBeLessThan(1e-13);
  });
});
