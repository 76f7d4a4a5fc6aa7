// float32 tensors against hand computations with Math.fround and the seed notebooks' printed
// values (PyTorch float32, its default dtype).
import { describe, expect, it } from "vitest";
import { GradtrioError } from "../errors.ts";
import { grad } from "./engine.ts";
import { clamp, log, sigmoid, sub } from "./functions.ts";
import { type Tensor, tensor } from "./tensor.ts";

const f = Math.fround;
const F32 = { dtype: "float32" } as const;

describe("float32 tensors", () => {
  it("a plain number takes the tensor's dtype: a 0-d double backward stays float32", () => {
    // d²(2x²)/dx² = 4 by hand; the saved 2 of x·2 must not promote the second pass to float64.
    const x = tensor(3, { requiresGrad: true, dtype: "float32" });
    const [g] = grad([x.mul(x).mul(2)], [x], { createGraph: true });
    const [h] = grad([g!], [x]);
    expect([g!.dtype, h!.dtype, h!.item()]).toEqual(["float32", "float32", 4]);
  });

  it("hold float32 values and round after each op", () => {
    const x = tensor(6.7, F32);
    expect([x.dtype, x.item()]).toEqual(["float32", f(6.7)]);
    expect(x.mul(3).add(0.1).item()).toBe(f(f(f(6.7) * 3) + f(0.1)));
    expect(tensor(6.7).dtype).toBe("float64");
    expect(() => tensor(1, { dtype: "float16" as never })).toThrow(GradtrioError);
  });

  it("promote as PyTorch: numbers and 0-d float64 tensors keep float32 tensors float32", () => {
    const v = tensor([1, 2, 3], F32);
    expect(v.add(1).dtype).toBe("float32");
    expect(v.add(tensor(1)).dtype).toBe("float32"); // a 0-d float64 does not promote [3]
    expect(v.add(tensor([1, 1, 1])).dtype).toBe("float64");
    expect(tensor(1, F32).add(tensor(1)).dtype).toBe("float64"); // both 0-d
  });

  it("print the dtype, as PyTorch names any dtype but the default (float64 here)", () => {
    expect(String(tensor(1, F32))).toBe("tensor(1., dtype=torch.float32)");
    expect(String(tensor([1, 2], { dtype: "float32", requiresGrad: true }))).toBe(
      "tensor([1., 2.], dtype=torch.float32, requires_grad=True)",
    );
    const w = tensor(3, { dtype: "float32", requiresGrad: true });
    expect(String(w.pow(2))).toBe("tensor(9., dtype=torch.float32, grad_fn=<PowBackward0>)");
    expect(String(tensor(1))).toBe("tensor(1.)");
  });

  it("give the seed notebooks' manual BCE gradients: 6.691762447357178 and 0.998770534992218", () => {
    const x = tensor(6.7, F32);
    const y = tensor(0, F32);
    const yPred = sigmoid(tensor(1, F32).mul(x).add(tensor(0, F32)));
    const dl = yPred.sub(y).div(yPred.mul(sub(1, yPred)));
    const dz = yPred.mul(sub(1, yPred));
    expect(dl.mul(dz).mul(x).item()).toBe(6.691762447357178);
    expect(dl.mul(dz).mul(1).item()).toBe(0.998770534992218);
  });

  it("show the clamp trap: 1-1e-8 is 1 in float32 and sigmoid(z) is 1 from z ≈ 16.6, so the loss is inf", () => {
    expect(f(1 - 1e-8)).toBe(1);
    const loss = (xv: number): Tensor => {
      const p = clamp(sigmoid(tensor(xv, F32)), 1e-8, 1 - 1e-8);
      const y = tensor(0, F32);
      return y
        .mul(log(p))
        .add(sub(1, y).mul(log(sub(1, p))))
        .neg();
    };
    // σ(17) as float32 steps: exp(-17) ≈ 4.1e-8 is below half an ulp of 1, so 1 + it is 1.
    expect(f(1 / f(1 + f(Math.exp(-17))))).toBe(1);
    expect(loss(17).item()).toBe(Number.POSITIVE_INFINITY);
    expect(loss(20).item()).toBe(Number.POSITIVE_INFINITY);
    const p16 = f(1 / f(1 + f(Math.exp(-16))));
    expect(loss(16).item()).toBe(f(-f(Math.log(f(1 - p16)))));
    // In float64 the same loss is finite at 17: ≈ 17.
    const p = clamp(sigmoid(tensor(17)), 1e-8, 1 - 1e-8);
    expect(log(sub(1, p)).neg().item()).toBeCloseTo(17, 6);
  });

  it("backpropagate in float32: .grad is float32, each step rounded", () => {
    const w = tensor(1.5, { dtype: "float32", requiresGrad: true });
    w.mul(w).mul(w).backward(); // d/dw w³ = 3w² via MulBackward0 twice
    expect(w.grad?.dtype).toBe("float32");
    const w2 = f(1.5 * 1.5);
    expect(w.grad?.item()).toBe(f(f(w2 + f(1.5 * 1.5)) + f(1.5 * 1.5)));
    expect(String(w.grad)).toBe("tensor(6.7500, dtype=torch.float32)");
  });
});
