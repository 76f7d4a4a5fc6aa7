/**
 * The plain backward writes into gradient storage it owns (grad-buffers.ts). These cases are the
 * ones where a gradient is also read elsewhere — passed to two inputs, kept as a non-leaf's .grad,
 * returned by grad(), given by the caller, accumulated from two paths — each checked against the
 * hand derivative, so an overwritten buffer shows as a wrong number.
 */
import { describe, expect, it } from "vitest";
import { backward, grad } from "./engine.ts";
import { add, mean, sum } from "./functions.ts";
import { tensor } from "./tensor.ts";

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
