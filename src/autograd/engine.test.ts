/**
 * PyTorch's autograd semantics, each modelled on what PyTorch does (the expected values are
 * derived by hand; the messages are PyTorch's, with the option names adapted).
 */
import { afterEach, describe, expect, it } from "vitest";
import { GradtrioError } from "../errors.ts";
import { defineOp } from "./define-op.ts";
import { backward, grad } from "./engine.ts";
import {
  add,
  bce,
  clamp,
  div,
  log,
  matmul,
  mean,
  mul,
  pow,
  sigmoid,
  sub,
  sum,
} from "./functions.ts";
import {
  enableGrad,
  isGradEnabled,
  isRecordingOrigins,
  noGrad,
  recordOrigins,
} from "./grad-mode.ts";
import { type Tensor, tensor } from "./tensor.ts";
import { setWarningHandler, type WarningHandler } from "./warnings.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof GradtrioError) return `${e.code}: ${e.message}`;
    return `not a GradtrioError: ${String(e)}`;
  }
  return "no error";
}

let restore: WarningHandler | null = null;
afterEach(() => {
  if (restore) setWarningHandler(restore);
  restore = null;
});
function captureWarnings(): string[] {
  const seen: string[] = [];
  restore = setWarningHandler((m) => seen.push(m));
  return seen;
}

describe("backward", () => {
  it("uses the implicit gradient 1 for a scalar output: d(x²)/dx = 2x = 6 at 3", () => {
    const x = tensor(3, { requiresGrad: true });
    x.pow(2).backward();
    expect(x.grad!.item()).toBe(6);
    expect(x.grad!.requiresGrad).toBe(false);
  });

  it("refuses an implicit gradient for a non-scalar output, as PyTorch", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    expect(codeOf(() => x.mul(2).backward())).toBe(
      "AUTOGRAD: grad can be implicitly created only for scalar outputs",
    );
  });

  it("takes the vector of a vector-Jacobian product for a non-scalar output", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.mul(2).backward(tensor([1, 0.1, 0.01]));
    expect(x.grad!.toArray()).toEqual([2, 0.2, 0.02]);
  });

  it("accumulates .grad across backward calls, and zero_() zeroes it in place", () => {
    const x = tensor(3, { requiresGrad: true });
    x.pow(2).backward();
    x.pow(2).backward();
    expect(x.grad!.item()).toBe(12);
    const g = x.grad!;
    const z = g.zero_();
    expect(z).toBe(g);
    expect(x.grad!.item()).toBe(0);
    x.pow(2).backward();
    expect(x.grad!.item()).toBe(6);
  });

  it("errors on a tensor that does not require grad, as PyTorch", () => {
    expect(codeOf(() => tensor(2).pow(2).backward())).toBe(
      "AUTOGRAD: element 0 of tensors does not require grad and does not have a grad_fn",
    );
  });

  it("refuses a second backward through freed saved tensors unless retainGraph", () => {
    const x = tensor(3, { requiresGrad: true });
    const y = x.pow(2);
    y.backward();
    const message = codeOf(() => y.backward());
    expect(message).toMatch(/^AUTOGRAD: Trying to backward through the graph a second time/);
    expect(message).toContain("Specify retainGraph: true");
    const z = x.pow(2);
    z.backward(undefined, { retainGraph: true });
    z.backward();
    expect(x.grad!.item()).toBe(6 + 6 + 6);
  });

  it("releases the saved tensors after backward (and keeps them with retainGraph)", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.sin();
    const kept = x.cos();
    y.sum().backward();
    expect(y.gradFn!.a).toBeNull();
    expect(y.gradFn!.freed).toBe(true);
    kept.sum().backward(undefined, { retainGraph: true });
    expect(kept.gradFn!.a).toBe(x);
  });

  it("allows a second backward through a graph that saved nothing, as PyTorch (x + 1)", () => {
    const x = tensor(1, { requiresGrad: true });
    const y = x.add(1);
    y.backward();
    y.backward();
    expect(x.grad!.item()).toBe(2);
  });

  it("refuses a non-finite or mis-shaped gradient", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(codeOf(() => x.mul(2).backward(tensor([1, Number.NaN])))).toMatch(/^NON_FINITE: /);
    expect(codeOf(() => x.mul(2).backward([1, Number.POSITIVE_INFINITY]))).toMatch(/^NON_FINITE/);
    expect(codeOf(() => x.mul(2).backward(tensor([1, 2, 3])))).toBe(
      "SHAPE: Mismatch in shape: grad_output[0] has a shape of [3] and output[0] has a shape of [2].",
    );
  });

  it("never aliases .grad: a + b sends one gradient to two leaves, each gets its own", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    add(a, b).sum().backward();
    expect(a.grad).not.toBe(b.grad);
    a.grad!.zero_();
    expect(b.grad!.toArray()).toEqual([1, 1]);
  });

  it("never stores the caller's gradient tensor as .grad (it would be mutated later)", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const v = tensor([5, 7]);
    x.add(0).backward(v);
    x.add(0).backward(v);
    expect(v.toArray()).toEqual([5, 7]);
    expect(x.grad!.toArray()).toEqual([10, 14]);
  });

  it("runs each node once in a diamond, summing the gradients that reach it", () => {
    let calls = 0;
    const counted = defineOp({
      name: "engineTestCountedSin",
      arity: 1,
      forward: Math.sin,
      backward: ({ args, grad: g }) => {
        calls++;
        return [g * Math.cos(args[0]!)];
      },
    });
    const x = tensor([0.3, -1.2, 2], { requiresGrad: true });
    const s = counted(x);
    // f = sum(s·s + s), df/dx = (2 sin x + 1) cos x
    s.mul(s).add(s).sum().backward();
    expect(calls).toBe(3);
    const want = [0.3, -1.2, 2].map((v) => (2 * Math.sin(v) + 1) * Math.cos(v));
    (x.grad!.toArray() as number[]).forEach((g, i) => {
      expect(g).toBeCloseTo(want[i]!, 14);
    });
  });

  it("sums broadcast gradients back to each input's shape", () => {
    const x = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { requiresGrad: true },
    );
    const b = tensor([10, 20, 30], { requiresGrad: true });
    const c = tensor([[2], [3]], { requiresGrad: true });
    // f = sum((x + b) * c): df/db_j = sum_i c_i = 5; df/dc_i = sum_j (x_ij + b_j); df/dx_ij = c_i
    x.add(b).mul(c).sum().backward();
    expect(b.grad!.toArray()).toEqual([5, 5, 5]);
    expect(c.grad!.toArray()).toEqual([[66], [75]]);
    expect(x.grad!.toArray()).toEqual([
      [2, 2, 2],
      [3, 3, 3],
    ]);
  });

  it("walks a chain of 300 000 ops without overflowing the stack", () => {
    const x = tensor(0.5, { requiresGrad: true });
    let y: Tensor = x;
    for (let i = 0; i < 300_000; i++) y = y.mul(1.000001);
    y.backward();
    // d/dx (x·c^n) = c^n
    expect(x.grad!.item()).toBeCloseTo(1.000001 ** 300_000, 9);
  });
});

describe(".grad of non-leaves, retainGrad, isLeaf", () => {
  it("returns null for a non-leaf's .grad and warns once, naming retainGrad()", () => {
    const seen = captureWarnings();
    const x = tensor(3, { requiresGrad: true });
    const y = x.pow(2);
    y.backward();
    expect(y.grad).toBeNull();
    expect(y.grad).toBeNull();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(
      /^The \.grad attribute of a Tensor that is not a leaf Tensor is being accessed\./,
    );
    expect(seen[0]).toContain("use .retainGrad() on the non-leaf Tensor");
    const z = x.pow(3);
    expect(z.grad).toBeNull();
    expect(seen).toHaveLength(2);
  });

  it("fills .grad of a non-leaf after retainGrad(), without a warning", () => {
    const seen = captureWarnings();
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.pow(2);
    y.retainGrad();
    y.mul(3).sum().backward();
    expect(y.grad!.toArray()).toEqual([3, 3]);
    expect(x.grad!.toArray()).toEqual([6, 12]);
    expect(seen).toEqual([]);
  });

  it("knows its leaves, as PyTorch", () => {
    const x = tensor(1, { requiresGrad: true });
    const c = tensor(1);
    expect(x.isLeaf).toBe(true);
    expect(c.isLeaf).toBe(true);
    expect(x.mul(2).isLeaf).toBe(false);
    expect(c.mul(2).isLeaf).toBe(true);
    expect(x.mul(2).detach().isLeaf).toBe(true);
  });
});

describe("requiresGrad, detach, noGrad, enableGrad", () => {
  it("requiresGrad_ turns tracking on and off on leaves and returns the tensor", () => {
    const x = tensor(2);
    expect(x.requiresGrad_()).toBe(x);
    expect(x.pow(2).requiresGrad).toBe(true);
    x.requiresGrad_(false);
    expect(x.pow(2).requiresGrad).toBe(false);
    x.requiresGrad = true;
    expect(x.requiresGrad).toBe(true);
  });

  it("refuses to change the flag of a non-leaf, as PyTorch", () => {
    const y = tensor(2, { requiresGrad: true }).pow(2);
    expect(codeOf(() => y.requiresGrad_(false))).toMatch(
      /^AUTOGRAD: you can only change requires_grad flags of leaf variables\./,
    );
    expect(codeOf(() => (y.requiresGrad = false))).toMatch(/leaf variables/);
  });

  it("detach() shares the storage but leaves the graph", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    expect(d.data).toBe(x.data);
    expect(d.pow(2).requiresGrad).toBe(false);
  });

  it("noGrad records nothing and restores the mode, even after a throw", () => {
    const x = tensor(3, { requiresGrad: true });
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return x.pow(2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(y.item()).toBe(9);
    expect(isGradEnabled()).toBe(true);
    expect(() =>
      noGrad(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(isGradEnabled()).toBe(true);
  });

  it("enableGrad records inside noGrad", () => {
    const x = tensor(3, { requiresGrad: true });
    const y = noGrad(() => enableGrad(() => x.pow(2)));
    expect(y.gradFn!.name).toBe("PowBackward0");
  });
});

describe("grad_fn names and next functions, as PyTorch", () => {
  const x = tensor([0.5, 0.25], { requiresGrad: true });
  const s = tensor(0.5, { requiresGrad: true });
  const A = tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { requiresGrad: true },
  );
  const cases: [string, () => Tensor][] = [
    ["PowBackward0", () => x.pow(2)],
    ["PowBackward1", () => x.pow(x)],
    ["PowBackward2", () => pow(2, x)],
    ["AddBackward0", () => x.add(1)],
    ["SubBackward0", () => x.sub(1)],
    ["RsubBackward1", () => sub(1, x)],
    ["MulBackward0", () => mul(2, x)],
    ["DivBackward0", () => x.div(2)],
    ["NegBackward0", () => x.neg()],
    ["SinBackward0", () => x.sin()],
    ["CosBackward0", () => x.cos()],
    ["TanBackward0", () => x.tan()],
    ["ExpBackward0", () => x.exp()],
    ["LogBackward0", () => log(x)],
    ["SqrtBackward0", () => x.sqrt()],
    ["TanhBackward0", () => x.tanh()],
    ["SigmoidBackward0", () => sigmoid(x)],
    ["ReluBackward0", () => x.relu()],
    ["AbsBackward0", () => x.abs()],
    ["ClampBackward1", () => clamp(x, 0, 1)],
    ["Log1PBackward0", () => x.log1p()],
    ["SoftplusBackward0", () => x.softplus()],
    ["SumBackward0", () => sum(x)],
    ["SumBackward1", () => A.sum(0)],
    ["MeanBackward0", () => mean(x)],
    ["MeanBackward1", () => A.mean(1, true)],
    ["DotBackward0", () => matmul(x, x)],
    ["MvBackward0", () => matmul(A, x)],
    ["MmBackward0", () => matmul(A, A)],
    ["ViewBackward0", () => A.reshape(4)],
    ["TransposeBackward0", () => A.transpose(0, 1)],
    ["BinaryCrossEntropyBackward0", () => bce(sigmoid(s), 1)],
  ];
  for (const [name, make] of cases)
    it(name, () => {
      expect(make().gradFn!.name).toBe(name);
    });

  it("lists [node | null, 0] pairs, with AccumulateGrad on leaves and null for constants", () => {
    const y = x.mul(2);
    const [[first, i0], [second, i1]] = y.gradFn!.nextFunctions as [unknown, number][];
    expect((first as { name: string }).name).toBe("AccumulateGrad");
    expect((first as { variable: Tensor }).variable).toBe(x);
    expect(second).toBeNull();
    expect([i0, i1]).toEqual([0, 0]);
    const z = y.sin();
    expect(z.gradFn!.nextFunctions[0]![0]).toBe(y.gradFn);
    expect(sub(1, x).gradFn!.nextFunctions).toHaveLength(1);
  });

  it("a plain number over a tensor is PyTorch's reciprocal(x) * c: MulBackward0 over ReciprocalBackward0", () => {
    const t = tensor(2, { requiresGrad: true });
    const y = div(3, t);
    expect(y.gradFn!.name).toBe("MulBackward0");
    expect(y.gradFn!.nextFunctions.map(([n]) => n?.name ?? null)).toEqual([
      "ReciprocalBackward0",
      null,
    ]);
    y.backward();
    expect(y.item()).toBe(1.5);
    expect(t.grad!.item()).toBe(-3 / 4); // d(3/x) = -3/x²
  });
});

describe("grad()", () => {
  it("returns gradients without touching .grad", () => {
    const x = tensor(3, { requiresGrad: true });
    const [g] = grad(x.pow(2), [x]);
    expect(g!.item()).toBe(6);
    expect(x.grad).toBeNull();
  });

  it("gives the second derivative of sin(x²) through createGraph: 2cos(x²) − 4x² sin(x²)", () => {
    for (const v of [-1.7, 0.3, 3, 4]) {
      const x = tensor(v, { requiresGrad: true });
      const [d1] = grad(x.pow(2).sin(), [x], { createGraph: true });
      expect(d1!.item()).toBeCloseTo(2 * v * Math.cos(v * v), 12);
      const [d2] = grad(d1!, [x]);
      const want = 2 * Math.cos(v * v) - 4 * v * v * Math.sin(v * v);
      expect(Math.abs(d2!.item() - want)).toBeLessThan(1e-12 * (1 + Math.abs(want)));
    }
  });

  it("gives the seed BCE's second derivatives: d²L/dw² = x²p(1−p), d²L/dw db = x p(1−p)", () => {
    for (const [xv, yv, wv, bv] of [
      [6.7, 0, 1, 0],
      [-0.4, 1, 0.8, 0.3],
      [2, 1, -1.5, 0.5],
    ] as const) {
      const w = tensor(wv, { requiresGrad: true });
      const b = tensor(bv, { requiresGrad: true });
      const x = tensor(xv);
      const y = tensor(yv);
      const p = clamp(sigmoid(w.mul(x).add(b)), 1e-8, 1 - 1e-8);
      const loss = y
        .mul(log(p))
        .add(sub(1, y).mul(log(sub(1, p))))
        .neg();
      const [gw, gb] = grad(loss, [w, b], { createGraph: true });
      const pv = 1 / (1 + Math.exp(-(wv * xv + bv)));
      // dL/dw = (p − y) x, dL/db = p − y
      expect(gw!.item()).toBeCloseTo((pv - yv) * xv, 12);
      expect(gb!.item()).toBeCloseTo(pv - yv, 12);
      const [hww, hwb] = grad(gw!, [w, b], { retainGraph: true });
      const [hbb] = grad(gb!, [b]);
      const s = pv * (1 - pv);
      expect(hww!.item()).toBeCloseTo(xv * xv * s, 12);
      expect(hwb!.item()).toBeCloseTo(xv * s, 12);
      expect(hbb!.item()).toBeCloseTo(s, 12);
    }
  });

  it("reports an unused input unless allowUnused, as PyTorch", () => {
    const x = tensor(1, { requiresGrad: true });
    const u = tensor(1, { requiresGrad: true });
    expect(codeOf(() => grad(x.mul(2), [x, u]))).toBe(
      "AUTOGRAD: One of the differentiated Tensors appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior.",
    );
    const [gx, gu] = grad(x.mul(2), [x, u], { allowUnused: true });
    expect(gx!.item()).toBe(2);
    expect(gu).toBeNull();
  });

  it("refuses an input that does not require grad", () => {
    expect(codeOf(() => grad(tensor(1, { requiresGrad: true }).mul(2), [tensor(1)]))).toBe(
      "AUTOGRAD: One of the differentiated Tensors does not require grad",
    );
  });

  it("differentiates with respect to an intermediate tensor", () => {
    const x = tensor(2, { requiresGrad: true });
    const y = x.pow(2);
    const [gy, gx] = grad(y.sin(), [y, x]);
    expect(gy!.item()).toBe(Math.cos(4));
    expect(gx!.item()).toBe(Math.cos(4) * 4);
  });

  it("takes gradOutputs for non-scalar outputs and several outputs at once", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const [g] = grad([x.mul(3), x.pow(2)], [x], { gradOutputs: [tensor([1, 1]), tensor([1, 0])] });
    // 3 + 2x·[1, 0]
    expect(g!.toArray()).toEqual([5, 3]);
    expect(codeOf(() => grad(x.mul(3), [x], { gradOutputs: [[1, Number.NaN]] }))).toMatch(
      /^NON_FINITE/,
    );
  });

  it("the functional backward() is the method", () => {
    const x = tensor(3, { requiresGrad: true });
    backward(x.pow(2));
    expect(x.grad!.item()).toBe(6);
  });
});

describe("transpose of a dimension with itself, as PyTorch", () => {
  it("leaves a 0-d tensor unchanged for dims (0, 0) and (-1, -1); the gradient is 1", () => {
    for (const [d0, d1] of [
      [0, 0],
      [-1, -1],
      [0, -1],
    ] as const) {
      const x = tensor(2, { requiresGrad: true });
      const y = x.transpose(d0, d1);
      expect(y.shape).toEqual([]);
      expect(y.item()).toBe(2);
      expect(y.gradFn!.name).toBe("TransposeBackward0");
      y.mul(3).backward();
      expect(x.grad!.shape).toEqual([]);
      expect(x.grad!.item()).toBe(3);
    }
  });

  it("leaves a 1-d tensor's shape and values for dims (0, 0); the gradient passes through", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.transpose(0, 0);
    expect(y.shape).toEqual([3]);
    expect(y.toArray()).toEqual([1, 2, 3]);
    y.backward(tensor([4, 5, 6]));
    expect(x.grad!.toArray()).toEqual([4, 5, 6]);
  });
});

describe("null options are no options", () => {
  it("tensor(3, null) is a leaf that does not require grad", () => {
    const t = tensor(3, null);
    expect(t.item()).toBe(3);
    expect(t.requiresGrad).toBe(false);
  });

  it("y.backward(undefined, null), backward(y, undefined, null) and grad(y, [x], null) run", () => {
    const x = tensor(3, { requiresGrad: true });
    x.pow(2).backward(undefined, null);
    expect(x.grad!.item()).toBe(6); // d(x²)/dx = 2x at 3
    backward(x.pow(2), undefined, null);
    expect(x.grad!.item()).toBe(12); // accumulated
    const [dx] = grad(x.pow(3), [x], null);
    expect(dx!.item()).toBe(27); // 3x² at 3
  });
});

describe("assigning .grad", () => {
  it("refuses a gradient of another shape, even with as many elements, as PyTorch", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(codeOf(() => (x.grad = tensor([[1, 2]])))).toBe(
      "SHAPE: grad: assigned grad has shape [1, 2] but the tensor has shape [2]",
    );
    expect(x.grad).toBeNull();
    x.grad = tensor([3, 4]);
    expect(x.grad!.toArray()).toEqual([3, 4]);
  });
});

describe("origins during backward", () => {
  it("records none without createGraph: x.grad of sin(x) is a constant, not its own argument", () => {
    const x = tensor(0.5, { requiresGrad: true });
    recordOrigins(() => {
      x.sin().backward();
      expect(x.grad!.item()).toBe(Math.cos(0.5));
      expect(x.grad!.origin).toBeNull();
      const [dx] = grad(x.pow(3), [x]); // mulTemp twice: 3 · x² · 1
      expect(dx!.item()).toBe(0.75);
      expect(dx!.origin).toBeNull();
      expect(isRecordingOrigins()).toBe(true); // restored after the pass
    });
  });

  it("keeps them with createGraph, where the gradient is a graph of ops on x", () => {
    const x = tensor(0.5, { requiresGrad: true });
    recordOrigins(() => {
      const [dx] = grad(x.sin(), [x], { createGraph: true });
      const o = dx!.origin!;
      expect(o.op).toBe("mul");
      expect(o.args).not.toContain(dx);
      expect(o.args.some((a) => typeof a !== "number" && a.origin?.op === "cos")).toBe(true);
    });
  });
});

describe("clamp with tensor bounds (ClampBackward0), PyTorch's clamp_backward_min_max", () => {
  function grads(xv: number, lov: number, hiv: number): [number, number, number, number] {
    const x = tensor(xv, { requiresGrad: true });
    const lo = tensor(lov, { requiresGrad: true });
    const hi = tensor(hiv, { requiresGrad: true });
    const y = clamp(x, lo, hi);
    y.backward();
    return [y.item(), x.grad!.item(), lo.grad!.item(), hi.grad!.item()];
  }

  it("gives lo a gradient only where x < lo < hi strictly: at x = 0, lo = hi = 1 nothing gets one", () => {
    // min: x < lo && lo < hi → 0 < 1 && 1 < 1 = false; max: x > hi || hi < lo = false; x: false.
    expect(grads(0, 1, 1)).toEqual([1, 0, 0, 0]);
  });

  it("otherwise: below lo < hi to lo, inside to x, above hi to hi, and hi < lo to hi", () => {
    expect(grads(0, 1, 2)).toEqual([1, 0, 1, 0]);
    expect(grads(1.5, 1, 2)).toEqual([1.5, 1, 0, 0]);
    expect(grads(3, 1, 2)).toEqual([2, 0, 0, 1]);
    expect(grads(0, 2, 1)).toEqual([1, 0, 0, 1]); // hi < lo: the output is hi
  });
});

describe("sum and mean over everything with keepdim, as PyTorch's dim=None, keepdim=True", () => {
  it("keeps every dimension as size 1: a 2×3 tensor gives shape [1, 1]", () => {
    const m = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { requiresGrad: true },
    );
    const s = sum(m, undefined, true);
    expect(s.shape).toEqual([1, 1]);
    expect(s.toArray()).toEqual([[21]]);
    expect(s.gradFn!.name).toBe("SumBackward1");
    const a = m.mean(undefined, true);
    expect(a.shape).toEqual([1, 1]);
    expect(a.toArray()).toEqual([[3.5]]);
    expect(a.gradFn!.name).toBe("MeanBackward1");
    // d/dm of sum = 1 everywhere; of mean = 1/6: the seeds are [[2]] and [[6]]
    s.backward(tensor([[2]]));
    expect(m.grad!.toArray()).toEqual([
      [2, 2, 2],
      [2, 2, 2],
    ]);
    m.grad = null;
    a.backward(tensor([[6]]));
    expect(m.grad!.toArray()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
  });

  it("without keepdim still gives a 0-d result", () => {
    const m = tensor([[1, 2, 3]]);
    expect(sum(m, undefined, false).shape).toEqual([]);
    expect(mean(m).shape).toEqual([]);
  });
});
