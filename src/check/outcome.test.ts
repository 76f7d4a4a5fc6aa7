// The exit-code rule of docs/DESIGN.md ("Exit codes of check"), case by case, and on real checks.
import { describe, expect, it } from "vitest";
import { check } from "./check.ts";
import { outcome } from "./outcome.ts";

describe("outcome: is autograd confirmed?", () => {
  it.each([
    ["agree", null, "pass", "pass"],
    ["disagree", "symbolic", "pass", "fail"],
    ["disagree", "numeric", "pass", "fail"],
    ["disagree", "autograd", "fail", "fail"],
    ["disagree", null, "fail", "fail"],
    ["inconclusive", null, "inconclusive", "inconclusive"],
  ] as const)("%s, blame %s: %s (strict: %s)", (verdict, blame, plain, strict) => {
    expect(outcome({ verdict, blame })).toBe(plain);
    expect(outcome({ verdict, blame }, { strict: true })).toBe(strict);
  });

  it("references outvoted in different elements (blame null): pass, strict fail", () => {
    const r = { verdict: "disagree", blame: null, outvoted: ["symbolic", "numeric"] } as const;
    expect(outcome(r)).toBe("pass");
    expect(outcome(r, { strict: true })).toBe("fail");
    expect(outcome({ ...r, outvoted: [] })).toBe("fail");
  });

  it("a CAS that is wrong in sign is outvoted: pass, strict fail", () => {
    // nerdamer differentiates sqrt(y^2) as 1 (src/symbolic/defects.ts, power-of-a-square): the
    // derivative is y/|y| = -1 at y = -2.
    const r = check("sqrt(y^2)", { at: { y: -2 } });
    expect(r.gradients.y!.autograd).toBe(-1);
    expect(r).toMatchObject({ verdict: "disagree", blame: "symbolic" });
    expect(r.reason).toMatch(/the opposite sign: a defect of the CAS, not of the code under test$/);
    expect(outcome(r)).toBe("pass");
    expect(outcome(r, { strict: true })).toBe("fail");
  });
});
