/**
 * Tensors and the forward side of the ops: construction, shapes, broadcasting, reductions,
 * matmul, reshape/transpose, origins for tracing, and the errors on bad input. Expected values
 * are computed by hand or with Math.
 */
import { describe, expect, it } from "vitest";
import { errorText } from "../../test/failure.ts";
import {
  abs,
  add,
  bce,
  clamp,
  div,
  log1p,
  matmul,
  mean,
  mul,
  pow,
  relu,
  reshape,
  sigmoid,
  softplus,
  sub,
  sum,
  transpose,
} from "./functions.ts";
import { recordOrigins } from "./grad-mode.ts";
import { type Tensor, tensor } from "./tensor.ts";

describe("tensor()", () => {
  it("makes scalars, vectors, matrices and Float64Array tensors", () => {
    const s = tensor(3);
    expect(s.shape).toEqual([]);
    expect(s.ndim).toBe(0);
    expect(s.item()).toBe(3);
    const m = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(m.shape).toEqual([2, 3]);
    expect(m.numel).toBe(6);
    expect([...m.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(m.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const src = Float64Array.of(1, 2, 3, 4);
    const f = tensor(src, { shape: [2, 2] });
    expect(f.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    src[0] = 99;
    expect(f.data[0]).toBe(1);
  });

  it("refuses ragged arrays, non-numbers, bad shapes and item() of many elements", () => {
    expect(errorText(() => tensor([[1, 2], [3]]))).toMatch(
      /^SHAPE: tensor: value\[1\] is not rectangular/,
    );
    expect(errorText(() => tensor([1, "2"] as never))).toMatch(
      /^INVALID_ARGUMENT: tensor: value\[1\]/,
    );
    expect(errorText(() => tensor(new Float64Array(5), { shape: [2, 2] }))).toMatch(/^SHAPE/);
    expect(errorText(() => tensor([1, 2]).item())).toBe(
      "INVALID_ARGUMENT: a Tensor with 2 elements cannot be converted to Scalar",
    );
  });

  it("prints through the formatter and in console.log", () => {
    const x = tensor(3, { requiresGrad: true });
    expect(String(x)).toMatch(/^tensor\(3.*requires_grad=True\)$/);
    expect(String(x.pow(2))).toMatch(/grad_fn=<PowBackward0>\)$/);
    const inspect = (x as unknown as Record<symbol, () => string>)[
      Symbol.for("nodejs.util.inspect.custom")
    ]!;
    expect(inspect.call(x)).toBe(String(x));
  });
});

describe("elementwise ops and broadcasting", () => {
  const x = tensor([-2, -0.5, 0, 0.5, 3]);
  const xs = [-2, -0.5, 0, 0.5, 3];

  it("match Math elementwise", () => {
    const same = (t: Tensor, f: (v: number) => number) => expect(t.toArray()).toEqual(xs.map(f));
    same(x.sin(), Math.sin);
    same(x.cos(), Math.cos);
    same(x.tan(), Math.tan);
    same(x.exp(), Math.exp);
    same(x.tanh(), Math.tanh);
    same(x.abs(), Math.abs);
    same(relu(x), (v) => Math.max(v, 0));
    same(x.neg(), (v) => -v);
    same(clamp(x, -1, 1), (v) => Math.min(Math.max(v, -1), 1));
    same(x.pow(3), (v) => v * v * v);
    same(pow(2, x), (v) => 2 ** v);
    same(sub(1, x), (v) => 1 - v);
    same(div(x, 4), (v) => v / 4);
    const p = tensor([0.5, 1, 4]);
    expect(p.log().toArray()).toEqual([Math.log(0.5), 0, Math.log(4)]);
    expect(p.sqrt().toArray()).toEqual([Math.SQRT1_2, 1, 2]);
    expect(log1p(p).toArray()).toEqual([Math.log1p(0.5), Math.log1p(1), Math.log1p(4)]);
  });

  it("evaluate sigmoid and softplus stably at large |x|", () => {
    const big = tensor([-800, -40, 0, 40, 800]);
    const sg = sigmoid(big).toArray() as number[];
    // σ(−40) = 1/(1+e^40) to the last bit or so; no NaN from e^800 overflowing
    expect(sg[0]).toBe(0);
    expect(Math.abs(sg[1]! / (1 / (1 + Math.exp(40))) - 1)).toBeLessThan(1e-15);
    expect(sg.slice(2)).toEqual([0.5, 1 / (1 + Math.exp(-40)), 1]);
    const sp = softplus(big).toArray() as number[];
    expect(sp[0]).toBe(0);
    expect(sp[1]).toBeCloseTo(Math.exp(-40), 30);
    expect(sp[2]).toBe(Math.LN2);
    expect(sp[3]).toBe(40 + Math.log1p(Math.exp(-40)));
    expect(sp[4]).toBe(800);
  });

  it("computes bce(p, t) = -(t log p + (1-t) log(1-p))", () => {
    expect(bce(tensor([0.25, 0.9]), tensor([1, 0])).toArray()).toEqual([
      -Math.log(0.25),
      -Math.log(1 - 0.9),
    ]);
  });

  it("broadcast as NumPy does", () => {
    const col = tensor([[1], [2]]);
    const row = tensor([10, 20, 30]);
    expect(add(col, row).toArray()).toEqual([
      [11, 21, 31],
      [12, 22, 32],
    ]);
    expect(mul(tensor([[[2]]]), row).shape).toEqual([1, 1, 3]);
    expect(sub(row, tensor(1)).toArray()).toEqual([9, 19, 29]);
    const a = tensor([[[1, 2]], [[3, 4]]]);
    const b = tensor([[10], [20], [30]]);
    // [2,1,2] + [3,1] → [2,3,2]
    expect(add(a, b).toArray()).toEqual([
      [
        [11, 12],
        [21, 22],
        [31, 32],
      ],
      [
        [13, 14],
        [23, 24],
        [33, 34],
      ],
    ]);
  });

  it("refuses non-broadcastable shapes, naming both", () => {
    expect(errorText(() => add(tensor([[1, 2, 3]]), tensor([1, 2])))).toBe(
      "SHAPE: add: shapes [1, 3] and [2] are not broadcastable (size 3 vs 2 at dimension 1)",
    );
  });

  it("refuses operands that are neither tensors nor numbers, and missing operands", () => {
    expect(errorText(() => add(tensor(1), "2" as never))).toMatch(
      /^INVALID_ARGUMENT: add: argument 2/,
    );
    expect(errorText(() => (add as (a: unknown) => Tensor)(tensor(1)))).toMatch(
      /^ARITY: add takes 2/,
    );
  });
});

describe("reductions, matmul, reshape, transpose", () => {
  const m = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

  it("sum and mean over everything or along a dim, with keepdim", () => {
    expect(sum(m).item()).toBe(21);
    expect(mean(m).item()).toBe(3.5);
    expect(m.sum(0).toArray()).toEqual([5, 7, 9]);
    expect(m.sum(1).toArray()).toEqual([6, 15]);
    expect(m.sum(-1, true).toArray()).toEqual([[6], [15]]);
    expect(m.mean(0, true).toArray()).toEqual([[2.5, 3.5, 4.5]]);
    expect(errorText(() => m.sum(2))).toMatch(/^INVALID_ARGUMENT: sum: dimension out of range/);
  });

  it("matmul: dot, matrix-vector, vector-matrix, matrix-matrix", () => {
    const v = tensor([1, 0, -1]);
    expect(matmul(v, v).item()).toBe(2);
    expect(matmul(m, v).toArray()).toEqual([-2, -2]);
    expect(matmul(tensor([1, -1]), m).toArray()).toEqual([-3, -3, -3]);
    expect(matmul(m, transpose(m, 0, 1)).toArray()).toEqual([
      [14, 32],
      [32, 77],
    ]);
    expect(errorText(() => matmul(m, m))).toBe(
      "SHAPE: matmul: shapes [2, 3] and [2, 3] cannot be multiplied (inner dimensions 3 and 2 differ)",
    );
    expect(errorText(() => matmul(tensor(1), m))).toMatch(
      /^SHAPE: matmul: shapes \[\] and \[2, 3\]/,
    );
  });

  it("reshape (with -1) and transpose of any rank", () => {
    expect(reshape(m, 3, -1).toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(m.reshape([6]).toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(errorText(() => m.reshape(4, 2))).toBe(
      "SHAPE: reshape: shape [4, 2] is invalid for input of size 6",
    );
    const t = reshape(tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 2, 3, 2);
    const tt = transpose(t, 0, 2);
    expect(tt.shape).toEqual([2, 3, 2]);
    // tt[i][j][k] = t[k][j][i] = 6k + 2j + i
    expect(tt.toArray()).toEqual([
      [
        [0, 6],
        [2, 8],
        [4, 10],
      ],
      [
        [1, 7],
        [3, 9],
        [5, 11],
      ],
    ]);
  });
});

describe("origin (for tracing)", () => {
  it("records the language's op name and the arguments as given, numbers included", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(x.origin).toBeNull();
    expect(clamp(x.mul(2), 0, 3).origin).toBeNull(); // only recorded while tracing
    recordOrigins(() => {
      const y = clamp(x.mul(2), 0, 3);
      expect(y.origin!.op).toBe("clamp");
      expect(y.origin!.args[1]).toBe(0);
      expect(y.origin!.args[2]).toBe(3);
      const z = y.origin!.args[0] as Tensor;
      expect(z.origin).toEqual({ op: "mul", args: [x, 2] });
      expect(sub(1, x).origin).toEqual({ op: "sub", args: [1, x] });
      expect(pow(x, 2).origin).toEqual({ op: "pow", args: [x, 2] });
      expect(mean(x).origin).toEqual({ op: "mean", args: [x] });
      expect(x.sum(0, true).origin).toEqual({ op: "sum_dim", args: [x, 0, 1] });
      expect(matmul(x, x).origin).toEqual({ op: "matmul", args: [x, x] });
      expect(matmul(x, tensor([[1], [2]])).origin!.op).toBe("matmul");
      expect(x.reshape(2, 1).origin).toEqual({ op: "reshape", args: [x, 2, 1] });
      expect(abs(x).detach().origin).toBeNull();
    });
  });
});

describe("rank cap", () => {
  /** `[[[…[1]…]]]` nested `depth` deep, built without recursion. */
  function nested(depth: number): unknown {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  }

  it("tensor() refuses more than 32 dimensions at creation (toArray/toString recurse per dimension)", () => {
    expect(errorText(() => tensor(nested(50_000) as number[]))).toBe(
      "SHAPE: tensor: too many dimensions (50000); at most 32",
    );
    expect(errorText(() => tensor(new Float64Array(1), { shape: new Array(33).fill(1) }))).toBe(
      "SHAPE: tensor: too many dimensions (33); at most 32",
    );
    const t = tensor(nested(32) as number[]);
    expect(t.ndim).toBe(32);
    expect(t.toArray()).toEqual(nested(32));
  });

  it("reshape refuses more than 32 dimensions", () => {
    expect(errorText(() => tensor([1]).reshape(new Array(50_000).fill(1)))).toBe(
      "SHAPE: reshape: too many dimensions (50000); at most 32",
    );
    expect(tensor([1]).reshape(new Array(32).fill(1)).ndim).toBe(32);
  });
});

describe("origin setter", () => {
  it("drops the raw argument fields, so the old arguments are not kept alive", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    recordOrigins(() => {
      const y = x.mul(2);
      expect(y._arg0).toBe(x);
      y.origin = { op: "neg", args: [x] };
      expect(y.origin).toEqual({ op: "neg", args: [x] });
      expect(y._arg0).toBeUndefined();
      expect(y._arg1).toBeUndefined();
      const z = x.add(x);
      z.origin = null;
      expect(z.origin).toBeNull();
      expect(z._arg0).toBeUndefined();
      expect(z._arg1).toBeUndefined();
    });
  });
});
