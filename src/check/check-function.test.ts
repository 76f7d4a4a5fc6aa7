import { describe, expect, it } from "vitest";
import { type Tensor, tensor } from "../autograd/tensor.ts";
import { GradtrioError } from "../errors.ts";
import { check } from "./check.ts";
import { checkFunction } from "./check-function.ts";
import { reportToJson } from "./report.ts";

const f = (x: Float64Array) => x[0]! ** 2 * x[1]! + Math.sin(x[1]!);
// ∇f by hand: (2·x0·x1, x0² + cos x1)
const grad = (x: Float64Array) => Float64Array.of(2 * x[0]! * x[1]!, x[0]! ** 2 + Math.cos(x[1]!));

describe("checkFunction (black-box f with the user's derivative)", () => {
  it("agrees on two legs with a correct grad, and says so", () => {
    const r = checkFunction(f, { grad, at: [3, 2] });
    expect(r.verdict).toBe("agree");
    expect(r.reason).toMatch(/^two legs: numeric and autograd/);
    expect(r.legs.symbolic.status).toBe("skipped");
    const j = reportToJson(r) as { gradients: { x: { autograd: number[]; symbolic: null } } };
    expect(j.gradients.x.autograd).toEqual([12, 9 + Math.cos(2)]);
    expect(j.gradients.x.symbolic).toBeNull();
  });

  it("catches a grad off by a relative 1e-6 (no majority with two legs: blame null)", () => {
    const bad = (x: Float64Array) => {
      const g = grad(x);
      g[1]! *= 1 + 1e-6;
      return g;
    };
    const r = checkFunction(f, { grad: bad, at: [3, 2] });
    expect(r.verdict).toBe("disagree");
    expect(r.failing).toEqual(["x[1]"]);
  });

  it("takes a number point and a number gradient", () => {
    const r = checkFunction((x: number) => Math.exp(-x) * x, {
      grad: (x: number) => Math.exp(-x) * (1 - x),
      at: 0.7,
    });
    expect(r.verdict).toBe("agree");
  });

  it("checks a vector output by the user's vjp, and by its jvp", () => {
    const F = (x: Float64Array) => Float64Array.of(x[0]! * x[1]!, Math.exp(x[0]!));
    // J by hand: [[x1, x0], [e^x0, 0]]
    const J = (x: Float64Array) => [
      [x[1]!, x[0]!],
      [Math.exp(x[0]!), 0],
    ];
    const vjp = (x: Float64Array, v: Float64Array) =>
      Float64Array.of(
        v[0]! * J(x)[0]![0]! + v[1]! * J(x)[1]![0]!,
        v[0]! * J(x)[0]![1]! + v[1]! * J(x)[1]![1]!,
      );
    const jvp = (x: Float64Array, v: Float64Array) =>
      J(x).map((row) => row[0]! * v[0]! + row[1]! * v[1]!);
    expect(checkFunction(F, { vjp, at: [0.5, 2] }).verdict).toBe("agree");
    expect(checkFunction(F, { jvp, at: [0.5, 2] }).verdict).toBe("agree");
    // A transposed Jacobian is caught.
    const transposed = (x: Float64Array, v: Float64Array) =>
      Float64Array.of(
        v[0]! * J(x)[0]![0]! + v[1]! * J(x)[0]![1]!,
        v[0]! * J(x)[1]![0]! + v[1]! * J(x)[1]![1]!,
      );
    const r = checkFunction(F, { vjp: transposed, at: [0.5, 2] });
    expect(r.verdict).toBe("disagree");
    expect(r.jacobian!.autograd![0]![1]).toBe(Math.exp(0.5));
  });

  it("traces a function written with the Tensor API: three legs", () => {
    const r = checkFunction((x: Tensor) => x.pow(2).sin().sum(), { at: [1, 2] });
    expect(r.verdict).toBe("agree");
    expect(r.reason).toBeNull();
    expect(r.legs.symbolic.status).toBe("ok");
  });

  it("refuses a Tensor function whose result leaves the graph (d(2x)/dx = 2, not 0)", () => {
    const leaves =
      /does not depend on its inputs? through the Tensor API \(\.data, \.item\(\) and Number\(\.\.\.\) leave the graph\)/;
    expect(() => checkFunction((x: Tensor) => x.data[0]! * 2, { at: 1 } as never)).toThrow(leaves);
    expect(() => checkFunction((x: Tensor) => x.data[0]! * 2, { at: [1, 2] } as never)).toThrow(
      leaves,
    );
    expect(() =>
      checkFunction((x: Tensor) => tensor(Math.sin(x.item())), { at: 1 } as never),
    ).toThrow(leaves);
  });

  it("refuses a Tensor function that mixes a raw read with Tensor ops (d(x·x)/dx = 2x, not x)", () => {
    const used = /^trace: the function uses a value read from its inputs as a number/;
    // x·x.data[0] at 3 traced as x*3: every leg would give 3; the function's derivative is 6.
    expect(() => checkFunction((x: Tensor) => x.mul(x.data[0]!), { at: 3 } as never)).toThrow(used);
    expect(() => check((x: Tensor) => x.mul(Number(x)), { at: { x: 3 } })).toThrow(used);
    // Read as text and parsed back: at 3 the 4-decimal text "tensor(3.)" would trace as x*3 too.
    expect(() =>
      checkFunction((x: Tensor) => x.mul(Number(String(x).slice(7, -1))), { at: 3 } as never),
    ).toThrow(used);
    expect(() =>
      check((x: Tensor) => x.mul(parseFloat(`${x}`.slice(7))), { at: { x: 3 } }),
    ).toThrow(used);
    // A value of an input not differentiated is data, a constant as in PyTorch: ∂(w·y)/∂w = y = 2.
    const r = check((w: Tensor, y?: Tensor) => w.mul(y!.item()), {
      at: { w: 1, y: 2 },
      wrt: ["w"],
    });
    expect(r.verdict).toBe("agree");
    expect(r.gradients.w!.autograd).toBe(2);
  });

  it("refuses an unknown option (a JavaScript typo is not ignored)", () => {
    expect(() => checkFunction(f, { grad, at: [3, 2], rtool: 1 } as never)).toThrow(
      "checkFunction: unknown option 'rtool' (did you mean 'rtol'?; known: at, grad, vjp, jvp, rtol, atol)",
    );
  });

  it("names the user's derivative and the function when the derivative throws", () => {
    function square(x: number) {
      return x * x;
    }
    expect(() =>
      checkFunction(square, {
        at: 2,
        grad: () => {
          throw new Error("grad boom");
        },
      }),
    ).toThrow(/^checkFunction: grad\(x\) of 'square' threw: grad boom$/);
    const g = (x: Float64Array) => [2 * x[0]!, x[1]!];
    expect(() =>
      checkFunction(g, {
        at: [1, 2],
        vjp: () => {
          throw new TypeError("vjp\nboom");
        },
      }),
    ).toThrow(/^checkFunction: vjp\(x, v\) of 'g' threw: vjp boom$/);
    expect(() =>
      checkFunction(g, {
        at: [1, 2],
        jvp: () => {
          throw "a string";
        },
      }),
    ).toThrow(/^checkFunction: jvp\(x, v\) of 'g' threw: a string$/);
  });

  it("names the function when f itself throws, as a throwing derivative (was the raw Error)", () => {
    function loss(x: number): number {
      if (x > 0) throw new RangeError("loss\nboom");
      return x;
    }
    let thrown: unknown;
    try {
      checkFunction(loss, { at: 2, grad: () => 1 });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(GradtrioError);
    expect((thrown as GradtrioError).message).toBe(
      "checkFunction: 'loss' threw at the point: loss boom",
    );
  });

  it("bad input is a GradtrioError", () => {
    expect(() => checkFunction(f, { at: [1, 2] })).toThrow(/needs its grad/);
    expect(() => checkFunction(f, { grad: () => [1], at: [1, 2] })).toThrow(/1 element/);
  });

  it("refuses two derivatives at once (one line, naming both)", () => {
    const vjp = (_x: Float64Array, v: Float64Array) => v;
    const jvp = vjp;
    expect(() => checkFunction(f, { grad, vjp, at: [3, 2] })).toThrow(
      "checkFunction: give one derivative (grad, vjp or jvp), got grad and vjp",
    );
    expect(() => checkFunction(f, { vjp, jvp, at: [3, 2] })).toThrow(/got vjp and jvp$/);
  });

  // A NaN or infinite value has no derivative: inconclusive (rule "not finite", as check words
  // it), never a disagreement that blames nobody and counts as the derivative contradicted.
  it("a value that is not finite at the point is inconclusive, not a disagreement", () => {
    const nan = checkFunction(() => Number.NaN, { grad, at: [3, 2] });
    expect(nan.verdict).toBe("inconclusive");
    expect(nan.rule).toBe("not finite");
    expect(nan.reason).toBe(
      "the function is not finite at the point (value NaN): f is NaN there: outside f's domain, or f is wrong there (gradtrio cannot look inside f)",
    );
    expect(nan.blame).toBeNull();
    expect(nan.failing).toEqual([]);
    // log(x) at x = 0: -Infinity.
    const inf = checkFunction((x: number) => Math.log(x), { grad: (x: number) => 1 / x, at: 0 });
    expect(inf.verdict).toBe("inconclusive");
    expect(inf.reason).toBe(
      "the function is not finite at the point (value -Infinity): the value overflows float64",
    );
    // A vector output with one NaN element.
    const F = (x: Float64Array) => Float64Array.of(x[0]!, Math.sqrt(-x[1]!));
    const vec = checkFunction(F, { vjp: (_x: Float64Array, v: Float64Array) => v, at: [1, 2] });
    expect(vec.verdict).toBe("inconclusive");
    expect(vec.rule).toBe("not finite");
    expect(vec.reason).toBe(
      "the function is not finite at the point (out[1] = NaN): f is NaN there: outside f's domain, or f is wrong there (gradtrio cannot look inside f)",
    );
  });
});
