import { describe, expect, it } from "vitest";
import { defineOp } from "../autograd/index.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { runCheckEntry } from "../fuzz/gate.ts";
import { check } from "./check.ts";
import { forwardFault } from "./forward-fault.ts";
import "../vitest/index.ts";

// NaN where a > b: a bug on half the plane, inside the declared domain.
defineOp({
  name: "fnanAboveB",
  arity: 2,
  forward: (a, b) => (a > b ? Number.NaN : a * b),
  backward: ({ args: [a, b], grad }) => [b! * grad, a! * grad],
  domain: [
    [-10, 10],
    [-10, 10],
  ],
});

// Throws where a > b (the message names the arguments), inside the declared domain as above.
defineOp({
  name: "fthrowAboveB",
  arity: 2,
  forward: (a, b) => {
    if (a > b) throw new RangeError(`a > b: ${a} > ${b}`);
    return a * b;
  },
  backward: ({ args: [a, b], grad }) => [b! * grad, a! * grad],
  formula: (a, b) => `(${a})*(${b})`,
  domain: [
    [-10, 10],
    [-10, 10],
  ],
});

describe("forwardFault: the custom op whose own forward is NaN inside its domain", () => {
  it("names the element's arguments through broadcasting: a = [0, 3] against b = 1 fails at (3, 1)", () => {
    expect(forwardFault(parse("sum(fnanAboveB(a, b))"), toValues({ a: [0, 3], b: 1 }))).toBe(
      "custom op 'fnanAboveB': its forward returned NaN at (3, 1), inside its declared domain [-10, 10] × [-10, 10]",
    );
  });

  it("is none where the NaN comes from a built-in's domain (the op's arguments are not finite)", () => {
    expect(forwardFault(parse("fnanAboveB(log(x), 1)"), toValues({ x: -1 }))).toBeNull();
    expect(forwardFault(parse("fnanAboveB(x, 1)"), toValues({ x: 11 }))).toBeNull(); // outside [-10, 10]
    expect(forwardFault(parse("fnanAboveB(x, 1)"), toValues({ x: 0.5 }))).toBeNull(); // finite
  });

  it("check blames autograd (exit 1) inside the domain, is inconclusive outside it", () => {
    const r = check("fnanAboveB(x, y) + x", { at: { x: 2, y: 1 } });
    expect(r).toMatchObject({ verdict: "disagree", blame: "autograd" });
    expect(r.reason).toMatch(/^custom op 'fnanAboveB': its forward returned NaN at \(2, 1\)/);
    expect(check("fnanAboveB(x, y)", { at: { x: 12, y: 1 } })).toMatchObject({
      verdict: "inconclusive",
      rule: "not finite",
    });
  });

  it("a vector output (its Jacobian) too: the NaN element's arguments named", () => {
    expect(check("fnanAboveB(x, 1)", { at: { x: [0.5, 3] } })).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
      reason:
        "custom op 'fnanAboveB': its forward returned NaN at (3, 1), inside its declared domain [-10, 10] × [-10, 10]",
    });
  });
});

describe("forwardFault: the custom op whose own forward throws inside its domain, as a NaN there", () => {
  const at21 =
    "custom op 'fthrowAboveB': its forward threw at (2, 1), inside its declared domain [-10, 10] × [-10, 10]: a > b: 2 > 1";

  it("names the element that throws through broadcasting: a = [0, 3] against b = 1 throws at (3, 1)", () => {
    expect(forwardFault(parse("sum(fthrowAboveB(a, b))"), toValues({ a: [0, 3], b: 1 }))).toBe(
      "custom op 'fthrowAboveB': its forward threw at (3, 1), inside its declared domain [-10, 10] × [-10, 10]: a > b: 3 > 1",
    );
    // Outside [-10, 10] (a = 12) the throw is the point's; a non-finite argument is never inside.
    expect(forwardFault(parse("fthrowAboveB(x, 1)"), toValues({ x: 12 }))).toBeNull();
    expect(forwardFault(parse("fthrowAboveB(1/x, -1)"), toValues({ x: 0 }))).toBeNull();
  });

  it("check blames autograd inside the domain (a gradient, a Jacobian, a Hessian), the reason naming it", () => {
    // It had been inconclusive: "the function could not be evaluated at the point".
    expect(check("fthrowAboveB(x, y) + x", { at: { x: 2, y: 1 } })).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
      reason: at21,
    });
    expect(check("fthrowAboveB(x, 1)", { at: { x: [0.5, 3] } })).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
      reason:
        "custom op 'fthrowAboveB': its forward threw at (3, 1), inside its declared domain [-10, 10] × [-10, 10]: a > b: 3 > 1",
    });
    expect(check("fthrowAboveB(x, y)", { at: { x: 2, y: 1 }, order: 2 })).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
      reason: at21,
    });
  });

  it("outside the declared domain the point is to blame: inconclusive, no value, as before", () => {
    const r = check("fthrowAboveB(x, y)", { at: { x: 12, y: 1 } });
    expect(r).toMatchObject({ verdict: "inconclusive", blame: null, rule: "no value" });
    expect(r.reason).toMatch(/^the function could not be evaluated at the point \(/);
  });

  it("the gate's check entries and the vitest matcher fail it, allowInconclusive or not", () => {
    const entry = runCheckEntry(
      { expr: "fthrowAboveB(x, y)", at: { x: 2, y: 1 }, allowInconclusive: true },
      "checks[0]",
      1,
    );
    expect(entry).toMatchObject({ passed: false, outcome: "disagree" });
    expect(entry.summary).toBe(`disagree at x = 2, y = 1: ${at21}`);
    expect("fthrowAboveB(x, y)").not.toHaveAgreeingGradients({
      at: { x: 2, y: 1 },
      allowInconclusive: true,
    });
    // Outside the domain it stays inconclusive, which allowInconclusive lets pass.
    expect("fthrowAboveB(x, y)").toHaveAgreeingGradients({
      at: { x: 12, y: 1 },
      allowInconclusive: true,
    });
  });
});
