import { describe, expect, it } from "vitest";
import { defineOp } from "../autograd/index.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { check } from "./check.ts";
import { forwardNaN } from "./forward-nan.ts";

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

describe("forwardNaN: the custom op whose own forward is NaN inside its domain", () => {
  it("names the element's arguments through broadcasting: a = [0, 3] against b = 1 fails at (3, 1)", () => {
    expect(forwardNaN(parse("sum(fnanAboveB(a, b))"), toValues({ a: [0, 3], b: 1 }))).toBe(
      "custom op 'fnanAboveB': its forward returned NaN at (3, 1), inside its declared domain [-10, 10] × [-10, 10]",
    );
  });

  it("is none where the NaN comes from a built-in's domain (the op's arguments are not finite)", () => {
    expect(forwardNaN(parse("fnanAboveB(log(x), 1)"), toValues({ x: -1 }))).toBeNull();
    expect(forwardNaN(parse("fnanAboveB(x, 1)"), toValues({ x: 11 }))).toBeNull(); // outside [-10, 10]
    expect(forwardNaN(parse("fnanAboveB(x, 1)"), toValues({ x: 0.5 }))).toBeNull(); // finite
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
