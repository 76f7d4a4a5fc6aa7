/**
 * What the check concludes at hard points: a leg that alone returns NaN is outvoted; points where
 * rounding swamps the gradient, or values near float64's limits, are inconclusive, not blamed.
 */
import { describe, expect, it } from "vitest";
import { defineOp } from "../autograd/define-op.ts";
import { parse } from "../expr/parse.ts";
import { compileComplex } from "../numeric/complex.ts";
import { CAS_DEFECTS } from "../symbolic/defects.ts";
import { check } from "./check.ts";

describe("check at hard points", () => {
  it("outvotes the CAS wherever a recorded nerdamer defect still reaches the leg", () => {
    for (const d of CAS_DEFECTS) {
      const r = check(d.expr, { at: d.at });
      // The leg may work around a defect (then it agrees, or gives up and two legs agree);
      // where it does not, it is outvoted.
      const s = r.gradients.x!.symbolic;
      if (r.verdict === "agree") {
        if (s !== null) expect(s as number).toBeCloseTo(d.grad.x!, 9);
      } else
        expect({ id: d.id, verdict: r.verdict, blame: r.blame }).toEqual({
          id: d.id,
          verdict: "disagree",
          blame: "symbolic",
        });
      // Autograd and the finite differences give the hand-derived gradient either way.
      for (const leg of ["autograd", "numeric"] as const)
        expect(r.gradients.x![leg] as number).toBeCloseTo(d.grad.x!, 9);
    }
  });

  it("blames the symbolic leg for a wrong CAS formula, and a NaN from one leg alone", () => {
    // nerdamer takes the root of a square for the variable itself: d/dx sqrt(x^2) at -2 is -1.
    const c = check("sqrt(x^2)", { at: { x: -2 } });
    expect(c).toMatchObject({ verdict: "disagree", blame: "symbolic" });
    expect(c.gradients.x).toMatchObject({ symbolic: 1, autograd: -1 });
    // A custom op whose formula is not its forward (x^2 for x^3): the CAS differentiates another
    // function, so it has no vote; numeric and autograd agree on 3x^2.
    defineOp({
      name: "cubeWrongFormula",
      arity: 1,
      forward: (a) => a ** 3,
      backward: ({ args: [a], grad }) => [3 * a! * a! * grad],
      formula: (a) => `(${a})^2`,
    });
    const r = check("cubeWrongFormula(x)", { at: { x: 1.5 } });
    expect(r).toMatchObject({ verdict: "agree", blame: null });
    expect(r.legs.symbolic).toMatchObject({ status: "ok", unreliable: true });
    expect(r.reason).toContain("formula gives 2.25 where its forward gives 3.375 at x = 1.5");
    expect(r.gradients.x!.autograd).toBeCloseTo(3 * 1.5 ** 2, 12);
    // A backward rule that returns NaN is outvoted, not excused as a singularity.
    defineOp({
      name: "nanBackward",
      arity: 1,
      forward: (a) => Math.sin(a),
      backward: () => [Number.NaN],
      formula: (a) => `sin(${a})`,
    });
    const n = check("nanBackward(x)", { at: { x: 0.5 } });
    expect(n).toMatchObject({ verdict: "disagree", blame: "autograd" });
  });

  it("calls a point ill-conditioned where rounding alone swamps the gradient", () => {
    // bce(y, t) with t = bce(x, y) written out with log(1 - x): 1 - x rounds to 1, so t — and
    // ∂/∂y ≈ -t/y — is pure rounding. (The bce kernel itself forms log1p(-x), exact here.)
    const r = check("bce(y, -(y*log(x) + (1-y)*log(1-x)))", {
      at: { x: 3.9473537380605205e-127, y: 1.1439182891580992e-235 },
    });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(/^ill-conditioned point: rounding alone may move the gradient at y/);
  });

  it("calls a point inconclusive where the legs agree on a value float64 cannot resolve", () => {
    // (1-cos x)/x² at 1e-9: 1 - cos x rounds to 0, so every leg says ≈ 1e9; by the series
    // 1/2 - x²/24 + …, the derivative is -x/12 + x³/180 ≈ -8.3e-11.
    const c = check("(1-cos(x))/x^2", { at: { x: 1e-9 } });
    expect(Math.abs(c.gradients.x!.autograd as number)).toBeGreaterThan(1e6 * (1e-9 / 12));
    expect(c.verdict).toBe("inconclusive");
    expect(c.reason).toMatch(
      /^ill-conditioned point: rounding alone may move the gradient at x by .*float64 cannot resolve the derivative there.*\(they agree, possibly on a wrong value\)$/,
    );
    // sin(exp(3x)) at 11.5: exp(34.5) ≈ 9.6e14 carries an error of ≈ 0.1, its sine none of its digits.
    expect(check("sin(exp(3*x))", { at: { x: 11.5 } }).verdict).toBe("inconclusive");
  });

  it("families: oscillation of a huge argument and cancellation are inconclusive, ordinary points agree", () => {
    // Oscillation: sin(exp(3x)) once eps·exp(3x) passes 1e-6 (x ≥ 7); sin(k·x) for k·x ≈ 1e12.
    for (const x of [7, 8.5, 10, 11.5, 12])
      expect(check("sin(exp(3*x))", { at: { x } }).verdict).toBe("inconclusive");
    for (const x of [1e8, 3e9, 1e10])
      expect(check("cos(1000*x)", { at: { x } }).verdict).toBe("inconclusive");
    // Cancellation: 1 - cos x and exp(x) - 1 - x lose all but a few digits near 0.
    for (const x of [1e-3, 1e-5, 1e-7, 1e-9]) {
      expect(check("(1-cos(x))/x^2", { at: { x } }).verdict).toBe("inconclusive");
      expect(check("(exp(x)-1-x)/x^2", { at: { x } }).verdict).toBe("inconclusive");
    }
    // The same functions at ordinary points: three legs agree.
    for (const x of [-1.3, 0.2, 0.7, 2.5]) {
      expect(check("sin(exp(3*x))", { at: { x } }).verdict).toBe("agree");
      expect(check("cos(1000*x)", { at: { x } }).verdict).toBe("agree");
      expect(check("(1-cos(x))/x^2", { at: { x } }).verdict).toBe("agree");
      expect(check("(exp(x)-1-x)/x^2", { at: { x } }).verdict).toBe("agree");
    }
  });

  it("still agrees where the gradient cancels to zero in terms of size 1", () => {
    for (const x of [0.3, 1.7, -2.2]) {
      expect(check("sin(x)^2 + cos(x)^2", { at: { x } }).verdict).toBe("agree");
      expect(check("tan(x)^2 - 1/cos(x)^2", { at: { x } }).verdict).toBe("agree");
    }
  });

  it("still agrees at the seed BCE where ŷ ≈ ½ and ∂/∂y = log(1-ŷ) - log(ŷ) cancels", () => {
    const r = check("bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)", {
      at: { w: 0, b: -5.551115123125784e-17, x: 0, y: 0 },
    });
    expect(r.verdict).toBe("agree");
  });
});

describe("check with a custom op whose forward runs a complex-step program of its own", () => {
  it("keeps the outer point's kink: relu at 0 stays inconclusive", () => {
    // inner(y) = d/dy sin(y), computed in its forward by a complex step (a nested program run).
    const program = compileComplex(parse("sin(y)"), new Map([["y", { offset: 0, shape: [] }]]));
    defineOp({
      name: "nestedComplexCos",
      arity: 1,
      forward: (a) => {
        program.run(Float64Array.of(a), Float64Array.of(1e-30));
        return program.output.im[0]! / 1e-30;
      },
      backward: ({ args: [a], grad }) => [-Math.sin(a!) * grad],
      formula: (a) => `cos(${a})`,
    });
    expect(check("nestedComplexCos(y)", { at: { y: 1 } }).verdict).toBe("agree");
    // Without the op, relu's kink at x = 0 makes the point inconclusive; the nested run used to
    // reset the outer run's kink, and the legs "agreed" on ∂x = 0.
    const r = check("relu(x) + nestedComplexCos(y)", { at: { x: 0, y: 1 } });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(/^kink: .*x: left derivative 0, right derivative 1/);
  });
});

describe("check outside a domain", () => {
  it("is inconclusive, not a disagreement, where an argument sits on its op's domain edge", () => {
    // exp(bce(1, x)) = exp(-∞) = 0 is finite, but bce's p = 1 leaves no derivative.
    const r = check("exp(bce(1, x))", { at: { x: 1.05 } });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toBe(
      "outside the domain: the 1st argument of bce is 1, outside its domain (0, 1)",
    );
  });
});

describe("check with a varying exponent", () => {
  it("is inconclusive where the base is not positive", () => {
    // a^b with a < 0 is defined only at integer b: no derivative in b, whatever b's value.
    const r = check("log1p(y)^tan(x - x)", { at: { x: -0.4, y: -2.2e-8 } });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(
      /^outside the domain: the base of pow is -2\.2\d*e-8 while its exponent varies/,
    );
    expect(check("x^y", { at: { x: 2, y: 3 } }).verdict).toBe("agree");
    expect(check("x^3", { at: { x: -2 } }).verdict).toBe("agree");
  });
});

describe("check at points the long property run found", () => {
  it("division by zero somewhere in the graph is outside the domain, even with a finite value", () => {
    // clamp(pi, pi/0, log(pi)) = log(pi): finite, but pi/x has no derivative at x = 0.
    const r = check("softplus(clamp(pi, pi/x, log(pi)))", { at: { x: 0, y: 0 } });
    expect(r).toMatchObject({
      verdict: "inconclusive",
      reason: "outside the domain: the divisor of div is 0",
    });
  });

  it("a point at 2^-900: the complex step no longer reads 0 where an imaginary part underflows", () => {
    const tiny = 2 ** -900;
    const r = check("bce(y^(0.5 + x), pi)", { at: { x: tiny, y: tiny } });
    // It read ∂/∂x = 0 ± 6e-14 (y^(0.5+x)·h·ln y underflowed), and the disagreement near the
    // underflow limit made the check inconclusive. Now finite differences take the leg: by hand,
    // ∂/∂x = −(π − (1 − π)·p/(1 − p))·ln y with p = y^(1/2) ≈ 1e-135, i.e. 900·π·ln 2.
    expect(r.verdict).toBe("agree");
    const g = r.gradients.x!;
    expect(Math.abs((g.numeric as number) - 900 * Math.PI * Math.LN2)).toBeLessThanOrEqual(
      (g.numericError as number) + 1e-12,
    );
  });
});

describe("check where the value itself is not finite", () => {
  it("names the op whose argument left its domain", () => {
    const r = check("1 + log(x)", { at: { x: -1 } });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toBe(
      "the function is not finite at the point (value NaN): outside the domain: the 1st argument of log is -1, outside its domain (0, Infinity)",
    );
  });

  it("an infinite value inside every domain overflows float64", () => {
    // e^800 > 1.8e308, the largest double.
    const r = check("exp(x)", { at: { x: 800 } });
    expect(r).toMatchObject({
      verdict: "inconclusive",
      value: Number.POSITIVE_INFINITY,
      reason:
        "the function is not finite at the point (value Infinity): the value overflows float64",
    });
  });

  it("no value at all: the legs' errors, not a domain", () => {
    // Outside its declared domain: inside it, a throw convicts the op (forward-fault.test.ts).
    defineOp({
      name: "throwingForward",
      arity: 1,
      forward: () => {
        throw new Error("boom");
      },
      backward: ({ grad }) => [grad],
      formula: (u) => u,
      domain: [[-1, 1]],
    });
    const r = check("throwingForward(x)", { at: { x: 3 } });
    expect(r).toMatchObject({ verdict: "inconclusive", value: null });
    for (const leg of ["symbolic", "numeric", "autograd"] as const) {
      expect(r.legs[leg].status).toBe("error");
      expect(r.legs[leg].reason).toMatch(/boom$/);
    }
    expect(r.reason).toBe(
      `the function could not be evaluated at the point (symbolic: ${r.legs.symbolic.reason}; numeric: ${r.legs.numeric.reason}; autograd: ${r.legs.autograd.reason})`,
    );
  });
});
