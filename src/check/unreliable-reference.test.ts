// The numeric leg as the only reference, unreliable by its own test: `check` is inconclusive
// (docs/DESIGN.md, "Exit codes of check"), never a conviction of the code under test on an
// estimate that does not hold.
import { describe, expect, it } from "vitest";
import "../../test/fixtures/ops/non-finite/ops.ts";
import { check } from "./check.ts";

describe("--method central where its step spans a period of f (sin(1e6·x) at 0.3, no formula)", () => {
  it("the only reference is unreliable: inconclusive, not a conviction of a correct backward", () => {
    const r = check("fastSine(x)", { at: { x: 0.3 }, method: "central" });
    expect(r).toMatchObject({ verdict: "inconclusive", rule: "too few legs" });
    expect(r.legs.numeric.unreliable).toBe(true);
    // The backward is right: d/dx sin(1e6·x) = 1e6·cos(3e5) at 0.3, by hand.
    expect(r.gradients.x!.autograd).toBe(1e6 * Math.cos(3e5));
    // Richardson and the complex step resolve it: numeric and autograd agree.
    for (const method of ["auto", "richardson"] as const)
      expect(check("fastSine(x)", { at: { x: 0.3 }, method }).verdict).toBe("agree");
  });
});
