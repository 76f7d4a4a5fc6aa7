/**
 * Autograd semantics as PyTorch defines them, over random values: accumulation, zero_, no_grad,
 * detach, linearity of gradients, and the chain rule composing.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { grad, noGrad, type Tensor, tensor } from "../src/autograd/index.ts";

const val = fc.double({ min: -3, max: 3, noNaN: true, noDefaultInfinity: true });
const vec = fc.array(val, { minLength: 1, maxLength: 6 });
const f = (x: Tensor): Tensor => x.pow(2).sin().add(x.exp().mul(0.5)).sum();
// d/dx [sin(x²) + e^x/2] = 2x·cos(x²) + e^x/2, by hand
const df = (x: number): number => 2 * x * Math.cos(x * x) + Math.exp(x) / 2;
const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-12 * (1 + Math.abs(b));

describe("autograd semantics", () => {
  it("two backward passes accumulate twice the gradient", () => {
    fc.assert(
      fc.property(vec, (xs) => {
        const x = tensor(xs, { requiresGrad: true });
        f(x).backward();
        f(x).backward();
        const g = x.grad!.toArray() as number[];
        return xs.every((v, i) => near(g[i]!, 2 * df(v)));
      }),
    );
  });

  it("zero_ resets the gradient, and the next backward starts from zero", () => {
    fc.assert(
      fc.property(vec, (xs) => {
        const x = tensor(xs, { requiresGrad: true });
        f(x).backward();
        const z = x.grad!.zero_();
        if (!(z.toArray() as number[]).every((v) => v === 0)) return false;
        f(x).backward();
        return (x.grad!.toArray() as number[]).every((g, i) => near(g, df(xs[i]!)));
      }),
    );
  });

  it("noGrad builds no graph", () => {
    fc.assert(
      fc.property(vec, (xs) => {
        const x = tensor(xs, { requiresGrad: true });
        const y = noGrad(() => f(x));
        return y.gradFn === null && !y.requiresGrad && y.isLeaf;
      }),
    );
  });

  it("detach stops gradients: the detached branch contributes nothing", () => {
    fc.assert(
      fc.property(vec, (xs) => {
        const x = tensor(xs, { requiresGrad: true });
        x.pow(2).sum().add(x.detach().exp().sum()).backward();
        return (x.grad!.toArray() as number[]).every((g, i) => near(g, 2 * xs[i]!));
      }),
    );
  });

  it("gradients are linear: ∇(a·f + b·g) = a·∇f + b·∇g", () => {
    fc.assert(
      fc.property(vec, val, val, (xs, a, b) => {
        const x = tensor(xs, { requiresGrad: true });
        const g = (t: Tensor) => t.tanh().mul(t).sum();
        const [gf] = grad([f(x)], [x]);
        const [gg] = grad([g(x)], [x]);
        const [gc] = grad([f(x).mul(a).add(g(x).mul(b))], [x]);
        const A = gf!.toArray() as number[];
        const B = gg!.toArray() as number[];
        const C = gc!.toArray() as number[];
        return C.every(
          (c, i) => Math.abs(c - (a * A[i]! + b * B[i]!)) <= 1e-12 * (1 + Math.abs(c)),
        );
      }),
    );
  });

  it("the chain rule composes: ∇(h∘u) = h'(u)·∇u", () => {
    fc.assert(
      fc.property(fc.double({ min: -1.5, max: 1.5, noNaN: true }), (x0) => {
        const x = tensor(x0, { requiresGrad: true });
        const u = x.mul(x).add(x); // u = x² + x
        const [du] = grad([u], [x], { retainGraph: true });
        const [dhu] = grad([u.cos()], [x]);
        // h = cos: h'(u) = -sin(u)
        return near(dhu!.item(), -Math.sin(u.item()) * du!.item());
      }),
    );
  });
});
