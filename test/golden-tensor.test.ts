/**
 * Every case of the PyTorch golden file (float64: value, gradient, Hessian), written by hand with
 * the Tensor API, must match PyTorch to 1e-12 relative (1e-14 absolute near zero). The Hessian
 * comes from differentiating the `createGraph` gradient again, one input element at a time.
 * A second block runs the same cases through the expression language and `autogradLeg`.
 */
import { describe, expect, it } from "vitest";
import {
  abs,
  add,
  bce,
  clamp,
  grad,
  log1p,
  matmul,
  mean,
  mul,
  pow,
  relu,
  sigmoid,
  softplus,
  sum,
  type Tensor,
  tensor,
} from "../src/autograd/index.ts";
import { autogradLeg } from "../src/autograd/leg.ts";
import { parse } from "../src/expr/parse.ts";
import { type NestedArray, toValues } from "../src/expr/point.ts";
import golden from "./fixtures/torch-golden.json" with { type: "json" };

interface GoldenCase {
  id: string;
  expr: string;
  at: Record<string, NestedArray>;
  value: number;
  grad: Record<string, NestedArray>;
  hessian: number[][];
}
const cases = golden as unknown as GoldenCase[];

type V = Record<string, Tensor>;
/** The expressions of the golden file, by hand, with the Tensor API. */
const byHand: Record<string, (v: V) => Tensor> = {
  "seed-square-3": ({ x }) => x!.pow(2),
  "seed-square-2": ({ x }) => x!.pow(2),
  "seed-sin-square-3": ({ x }) => x!.pow(2).sin(),
  "seed-sin-square-4": ({ x }) => x!.pow(2).sin(),
  "seed-mean-square": ({ x }) => x!.pow(2).mean(),
  "seed-bce-eps8": ({ w, b, x, y }) => bce(clamp(sigmoid(w!.mul(x!).add(b!)), 1e-8, 1 - 1e-8), y!),
  "seed-bce-eps7": ({ w, b, x, y }) => bce(clamp(sigmoid(w!.mul(x!).add(b!)), 1e-7, 1 - 1e-7), y!),
  "exp-cos": ({ x }) => x!.neg().exp().mul(mul(3, x!).cos()),
  "softplus-by-hand": ({ x }) => add(1, x!.exp()).log(),
  "tanh-square": ({ x }) => x!.tanh().pow(2).add(x!),
  hypot: ({ x }) => x!.pow(2).add(1).sqrt(),
  rational: ({ x }) =>
    x!
      .pow(3)
      .sub(mul(2, x!))
      .div(add(1, x!.pow(2))),
  "trig-nest": ({ x }) => x!.tan().cos().sin(),
  "x-pow-x": ({ x }) => x!.pow(x!),
  "mean-swish": ({ x }) => mean(sigmoid(x!).mul(x!)),
  "dot-plus-mean": ({ x, y }) => sum(x!.mul(y!)).add(mean(x!.pow(2))),
  "logreg-batch": ({ w, b, x, y }) => mean(bce(sigmoid(w!.mul(x!).add(b!)), y!)),
  "relu-away": ({ x }) => relu(x!).mul(x!),
  "abs-cube": ({ x }) => abs(x!).pow(3),
  "clamp-inactive": ({ x }) => clamp(x!, 0, 1).pow(2),
  "clamp-active": ({ x }) => clamp(x!, 0, 1).pow(2).add(x!),
  "log1p-square": ({ x }) => log1p(x!.pow(2)),
  "pow-frac": ({ x }) => pow(x!, 2.5),
  matvec: ({ A, v }) => sum(matmul(A!, v!).pow(2)),
  "softplus-affine": ({ w, b, x }) => softplus(w!.mul(x!).add(b!)),
  "const-e": ({ x }) => pow(Math.E, x!),
  "const-pi": ({ x }) => mul(Math.PI, x!).sin(),
};

function close(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-12 * Math.abs(expected) + 1e-14;
}

function expectClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const bad = expected.flatMap((e, i) =>
    close(actual[i]!, e) ? [] : [`${what}[${i}]: got ${actual[i]}, PyTorch ${e}`],
  );
  expect(bad).toEqual([]);
}

const flat = (v: NestedArray): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v]);

describe("PyTorch golden cases through the Tensor API", () => {
  it("has a hand-written function for every case of the fixture", () => {
    expect(Object.keys(byHand).sort()).toEqual(cases.map((c) => c.id).sort());
  });

  for (const c of cases) {
    it(`${c.id}: ${c.expr}`, () => {
      const names = Object.keys(c.at);
      const leaves: V = {};
      for (const n of names) leaves[n] = tensor(c.at[n]!, { requiresGrad: true });
      const xs = names.map((n) => leaves[n]!);
      const out = byHand[c.id]!(leaves);
      expectClose([out.item()], [c.value], "value");

      // The gradient, once by backward() into .grad and once by grad() with createGraph.
      out.backward(undefined, { retainGraph: true });
      for (const n of names) expectClose(leaves[n]!.grad!.data, flat(c.grad[n]!), `grad ${n}`);
      const gs = grad(out, xs, { createGraph: true });
      for (const [i, n] of names.entries())
        expectClose(gs[i]!.data, flat(c.grad[n]!), `grad() ${n}`);

      // Hessian rows: d(e_j · ∇f)/dx for every element j, over the flattened variables.
      const rows: number[][] = [];
      gs.forEach((g) => {
        for (let j = 0; j < g!.numel; j++) {
          const seed = new Float64Array(g!.numel);
          seed[j] = 1;
          const hs = g!.requiresGrad
            ? grad(g!, xs, {
                gradOutputs: [tensor(seed, { shape: g!.shape })],
                retainGraph: true,
                allowUnused: true,
              })
            : xs.map(() => null);
          rows.push(hs.flatMap((h, k) => (h ? [...h.data] : new Array(xs[k]!.numel).fill(0))));
        }
      });
      for (const [i, row] of c.hessian.entries()) expectClose(rows[i]!, row, `hessian[${i}]`);
    });
  }
});

describe("PyTorch golden cases through the expression language (autogradLeg)", () => {
  for (const c of cases) {
    it(`${c.id}: ${c.expr}`, () => {
      const r = autogradLeg(parse(c.expr), toValues(c.at), { hessian: true });
      expectClose([r.value], [c.value], "value");
      for (const n of Object.keys(c.at))
        expectClose(r.gradients.get(n)!, flat(c.grad[n]!), `grad ${n}`);
      for (const [i, row] of c.hessian.entries()) expectClose(r.hessian![i]!, row, `hessian[${i}]`);
    });
  }
});
