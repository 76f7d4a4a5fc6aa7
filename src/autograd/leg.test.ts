/**
 * The autograd leg over expressions: values, gradients and Hessians against hand-derived
 * formulas, and its errors. (The PyTorch golden file runs through it in test/golden-tensor.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { errorText } from "../../test/failure.ts";
import { call, constant, num, variable } from "../expr/ast.ts";
import { interpret } from "../expr/interpret.ts";
import { toValues } from "../expr/point.ts";
import { recordOrigins } from "./grad-mode.ts";
import { autogradLeg, tensorAlgebra, upstreamGradients } from "./leg.ts";
import { tensor } from "./tensor.ts";

const x = variable("x");
const y = variable("y");

describe("autogradLeg", () => {
  it("gives value, gradient and Hessian of x·y² + sin(pi·x) (by hand)", () => {
    // f = x y² + sin(πx): f_x = y² + π cos(πx), f_y = 2xy; f_xx = −π² sin(πx), f_xy = 2y, f_yy = 2x
    const f = call("add", [
      call("mul", [x, call("pow", [y, num(2)])]),
      call("sin", [call("mul", [constant("pi"), x])]),
    ]);
    const [xv, yv] = [0.3, -1.5];
    const r = autogradLeg(f, toValues({ x: xv, y: yv }), { hessian: true });
    expect(r.value).toBeCloseTo(xv * yv * yv + Math.sin(Math.PI * xv), 14);
    expect(r.gradients.get("x")![0]).toBeCloseTo(yv * yv + Math.PI * Math.cos(Math.PI * xv), 13);
    expect(r.gradients.get("y")![0]).toBeCloseTo(2 * xv * yv, 14);
    const h = r.hessian!.map((row) => [...row]);
    expect(h[0]![0]).toBeCloseTo(-Math.PI * Math.PI * Math.sin(Math.PI * xv), 13);
    expect(h[0]![1]).toBeCloseTo(2 * yv, 14);
    expect(h[1]![0]).toBeCloseTo(2 * yv, 14);
    expect(h[1]![1]).toBeCloseTo(2 * xv, 14);
  });

  it("flattens tensor variables in map order for gradients and Hessian rows", () => {
    // f = mean(x²) with x of 3: ∇ = 2x/3, H = (2/3) I
    const r = autogradLeg(call("mean", [call("pow", [x, num(2)])]), toValues({ x: [1, -2, 4] }), {
      hessian: true,
    });
    expect([...r.gradients.get("x")!]).toEqual([2 / 3, -4 / 3, 8 / 3]);
    expect(r.hessian!.map((row) => [...row])).toEqual([
      [2 / 3, 0, 0],
      [0, 2 / 3, 0],
      [0, 0, 2 / 3],
    ]);
  });

  it("gives zero gradients for variables the expression does not use, and for constants", () => {
    const r = autogradLeg(call("mul", [x, num(3)]), toValues({ x: 2, y: [1, 2] }), {
      hessian: true,
    });
    expect([...r.gradients.get("x")!]).toEqual([3]);
    expect([...r.gradients.get("y")!]).toEqual([0, 0]);
    expect(r.hessian!.flatMap((row) => [...row])).toEqual(new Array(9).fill(0));
    const c = autogradLeg(call("add", [num(1), num(2)]), toValues({ x: 5 }));
    expect(c.value).toBe(3);
    expect([...c.gradients.get("x")!]).toEqual([0]);
  });

  it("refuses a non-scalar output and an unknown variable", () => {
    expect(errorText(() => autogradLeg(call("sin", [x]), toValues({ x: [1, 2] })))).toBe(
      "NON_SCALAR: the expression must have a scalar value, got shape [2]",
    );
    // one element is not enough: the output must be 0-d
    expect(errorText(() => autogradLeg(call("sin", [x]), toValues({ x: [1] })))).toBe(
      "NON_SCALAR: the expression must have a scalar value, got shape [1]",
    );
    expect(errorText(() => autogradLeg(call("sin", [y]), toValues({ x: 1 })))).toBe(
      "UNKNOWN_VARIABLE: no value given for the variable 'y'",
    );
  });

  it("keeps numbers plain inside ops, as code written by hand would", () => {
    const leaves = new Map([["x", tensor(3, { requiresGrad: true })]]);
    const alg = tensorAlgebra(leaves);
    expect(interpret(call("pow", [x, num(2)]), alg).gradFn!.name).toBe("PowBackward0");
    expect(interpret(call("sub", [num(1), x]), alg).gradFn!.name).toBe("RsubBackward1");
    const c = interpret(call("clamp", [x, num(0), call("sub", [num(1), num(1e-8)])]), alg);
    expect(c.gradFn!.name).toBe("ClampBackward1");
    const traced = recordOrigins(() =>
      interpret(call("clamp", [x, num(0), call("sub", [num(1), num(1e-8)])]), alg),
    );
    expect(traced.origin!.args[2]).toBe(1 - 1e-8);
  });
});

describe("upstreamGradients", () => {
  it("gives the gradient each node's backward receives (by hand)", () => {
    // f = sin(u)·u with u = 2x: u receives cos(u)·u + sin(u); sin(u) receives u; y unused.
    const u = call("mul", [num(2), x]);
    const s = call("sin", [u]);
    const f = call("mul", [s, u]);
    const [gu, gs, gy] = upstreamGradients(f, toValues({ x: 0.7, y: 3 }), [u, s, y]);
    expect(gu![0]).toBeCloseTo(Math.cos(1.4) * 1.4 + Math.sin(1.4), 14);
    expect(gs![0]).toBeCloseTo(1.4, 15);
    expect(gy).toBeNull();
  });
});
