// A custom op whose forward is not its formula's function (review item 1): the CAS sides with a
// backward written for the formula and would outvote the finite differences of the forward. The
// symbolic leg has no vote there; the verdict rests on numeric and autograd. Expected values by
// hand from the forward the code computes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TRUST_OPS } from "../../properties/trust-ops.ts";
import "../../test/fixtures/ops/collude/ops.ts";
import { defineOp } from "../autograd/index.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { print } from "../expr/print.ts";
import { fuzzCaseArbitrary } from "../fuzz/arbitraries.ts";
import { check } from "./check.ts";
import { formulaCalls, formulaMismatch, symbolicAside } from "./op-formulas.ts";
import { outcome } from "./outcome.ts";
import type { LegReport } from "./report.ts";
import { DEFAULT_TOLERANCE } from "./verdict.ts";

describe("a custom op whose forward is not its formula", () => {
  it("sqBug (forward x², backward and formula x³) at 1.5: no vote for the CAS, autograd contradicted", () => {
    const r = check("sqBug(x)", { at: { x: 1.5 } });
    // d/dx x² = 2x = 3 (numeric), the backward's 3x² = 6.75.
    expect(r.gradients.x!.numeric).toBeCloseTo(3, 12);
    expect(r.gradients.x!.autograd).toBe(6.75);
    expect(r.gradients.x!.symbolic).toBe(6.75); // shown, no vote
    expect(r).toMatchObject({ verdict: "disagree", blame: null, failing: ["x"] });
    expect(outcome(r)).toBe("fail");
    expect(r.legs.symbolic).toMatchObject({ status: "ok", unreliable: true });
    expect(r.reason).toContain("numeric and autograd differ at x: 3 vs 6.75");
    expect(r.reason).toContain(
      "the symbolic leg has no vote: custom op 'sqBug': its formula gives 3.375 where its forward gives 2.25 at x = 1.5, so the CAS differentiates another function than the code computes",
    );
  });

  it("sqBug at 1, where x² and x³ coincide: found 2⁻⁷ off the point", () => {
    const r = check("sqBug(x)", { at: { x: 1 } });
    expect(outcome(r)).toBe("fail");
    // (1 + 2⁻⁷)³ and (1 + 2⁻⁷)²
    const x = 1 + 2 ** -7;
    expect(r.legs.symbolic.reason).toContain(
      `its formula gives ${Number((x ** 3).toPrecision(12))} where its forward gives ${Number((x * x).toPrecision(12))} at x = ${x} (2⁻⁷ of its size off the point)`,
    );
  });

  it("nested: the op's argument named by its expression and value", () => {
    const r = check("sin(sqBug(2*x))", { at: { x: 0.75 } });
    expect(outcome(r)).toBe("fail");
    expect(r.legs.symbolic.reason).toContain(
      "its formula gives 3.375 where its forward gives 2.25 at 2*x = 1.5",
    );
    // d/dx sin((2x)²) = cos(4x²)·8x
    expect(r.gradients.x!.numeric).toBeCloseTo(Math.cos(2.25) * 6, 12);
  });

  it("smBug (softmax of 2x forward, textbook softmax backward and formula): fails, w agrees", () => {
    const x = [1, 2, 3];
    const w = [0.5, -1, 2];
    const r = check("sum(smBug(x)*w)", { at: { x, w } });
    expect(r).toMatchObject({ verdict: "disagree", blame: null });
    expect(outcome(r)).toBe("fail");
    expect(r.failing).toEqual(["x[0]", "x[1]", "x[2]"]);
    // f = Σ wᵢ sᵢ with s = softmax(2x): ∂f/∂w = s, ∂f/∂xᵢ = 2 sᵢ (wᵢ − Σ sⱼ wⱼ).
    const e = x.map((v) => Math.exp(2 * v));
    const s = e.map((v) => v / e.reduce((a, b) => a + b));
    const sw = s.reduce((a, si, i) => a + si * w[i]!, 0);
    const gw = r.gradients.w!;
    const gx = r.gradients.x!;
    s.forEach((si, i) => {
      expect((gw.numeric as number[])[i]).toBeCloseTo(si, 14);
      expect((gw.autograd as number[])[i]).toBeCloseTo(si, 14);
      expect((gx.numeric as number[])[i]).toBeCloseTo(2 * si * (w[i]! - sw), 12);
    });
    expect(r.reason).toContain(
      "custom op 'smBug': its formula gives 0.0900305731704 where its forward gives 0.0158762399765 (output element 0) at x = [1, 2, 3]",
    );
  });

  it("the Jacobian and the Hessian leave the CAS out too", () => {
    const j = check("smBug(x)", { at: { x: [1, 2, 3] } });
    expect(outcome(j)).toBe("fail");
    expect(j.legs.symbolic.unreliable).toBe(true);
    // A backward on plain numbers has no second derivative: the Hessian has numeric alone,
    // d²/dx² x² = 2 (the formula's 6x = 9 shown, no vote).
    const h = check("sqBug(x)", { at: { x: 1.5 }, order: 2 });
    expect(h).toMatchObject({ verdict: "inconclusive", rule: "too few legs" });
    expect(h.hessian!.numeric![0]![0]).toBeCloseTo(2, 6);
    expect(h.hessian!.symbolic![0]![0]).toBe(9);
    expect(h.reason).toContain("only numeric ran (symbolic: no vote: custom op 'sqBug'");
  });
});

describe("correct custom ops: no false alarm", () => {
  it("a forward less accurate than its formula (e^a − 1 for expm1) still passes", () => {
    // At 1e-10 e^a − 1 keeps 7 digits; expm1 all of them. Both legs that read the forward agree
    // on e^a = 1.0000000001.
    const r = check("naiveExpm1(x)", { at: { x: 1e-10 } });
    expect(outcome(r)).toBe("pass");
    expect(r.gradients.x!.autograd).toBeCloseTo(1 + 1e-10, 15);
  });

  it("a softmax that subtracts the max where its formula's exponentials are huge", () => {
    for (const x of [
      [700, 701, 702],
      [1e-300, 0, -1e-300],
      [-30, 0.5, 20],
    ]) {
      const r = check("sum(softmaxOk(x)*w)", { at: { x, w: [0.25, -1, 3] } });
      expect(outcome(r), `${x}: ${r.reason}`).toBe("pass");
    }
    const e = check("softmaxOk(x)", { at: { x: [700, 701, 702] } });
    expect(outcome(e), `${e.reason}`).toBe("pass");
  });

  it("the value comparison itself: none over 3000 compositions of correct ops, hard points", () => {
    // trustPow towers, cube, sin at 300…1000, 2^a written as exp(0.693…·a); the comparison runs
    // whatever the legs say (check looks only where the CAS's vote decides).
    let compared = 0;
    for (const focus of TRUST_OPS)
      for (const c of fc.sample(fuzzCaseArbitrary({ ops: [...TRUST_OPS], focus, maxDepth: 3 }), {
        numRuns: 750,
        seed: 17,
      })) {
        const calls = formulaCalls(c.expr);
        compared += calls.length;
        const why = formulaMismatch(calls, c.expr, toValues(c.at), DEFAULT_TOLERANCE);
        expect(why, `${print(c.expr)} at ${JSON.stringify(c.at)}`).toBeNull();
      }
    expect(compared).toBeGreaterThan(3000);
  });

  it("a formula that calls another custom op is compared expanded", () => {
    const e = parse("trustCube(trustExp2(x))");
    expect(formulaMismatch(formulaCalls(e), e, toValues({ x: 7.3 }), DEFAULT_TOLERANCE)).toBeNull();
  });
});

describe("symbolicAside: the one place the CAS is set aside (check's and the Jacobian's)", () => {
  const legs = (): Record<"symbolic" | "numeric" | "autograd", LegReport> => ({
    symbolic: { status: "ok", reason: null, ms: 1 },
    numeric: { status: "ok", reason: null, ms: 1 },
    autograd: { status: "ok", reason: null, ms: 1 },
  });
  const at = toValues({ x: 1.5 });

  it("looks only where the legs differ, marks the symbolic leg and returns why", () => {
    const e = parse("sqBug(x)");
    const agree = legs();
    expect(symbolicAside(true, e, at, DEFAULT_TOLERANCE, () => false, agree)).toBeNull();
    expect(agree.symbolic).toEqual({ status: "ok", reason: null, ms: 1 });
    const differ = legs();
    const why = symbolicAside(true, e, at, DEFAULT_TOLERANCE, () => true, differ);
    expect(why).toContain(
      "custom op 'sqBug': its formula gives 3.375 where its forward gives 2.25",
    );
    expect(differ.symbolic).toEqual({
      status: "ok",
      ms: 1,
      unreliable: true,
      reason: `no vote: ${why}`,
    });
    expect(differ.numeric).toEqual({ status: "ok", reason: null, ms: 1 });
  });

  it("asks nothing of the legs without a custom op's formula, or when the symbolic leg did not run", () => {
    let asked = 0;
    const differ = () => {
      asked++;
      return true;
    };
    expect(
      symbolicAside(true, parse("sin(x)^2"), at, DEFAULT_TOLERANCE, differ, legs()),
    ).toBeNull();
    expect(
      symbolicAside(false, parse("sqBug(x)"), at, DEFAULT_TOLERANCE, differ, legs()),
    ).toBeNull();
    expect(asked).toBe(0);
  });
});

describe("the expanded-formula cache", () => {
  // An op defined again (a reloaded module: the same source, a new definition) whose formula
  // could not be read before and can now: the op calling it is compared anew, not with the null
  // remembered from before.
  let unreadable = false;
  const inner = () =>
    defineOp({
      name: "reloadedCube",
      arity: 1,
      forward: (a) => a * a * a,
      backward: ({ args: [a], grad }) => [grad * 3 * a! * a!],
      formula: (a) => {
        if (unreadable) throw new Error("not now");
        return `(${a})^3`;
      },
    });
  inner();
  // forward x², formula (through reloadedCube) x³: a mismatch, once the formula can be read.
  defineOp({
    name: "squareCallingCube",
    arity: 1,
    forward: (a) => a * a,
    backward: ({ args: [a], grad }) => [grad * 3 * a! * a!],
    formula: (a) => `reloadedCube(${a})`,
  });

  it("does not keep a formula it could not read past the definition of an op it calls", () => {
    const e = parse("squareCallingCube(x)");
    const at = toValues({ x: 1.5 });
    unreadable = true;
    expect(formulaMismatch(formulaCalls(e), e, at, DEFAULT_TOLERANCE)).toBeNull();
    unreadable = false;
    inner(); // defined again: a new definition of the same op
    expect(formulaMismatch(formulaCalls(e), e, at, DEFAULT_TOLERANCE)).toContain(
      "custom op 'squareCallingCube': its formula gives 3.375 where its forward gives 2.25 at x = 1.5",
    );
  });
});
