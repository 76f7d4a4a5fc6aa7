import { describe, expect, it } from "vitest";
import { defineOp } from "../autograd/define-op.ts";
import { check } from "./check.ts";

describe("kinks from evidence", () => {
  it.each([
    ["relu(x)*x", 0],
    ["relu(x)^2", 0],
    ["abs(x)^2", 0],
  ])("%s at %d is differentiable (both one-sided derivatives 0): agree", (expr, x) => {
    const r = check(expr, { at: { x } });
    expect(r.verdict).toBe("agree");
    // The hand derivative is 0; the numeric leg's estimate covers it.
    const g = r.gradients.x!;
    expect(Math.abs(g.numeric as number)).toBeLessThanOrEqual(g.numericError as number);
    expect(g.autograd).toBe(0);
  });

  it("abs(x) at 0 is a kink: the reason gives PyTorch's convention and the subgradient interval", () => {
    const r = check("abs(x)", { at: { x: 0 } });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(/^kink: the function is not differentiable here/);
    expect(r.reason).toMatch(/left derivative -1, right derivative 1/);
    expect(r.reason).toMatch(
      /autograd gives 0, PyTorch's convention, inside the subgradient interval \[-1, 1\]/,
    );
  });

  it("relu(x) at 0: autograd's 0 is the left end of the subgradient interval [0, 1]", () => {
    const r = check("relu(x)", { at: { x: 0 } });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(/autograd gives 0, PyTorch's convention, inside .*\[0, 1\]/);
  });

  it("an oscillating smooth function is no kink (sin(100x)·exp(−x²/100), Richardson)", () => {
    const x = 12.345;
    const r = check("sin(100*x)*exp(-x^2/100)", { at: { x }, method: "richardson" });
    expect(r.verdict).toBe("agree");
    // d/dx = (100·cos(100x) − x/50·sin(100x))·exp(−x²/100), by hand
    const want =
      (100 * Math.cos(100 * x) - (x / 50) * Math.sin(100 * x)) * Math.exp(-(x * x) / 100);
    const g = r.gradients.x!;
    expect(Math.abs((g.numeric as number) - want)).toBeLessThanOrEqual(g.numericError as number);
  });

  it("clamp with coinciding bounds is a breakpoint: inconclusive, autograd is not blamed", () => {
    // clamp(c, y, y) = y, so d/dy = 1; PyTorch's rule gives 0 there.
    const r = check("clamp(0.5-pi, y, y)", { at: { y: 0.3 } });
    expect(r.gradients.y!.numeric).toBeCloseTo(1, 12);
    expect(r.verdict).toBe("inconclusive");
    expect(r.blame).toBeNull();
    expect(r.reason).toMatch(/breakpoint \(clamp at its upper bound\).*PyTorch's convention/);
  });

  it("a custom op on a kink of its own is a kink of the function", () => {
    defineOp({
      name: "kinksTestAbs",
      arity: 1,
      forward: Math.abs,
      backward: ({ args: [a], grad }) => [Math.sign(a!) * grad],
    });
    const r = check("kinksTestAbs(x)*2", { at: { x: 0 } });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(/left derivative -2, right derivative 2/);
    // The value at the kink is the user's backward's choice (sign(0) = 0), not PyTorch's.
    expect(r.reason).toMatch(
      /autograd gives 0, the value your backward of 'kinksTestAbs' picks there, inside the subgradient interval \[-2, 2\]/,
    );
    expect(r.reason).not.toMatch(/PyTorch/);
  });

  it("a custom op's one-sided value at its kink is its backward's, beside a built-in's convention", () => {
    defineOp({
      name: "kinksTestRightAbs",
      arity: 1,
      forward: Math.abs,
      backward: ({ args: [a], grad }) => [(a! >= 0 ? 1 : -1) * grad],
      formula: (a) => `abs(${a})`,
    });
    // The right-hand slope 1 at 0 is the backward's choice: inside [-1, 1], and not abs's 0.
    const alone = check("kinksTestRightAbs(x)", { at: { x: 0 } });
    expect(alone.verdict).toBe("inconclusive");
    expect(alone.reason).toMatch(
      /^kink: .*autograd gives 1, the value your backward of 'kinksTestRightAbs' picks there, inside the subgradient interval \[-1, 1\]/,
    );
    // 2·myAbs + abs at 0: 2·1 + 0 = 2, from both rules.
    const both = check("2*kinksTestRightAbs(x)+abs(x)", { at: { x: 0 } });
    expect(both.reason).toMatch(
      /autograd gives 2, the value the backward rules pick there \(PyTorch's convention for abs, your backward of 'kinksTestRightAbs'\), inside the subgradient interval \[-3, 3\]/,
    );
  });
});

describe("kinks in fast mode (more than 1000 input elements)", () => {
  it("a scalar's partial at a kink: its one-sided derivatives and the interval, as without fast mode", () => {
    // relu(w·x_k − 0.2) at w = 0.5 is at its kink where x_k = 0.4 (0.5·0.4 is 0.2 exactly).
    const n = 1500;
    const x = Array.from({ length: n }, (_, k) => (k === 7 ? 0.4 : Math.sin(k)));
    const r = check("mean(relu(w*x-0.2))", { at: { w: 0.5, x } });
    expect(r.method).toBe("fast");
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(/^kink: the function is not differentiable here \(w: left derivative/);
    // By hand: ∂/∂w = Σ x_k/n over the elements where w·x_k > 0.2; just right of w = 0.5 the
    // element at the kink counts too.
    let left = 0;
    for (let k = 0; k < n; k++) if (0.5 * x[k]! > 0.2) left += x[k]!;
    left /= n;
    const right = left + 0.4 / n;
    const [, l, rt] = /w: left derivative (\S+), right derivative (\S+);/.exec(r.reason!)!;
    expect(Math.abs(Number(l) - left)).toBeLessThan(1e-9);
    expect(Math.abs(Number(rt) - right)).toBeLessThan(1e-9);
    expect(r.reason).toMatch(/autograd gives \S+, PyTorch's convention, inside the subgradient/);
  });
});

describe("an unreliable numeric leg cannot convict autograd", () => {
  // sin with a wrong backward (−cos): no formula, so no symbolic leg.
  defineOp({
    name: "kinksTestWrongSin",
    arity: 1,
    forward: Math.sin,
    backward: ({ args: [a], grad }) => [-Math.cos(a!) * grad],
  });

  it("where float64 cannot resolve f (sin at exp(34.5)), the verdict is inconclusive", () => {
    const r = check("kinksTestWrongSin(exp(3*x))", { at: { x: 11.5 } });
    expect(r.legs.numeric.unreliable).toBe(true);
    expect(r.legs.numeric.reason).toMatch(/^unreliable: /);
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toMatch(/too few legs/);
  });

  it("where it can, the same wrong backward is caught", () => {
    const r = check("kinksTestWrongSin(exp(3*x))", { at: { x: 0.5 } });
    expect(r.legs.numeric.unreliable).toBeUndefined();
    expect(r.verdict).toBe("disagree");
  });
});

describe("kinks from evidence in Jacobians and Hessians, as in gradients", () => {
  it("relu(x) at [-1, 0, 1]: the 0 element is a kink, with PyTorch's value and the interval", () => {
    const r = check("relu(x)", { at: { x: [-1, 0, 1] } });
    expect([r.verdict, r.rule]).toEqual(["inconclusive", "kink"]);
    expect(r.reason).toMatch(
      /^kink: the function is not differentiable here \(∂out\[1\]\/∂x\[1\]: left derivative 0, right derivative 1; autograd gives 0, PyTorch's convention, inside the subgradient interval \[0, 1\]; relu/,
    );
    expect(r.reason).not.toMatch(/out\[0\]|out\[2\]/); // the smooth elements are no kinks
    // The numeric entry's error covers the subgradient interval [0, 1] (by hand).
    const j = r.jacobian!;
    expect(Math.abs(j.numeric![1]![1]! - 0)).toBeLessThanOrEqual(j.numericError![1]![1]!);
    expect(Math.abs(j.numeric![1]![1]! - 1)).toBeLessThanOrEqual(j.numericError![1]![1]!);
  });

  it.each([
    ["abs(x)*x", [-1, 0, 1], [2, 0, 2]], // d(x|x|)/dx = 2|x|
    ["relu(x)^2", [-1, 0, 2], [0, 0, 4]], // 2·relu(x)
  ])("%s at %j is differentiable at its breakpoint: agree (diagonal %j by hand)", (expr, x, d) => {
    const r = check(expr, { at: { x } });
    expect(r.verdict, r.reason ?? "").toBe("agree");
    expect(r.jacobian!.autograd!.map((row, i) => row[i])).toEqual(d);
    expect(r.reason).toMatch(/^two legs: numeric and autograd/);
  });

  it("a kink of a non-elementwise Jacobian (relu of a matvec) names its entries", () => {
    const r = check("relu(matmul(A, x))", {
      at: {
        A: [
          [1, 1],
          [1, -1],
        ],
        x: [1, 1],
      },
    });
    expect(r.rule).toBe("kink");
    // Row 1 is relu(x₀ − x₁) at 0: ∂/∂x₁ is −1 to the left (argument > 0), 0 to the right.
    expect(r.reason).toMatch(/∂out\[1\]\/∂x\[1\]: left derivative -1, right derivative 0/);
    expect(r.reason).not.toMatch(/∂out\[0\]/);
  });

  it("a disagreement at a breakpoint where the function is smooth is inconclusive, not a conviction", () => {
    // clamp(c, y, y) = y elementwise: ∂/∂y = 1; PyTorch's rule gives 0 there.
    const r = check("clamp(0.5-pi, y, y)", { at: { y: [0.3, 0.4] } });
    expect(r.jacobian!.numeric![0]![0]).toBeCloseTo(1, 12);
    expect([r.verdict, r.blame, r.rule]).toEqual(["inconclusive", null, "smooth breakpoint"]);
  });

  it.each([
    // f = relu(x)·x: f' = 2·relu(x) has a kink at 0 (f'' from 0 to 2)
    ["relu(x)*x", "left derivative 0, right derivative 2; autograd gives 0"],
    // f = x|x|: f' = 2|x|, f'' from −2 to 2
    ["abs(x)*x", "left derivative -2, right derivative 2; autograd gives 0"],
  ])(
    "--order 2: %s at 0 has a kink of the gradient: the Hessian is inconclusive",
    (expr, sides) => {
      const r = check(expr, { at: { x: 0 }, order: 2 });
      expect([r.verdict, r.rule]).toEqual(["inconclusive", "kink"]);
      expect(r.reason).toContain(
        `kink: the gradient is not differentiable here (∂²f/∂x∂x: ${sides}`,
      );
    },
  );

  it("--order 2: relu(x)·x² at 0 has a Hessian (0 on both sides, by hand): agree", () => {
    const r = check("relu(x)*x^2", { at: { x: 0 }, order: 2 });
    expect(r.verdict, r.reason ?? "").toBe("agree");
    expect(r.hessian!.autograd).toEqual([[0]]);
    expect(Math.abs(r.hessian!.numeric![0]![0]!)).toBeLessThanOrEqual(
      r.hessian!.numericError![0]![0]!,
    );
  });

  it("a kink in an input not differentiated is none (relu(x)·y with wrt y: ∂f/∂y = relu(0) = 0)", () => {
    const r = check("relu(x)*y", { at: { x: 0, y: 2 }, wrt: ["y"] });
    expect(r.verdict, r.reason ?? "").toBe("agree");
    expect(r.gradients.y!.autograd).toBe(0);
    expect(check("relu(x)*y", { at: { x: 0, y: 2 } }).rule).toBe("kink");
  });
});
