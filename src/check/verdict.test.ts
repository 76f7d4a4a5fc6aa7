import { describe, expect, it } from "vitest";
import {
  allPairsAgree,
  type Comparison,
  DEFAULT_TOLERANCE,
  fmt,
  judge,
  pairTolerance,
} from "./verdict.ts";

const c = (over: Partial<Comparison>): Comparison => ({
  label: "x",
  symbolic: 6,
  numeric: 6,
  autograd: 6,
  numericError: 1e-10,
  rounding: 1e-15,
  ...over,
});

describe("judge", () => {
  it("agrees when every pair is within its error bounds", () => {
    expect(judge([c({ numeric: 6 + 3e-10 })]).verdict).toBe("agree");
  });

  it("blames the leg the other two outvote", () => {
    expect(judge([c({ autograd: 6 * (1 + 1e-6) })]).blame).toBe("autograd");
    expect(judge([c({ symbolic: -6 })]).blame).toBe("symbolic");
    expect(judge([c({ numeric: 7 })]).blame).toBe("numeric");
  });

  it("catches a 1e-6 relative fault that gradcheck's rtol=1e-3 would miss", () => {
    const j = judge([c({ autograd: 6 * (1 + 1e-6) })]);
    expect(j.verdict).toBe("disagree");
    expect(j.reason).toContain("autograd gives");
  });

  it("blames nobody when all three differ", () => {
    const j = judge([c({ symbolic: 1, numeric: 2, autograd: 3 })]);
    expect(j).toMatchObject({ verdict: "disagree", blame: null });
    expect(j.reason).toContain("all three legs differ");
  });

  it("cannot blame with two legs", () => {
    const j = judge([c({ symbolic: null, autograd: 7 })]);
    expect(j).toMatchObject({ verdict: "disagree", blame: null });
    expect(j.reason).toContain("only two legs");
  });

  it("says numeric cannot decide when it is too imprecise", () => {
    const j = judge([c({ autograd: 6 + 1e-9, numeric: 6, numericError: 1e-6 })]);
    expect(j).toMatchObject({ verdict: "disagree", blame: null });
    expect(j.reason).toContain("cannot tell which is right");
  });

  it("accepts cancellation within the rounding bound and rejects beyond it", () => {
    // The gradient of sin^2+cos^2 is 0 up to rounding in terms of size ~1.
    const z = c({
      symbolic: 0,
      autograd: 1.1e-16,
      numeric: 0,
      rounding: 4e-16,
      numericError: 1e-12,
    });
    expect(judge([z]).verdict).toBe("agree");
    // Beyond the bound the exact legs disagree; numeric (±4e-12) is too coarse to pick a side.
    expect(judge([{ ...z, rounding: 1e-17 }])).toMatchObject({ verdict: "disagree", blame: null });
  });

  it("names the element and reports one blame across elements", () => {
    const j = judge([c({ label: "x[0]" }), c({ label: "x[1]", autograd: 5 })]);
    expect(j.blame).toBe("autograd");
    expect(j.worst?.label).toBe("x[1]");
    expect(j.reason).toContain("x[1]");
  });

  it("fast mode: two-leg elements and a three-leg uᵀ∇f that outvotes one of their pair blame it", () => {
    // Elements compare symbolic with autograd only; uᵀ∇f compares all three and blames autograd.
    const el = (label: string) => c({ label, numeric: null, autograd: 6 * (1 + 1e-6) });
    const dir = c({ label: "uᵀ∇f", autograd: 6 * (1 + 1e-6) });
    const j = judge([el("x[0]"), el("x[1]"), dir]);
    expect(j).toMatchObject({ verdict: "disagree", blame: "autograd" });
    expect(j.reason).toBe(
      "autograd gives 6.000006 at uᵀ∇f where symbolic gives 6 and numeric gives 6 (and 2 more element(s))",
    );
    // A two-leg failure whose pair does not include the outvoted leg: no blame.
    const other = c({ label: "y", autograd: null, numeric: 7 });
    expect(judge([dir, other]).blame).toBe(null);
    // Two-leg failures alone still have no majority.
    expect(judge([el("x[0]"), el("x[1]")]).blame).toBe(null);
    // Three-leg failures that blame different legs: no blame.
    expect(judge([dir, c({ label: "z", symbolic: 7 }), el("x[0]")]).blame).toBe(null);
  });

  it("names both references when the CAS is outvoted in one element and numeric in another", () => {
    const j = judge([c({ label: "x", symbolic: -6 }), c({ label: "y", numeric: 7 })]);
    expect(j).toMatchObject({
      verdict: "disagree",
      blame: null,
      outvoted: ["symbolic", "numeric"],
    });
    expect(j.reason).toMatch(/^symbolic is outvoted: .* at x .*; numeric is outvoted: .* at y /);
    // One reference outvoted: outvoted is [blame]; autograd blamed anywhere: none is.
    expect(judge([c({ symbolic: -6 })]).outvoted).toEqual(["symbolic"]);
    const mixed = judge([c({ label: "x", symbolic: -6 }), c({ label: "y", autograd: 7 })]);
    expect(mixed).toMatchObject({ blame: null, outvoted: [] });
    // A two-leg failure has no majority of its own: nothing is confirmed there.
    const twoLeg = c({ label: "z", numeric: null, autograd: 7 });
    expect(judge([c({ symbolic: -6 }), c({ label: "y", numeric: 7 }), twoLeg]).outvoted).toEqual(
      [],
    );
  });

  it("honours a looser rtol", () => {
    expect(judge([c({ autograd: 6.0006 })], { rtol: 1e-3, atol: 0 }).verdict).toBe("agree");
  });

  it("allPairsAgree: all pairs within tolerance, and then judge agrees at any rounding bound", () => {
    expect(allPairsAgree(c({}), DEFAULT_TOLERANCE)).toBe(true);
    // 6 vs 6 + 1e-11: numeric's bound 4·1e-10 covers it; symbolic vs autograd needs rounding.
    const close = c({ autograd: 6 + 1e-11, numeric: 6, rounding: 0 });
    expect(allPairsAgree(close, DEFAULT_TOLERANCE)).toBe(false);
    expect(judge([{ ...close, rounding: 1e-11 }]).verdict).toBe("agree");
    const zero = c({ rounding: 0, numeric: 6 + 1e-10 });
    expect(allPairsAgree(zero, DEFAULT_TOLERANCE)).toBe(true);
    for (const rounding of [0, 1e-15, 1, Number.POSITIVE_INFINITY])
      expect(judge([{ ...zero, rounding }]).verdict).toBe("agree");
    expect(allPairsAgree(c({ symbolic: null, autograd: 7 }), DEFAULT_TOLERANCE)).toBe(false);
    expect(allPairsAgree(c({ symbolic: null, numeric: null }), DEFAULT_TOLERANCE)).toBe(true);
  });
});

describe("non-finite values", () => {
  const inf = Number.POSITIVE_INFINITY;
  it("a finite pair outvotes autograd's ±Infinity or NaN (none widens a tolerance)", () => {
    for (const autograd of [inf, -inf, Number.NaN]) {
      const j = judge([c({ autograd })]);
      expect(j).toMatchObject({ verdict: "disagree", blame: "autograd" });
      expect(j.reason).toBe(
        `autograd gives ${autograd} at x where symbolic gives 6 and numeric gives 6`,
      );
      // The tolerance stays the finite legs' own: bounds plus rtol of the finite value 6.
      expect(j.worst!.tolerance).toBeLessThan(1e-9);
    }
  });

  it("a reference's ±Infinity is outvoted, never agreeing with a finite value", () => {
    expect(judge([c({ symbolic: -inf })])).toMatchObject({
      verdict: "disagree",
      blame: "symbolic",
    });
    expect(judge([c({ numeric: inf })])).toMatchObject({ verdict: "disagree", blame: "numeric" });
    // Two legs: -Infinity and 0 (x^x at 0: the CAS's x^x·(ln x + 1) and PyTorch's rule).
    const two = c({ symbolic: -inf, numeric: null, autograd: 0 });
    expect(allPairsAgree(two, DEFAULT_TOLERANCE)).toBe(false);
    expect(judge([two])).toMatchObject({ verdict: "disagree", blame: null });
    // Whatever the slack: a relative one times Infinity is no tolerance.
    const loose = { rtol: 1e-3, atol: 1 };
    expect(judge([c({ symbolic: null, autograd: inf })], loose).verdict).toBe("disagree");
    expect(pairTolerance(c({ autograd: -inf }), "symbolic", "autograd", loose)).toBe(
      1e-15 + 1e-15 + 6e-3 + 1,
    );
  });

  it("equal infinities do not agree either: a singularity is the checker's rule, not a match", () => {
    expect(
      allPairsAgree(c({ symbolic: inf, numeric: inf, autograd: inf }), DEFAULT_TOLERANCE),
    ).toBe(false);
  });
});

describe("the symbolic leg's own rounding bound", () => {
  it("widens the symbolic leg's pairs only, to the larger of the two bounds", () => {
    // symbolic 1e-15 off: outside the structural bound 1e-16, inside its own 2e-15.
    const base = c({ symbolic: 6 + 8e-15, numeric: 6, numericError: 1e-17, rounding: 1e-16 });
    expect(judge([base], { rtol: 0, atol: 0 }).blame).toBe("symbolic");
    const own = { ...base, symbolicRounding: 1e-14 };
    expect(judge([own], { rtol: 0, atol: 0 }).verdict).toBe("agree");
    // Pairs without the symbolic leg keep the structural bound.
    const none = { rtol: 0, atol: 0 };
    expect(pairTolerance(own, "numeric", "autograd", none)).toBe(1e-16 + 4e-17);
    expect(pairTolerance(own, "symbolic", "autograd", none)).toBe(1e-14 + 1e-16);
    // A smaller own bound never narrows the structural one.
    const small = c({ symbolic: 6 + 8e-15, rounding: 1e-14, symbolicRounding: 0 });
    expect(judge([small], { rtol: 0, atol: 0 }).verdict).toBe("agree");
  });
});

describe("numbers in a reason", () => {
  it("keeps an exponent's zeros (7.06508319182e-10 was written e-1)", () => {
    for (const [x, text] of [
      [7.06508319182e-10, "7.06508319182e-10"],
      [-1.23456789012e-20, "-1.23456789012e-20"],
      [1.5e-100, "1.5e-100"],
      [2.5e-7, "2.5e-7"],
      [0.125, "0.125"],
      [1e21, "1e+21"],
    ] as const)
      expect(fmt(x)).toBe(text);
    // Through a reason: the CAS's sign defect on sqrt(x²), scaled.
    const outvoted = judge([
      c({
        symbolic: 7.06508319182e-10,
        numeric: -7.06508319182e-10,
        autograd: -7.06508319182e-10,
        numericError: 1e-22,
      }),
    ]);
    expect(outvoted.reason).toContain(
      "symbolic gives 7.06508319182e-10 at x where numeric gives -7.06508319182e-10",
    );
  });
});
