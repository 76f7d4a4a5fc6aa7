/**
 * The plain backward writes into gradient storage it owns (grad-buffers.ts). These cases are the
 * ones where a gradient is also read elsewhere — passed to two inputs, kept as a non-leaf's .grad,
 * returned by grad(), given by the caller, accumulated from two paths — each checked against the
 * hand derivative, so an overwritten buffer shows as a wrong number.
 */
import { describe, expect, it } from "vitest";
import { defineOp } from "./define-op.ts";
import { backward, grad } from "./engine.ts";
import { add, builtin, div, mean, pow, relu, sum } from "./functions.ts";
import { noGrad } from "./grad-mode.ts";
import type { GradRule } from "./node.ts";
import { OPS } from "./ops.ts";
import { type Tensor, tensor } from "./tensor.ts";

const xs = [0.3, -1.2, 2.5, 0.9];
const N = xs.length;
const close = (got: Float64Array, want: number[]) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 14);
};

describe("owned gradient buffers in a plain backward", () => {
  it("mean(sin(x²)): 2x cos(x²)/N, and x.grad is not an intermediate's storage", () => {
    const x = tensor(xs, { requiresGrad: true });
    const y = mean(x.pow(2).sin());
    y.backward();
    close(
      x.grad!.data,
      xs.map((v) => (2 * v * Math.cos(v * v)) / N),
    );
  });

  it("a gradient passed to both inputs of add is not overwritten by either", () => {
    const a = tensor(xs, { requiresGrad: true });
    const b = tensor(
      xs.map((v) => v / 2),
      { requiresGrad: true },
    );
    mean(add(a.sin(), b.pow(2))).backward();
    close(
      a.grad!.data,
      xs.map((v) => Math.cos(v) / N),
    );
    close(
      b.grad!.data,
      xs.map((v) => v / N),
    );
  });

  it("the same input on both sides of add: 2 cos(x)/N", () => {
    const x = tensor(xs, { requiresGrad: true });
    mean(add(x.sin(), x.sin())).backward();
    close(
      x.grad!.data,
      xs.map((v) => (2 * Math.cos(v)) / N),
    );
  });

  it("two paths into one input accumulate (2x cos(x²) + cos x)/N", () => {
    const x = tensor(xs, { requiresGrad: true });
    add(mean(x.pow(2).sin()), mean(x.sin())).backward();
    close(
      x.grad!.data,
      xs.map((v) => (2 * v * Math.cos(v * v) + Math.cos(v)) / N),
    );
  });

  it("a retained non-leaf gradient keeps its value after the rule below it runs", () => {
    const x = tensor(xs, { requiresGrad: true });
    const u = x.pow(2);
    u.retainGrad();
    const s = u.sin();
    s.retainGrad();
    mean(s).backward();
    close(
      s.grad!.data,
      xs.map(() => 1 / N),
    );
    close(
      u.grad!.data,
      xs.map((v) => Math.cos(v * v) / N),
    );
    close(
      x.grad!.data,
      xs.map((v) => (2 * v * Math.cos(v * v)) / N),
    );
  });

  it("grad() of an intermediate and of the leaf together: both intact", () => {
    const x = tensor(xs, { requiresGrad: true });
    const u = x.pow(2);
    const [gu, gx] = grad(sum(u.sin()), [u, x]);
    close(
      gu!.data,
      xs.map((v) => Math.cos(v * v)),
    );
    close(
      gx!.data,
      xs.map((v) => 2 * v * Math.cos(v * v)),
    );
  });

  it("the caller's gradient is not written to", () => {
    const x = tensor(xs, { requiresGrad: true });
    const g = tensor([1, 2, 3, 4]);
    backward(x.pow(2).sin(), g);
    expect(Array.from(g.data)).toEqual([1, 2, 3, 4]);
    close(
      x.grad!.data,
      xs.map((v, i) => 2 * v * Math.cos(v * v) * (i + 1)),
    );
  });

  it("a second backward adds to .grad; the first result is not reused as scratch", () => {
    const x = tensor(xs, { requiresGrad: true });
    const u = x.pow(2).sin();
    mean(u).backward(undefined, { retainGraph: true });
    const first = x.grad!;
    const kept = Array.from(first.data);
    mean(u).backward();
    close(
      x.grad!.data,
      kept.map((v) => 2 * v),
    );
  });

  it("with createGraph the gradient is still differentiable (d/dx of 2x cos x² summed)", () => {
    const x = tensor(xs, { requiresGrad: true });
    const [gx] = grad(sum(x.pow(2).sin()), [x], { createGraph: true });
    const [h] = grad(sum(gx!), [x]);
    close(
      h!.data,
      xs.map((v) => 2 * Math.cos(v * v) - 4 * v * v * Math.sin(v * v)),
    );
  });
});

// The plain backward of sum and mean sends one number (a spread gradient); rules that take it use
// it as such, and the engine writes it out everywhere else. Each case against the hand derivative
// or against the same backward recorded with createGraph (which never spreads: expand).
describe("spread gradients of sum and mean", () => {
  const vs = [0.3, 0.55, 0.7, 0.15, 0.9];
  const M = vs.length;
  // [the rule, how it is called, the op]
  const cases: [string, string, (x: Tensor) => Tensor][] = [
    ...(
      [
        "sin",
        "cos",
        "tan",
        "exp",
        "log",
        "sqrt",
        "tanh",
        "sigmoid",
        "abs",
        "log1p",
        "softplus",
        "erf",
        "gelu",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "expm1",
      ] as const
    ).map((op): [string, string, (x: Tensor) => Tensor] => [
      op,
      `${op}(x)`,
      (x) => builtin(op, [x]),
    ]),
    ["reciprocal", "1/x", (x) => div(1, x)],
    ["powScalar", "x^3", (x) => pow(x, 3)],
    ["powScalar", "x^2", (x) => pow(x, 2)],
    ["powScalar", "x^0", (x) => pow(x, 0)],
    ["powScalar", "x^0.5", (x) => pow(x, 0.5)],
    ["rpow", "2^x", (x) => pow(2, x)],
    ["rpow", "0^x", (x) => pow(0, x)],
  ];

  it("every rule that takes a spread gradient is covered here", () => {
    const taking = Object.entries(OPS)
      .filter(([, d]) => (d as GradRule).takesSpread === true)
      .map(([k]) => k)
      .sort();
    expect([...new Set(cases.map(([k]) => k))].sort()).toEqual(taking);
  });

  for (const [, label, f] of cases)
    it(`${label}: mean and sum as with createGraph, at x's shape`, () => {
      for (const reduce of [mean, sum]) {
        const x = tensor(vs, { requiresGrad: true });
        reduce(f(x)).backward();
        const x2 = tensor(vs, { requiresGrad: true });
        const [want] = grad(reduce(f(x2)), [x2], { createGraph: true });
        expect(x.grad!.shape).toEqual([M]);
        expect(Array.from(x.grad!.data)).toEqual(Array.from(want!.data));
      }
    });

  it("straight to a leaf, into a keepdim mean of a matrix, and of one element", () => {
    const x = tensor([vs.slice(0, 2), vs.slice(2, 4)], { requiresGrad: true });
    mean(x).backward();
    expect(x.grad!.toArray()).toEqual([
      [0.25, 0.25],
      [0.25, 0.25],
    ]);
    x.grad = null;
    mean(x.exp(), undefined, true).backward(tensor([[2]]));
    close(
      x.grad!.data,
      vs.slice(0, 4).map((v) => Math.exp(v) / 2),
    );
    const one = tensor([0.4], { requiresGrad: true });
    sum(one.sin()).backward();
    close(one.grad!.data, [Math.cos(0.4)]);
  });

  it("written out for rules that need the whole array (neg, relu, add, a custom op)", () => {
    const x = tensor(vs, { requiresGrad: true });
    const y = tensor(
      vs.map((v) => -v),
      { requiresGrad: true },
    );
    const cube = defineOp({
      name: "spreadTestCube",
      arity: 1,
      forward: (v) => v ** 3,
      backward: ({ args: [v], grad: g }) => [3 * v! * v! * g],
      formula: (v) => `(${v})^3`,
    });
    sum(add(x.neg(), relu(y))).backward();
    close(
      x.grad!.data,
      vs.map(() => -1),
    );
    close(
      y.grad!.data,
      vs.map(() => 0),
    );
    x.grad = null;
    mean(cube(x)).backward();
    close(
      x.grad!.data,
      vs.map((v) => (3 * v * v) / M),
    );
  });

  it("two spread gradients into one node add up; a spread and a whole one too", () => {
    const x = tensor(vs, { requiresGrad: true });
    add(mean(x), sum(x)).backward();
    close(
      x.grad!.data,
      vs.map(() => 1 / M + 1),
    );
    const u = tensor(vs, { requiresGrad: true });
    const s = u.sin();
    add(add(mean(s), sum(s)), sum(s.mul(s))).backward();
    close(
      u.grad!.data,
      vs.map((v) => Math.cos(v) * (1 / M + 1 + 2 * Math.sin(v))),
    );
  });

  it("a retained .grad and a grad() target get the whole array", () => {
    const x = tensor(vs, { requiresGrad: true });
    const s = x.sin();
    s.retainGrad();
    mean(s).backward();
    expect(s.grad!.shape).toEqual([M]);
    close(
      s.grad!.data,
      vs.map(() => 1 / M),
    );
    const u = x.cos();
    const [gu, gx] = grad(sum(u.exp()), [u, x]);
    close(
      gu!.data,
      vs.map((v) => Math.exp(Math.cos(v))),
    );
    close(
      gx!.data,
      vs.map((v) => -Math.sin(v) * Math.exp(Math.cos(v))),
    );
    const [gs] = grad(mean(s), [s]);
    expect(Array.from(gs!.data)).toEqual(vs.map(() => 1 / M));
  });

  it("float32 inputs under a float64 mean: as with the whole gradient given by the caller", () => {
    const data = Array.from({ length: 64 }, (_, i) => 0.1 + i / 37);
    const x = tensor(data, { requiresGrad: true, dtype: "float32" });
    // a 0-d float32 mean times a 0-d float64: a float64 gradient reaches the float32 exp, where
    // a 0-d one would not promote g·exp(u) to float64 as the whole one does
    mean(x.pow(3).exp()).mul(tensor(1.7)).backward();
    const x2 = tensor(data, { requiresGrad: true, dtype: "float32" });
    backward(x2.pow(3).exp(), tensor(data.map(() => 1.7 / data.length)));
    expect(x.grad!.dtype).toBe("float32");
    expect(Array.from(x.grad!.data)).toEqual(Array.from(x2.grad!.data));
  });
});

describe("a rule run outside the engine", () => {
  it("gives whole gradients: MeanBackward0 applied by hand under noGrad", () => {
    const x = tensor([1, 2, 3, 4], { requiresGrad: true });
    const y = mean(x.sin());
    const [g] = noGrad(() => y.gradFn!.apply(tensor(2)));
    expect(g!.shape).toEqual([4]);
    expect(Array.from(g!.data)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });
});
