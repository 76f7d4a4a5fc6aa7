// In-place ops against hand values and PyTorch's rules and messages (PyTorch 2.x, float64).
import { describe, expect, it } from "vitest";
import { failure } from "../../test/failure.ts";
import { defineOp } from "./define-op.ts";
import { clamp } from "./functions.ts";
import { noGrad } from "./grad-mode.ts";
import { tensor } from "./tensor.ts";

describe("in-place ops", () => {
  it("update the values and bump the version", () => {
    const x = tensor([1, 2, 3]);
    expect(x.add_(1).toArray()).toEqual([2, 3, 4]);
    expect(x.sub_(tensor([1, 1, 2])).toArray()).toEqual([1, 2, 2]);
    expect(x.mul_(3).toArray()).toEqual([3, 6, 6]);
    expect(x.div_(2).toArray()).toEqual([1.5, 3, 3]);
    expect(x.fill_(7).toArray()).toEqual([7, 7, 7]);
    expect(x.zero_().toArray()).toEqual([0, 0, 0]);
    expect(x.version).toBe(6);
    expect(x.add_(1)).toBe(x); // returns the tensor itself
  });

  it("refuse a leaf that requires grad outside noGrad, as PyTorch does", () => {
    const w = tensor(1, { requiresGrad: true });
    const e = failure(() => w.sub_(0.1));
    expect(e.code).toBe("AUTOGRAD");
    expect(e.message).toMatch(
      /^a leaf Variable that requires grad is being used in an in-place operation\./,
    );
    expect(failure(() => w.zero_()).message).toBe(e.message);
    noGrad(() => w.sub_(0.25));
    expect([w.item(), w.isLeaf, w.requiresGrad, w.gradFn]).toEqual([0.75, true, true, null]);
  });

  it("on a non-leaf record the op: y = 2x; y += x is 3x (AddBackward0), d/dx = 3", () => {
    const x = tensor(3, { requiresGrad: true });
    const y = x.mul(2);
    y.add_(x);
    expect(y.gradFn?.name).toBe("AddBackward0");
    expect(y.item()).toBe(9);
    y.backward();
    expect(x.grad?.item()).toBe(3);
  });

  it("keep the old value for the backward rule: y = 2x; y *= x is 2x², d/dx = 4x", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(2);
    y.mul_(x);
    expect(y.gradFn?.name).toBe("MulBackward0");
    y.sum().backward();
    expect(x.grad?.toArray()).toEqual([4, 8, 12]);
  });

  it("zero_ and fill_ on a non-leaf pass a zero gradient (ZeroBackward0, FillBackward0)", () => {
    const x = tensor(3, { requiresGrad: true });
    const y = x.mul(2);
    y.zero_();
    expect(y.gradFn?.name).toBe("ZeroBackward0");
    y.add(x).backward();
    expect(x.grad?.item()).toBe(1);
    const z = x.mul(2).fill_(5);
    expect([z.gradFn?.name, z.item()]).toEqual(["FillBackward0", 5]);
  });

  it("make a plain tensor part of the graph when the operand requires grad", () => {
    const w = tensor(2, { requiresGrad: true });
    const acc = tensor(1);
    acc.mul_(w); // acc = w
    expect([acc.isLeaf, acc.gradFn?.name]).toEqual([false, "MulBackward0"]);
    acc.backward();
    expect(w.grad?.item()).toBe(1);
  });

  it("refuse a result that does not fit the tensor's shape", () => {
    expect(
      failure(() =>
        tensor([1, 2]).add_(
          tensor([
            [1, 2],
            [3, 4],
          ]),
        ),
      ).message,
    ).toBe("output with shape [2] doesn't match the broadcast shape [2, 2]");
  });
});

describe("the version counter", () => {
  const prefix =
    "one of the variables needed for gradient computation has been modified by an inplace operation: ";

  it("catches a saved output changed in place (exp saves its result)", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.exp();
    y.mul_(2);
    const e = failure(() => y.sum().backward());
    expect(e.message.startsWith(prefix)).toBe(true);
    expect(e.message).toContain(
      "[torch.DoubleTensor [3]], which is output 0 of MulBackward0, is at version 1; expected version 0 instead.",
    );
  });

  it("catches data changed in place after an op saved it (w*x saves x)", () => {
    const w = tensor(2, { requiresGrad: true });
    const x = tensor([1, 2, 3]);
    const loss = w.mul(x).sum();
    x.mul_(2);
    expect(failure(() => loss.backward()).message).toContain(
      "[torch.DoubleTensor [3]] is at version 1; expected version 0 instead.",
    );
  });

  it("is shared with detach(): changing the detached copy changes the original's version", () => {
    const x = tensor(2, { requiresGrad: true });
    const y = x.exp();
    const d = y.detach();
    d.add_(1);
    expect([y.version, y.item()]).toEqual([1, Math.exp(2) + 1]);
    expect(failure(() => y.backward()).message).toContain(
      "[torch.DoubleTensor []], which is output 0 of ExpBackward0, is at version 1; expected version 0 instead.",
    );
  });

  it("checks tensors kept beside the inputs too: clamp's tensor bounds, a custom op's inputs", () => {
    const x = tensor([0.5, 2], { requiresGrad: true });
    const hi = tensor([1, 1]);
    const y = clamp(x, tensor(0), hi).sum();
    hi.fill_(3);
    expect(failure(() => y.backward()).message).toContain(
      "[torch.DoubleTensor [2]] is at version 1; expected version 0 instead.",
    );
    const cube = defineOp({
      name: "inplaceCube",
      arity: 1,
      forward: (a) => a ** 3,
      backward: ({ args: [a], grad }) => [3 * a! ** 2 * grad],
    });
    const u = tensor(2, { requiresGrad: true });
    const v = u.mul(1);
    const out = cube(v);
    v.add_(1);
    expect(failure(() => out.backward()).message).toContain(
      "which is output 0 of AddBackward0, is at version 1; expected version 0 instead.",
    );
  });

  it("lets ops that saved nothing changed go through: y = x²; y += 1 then backward", () => {
    const x = tensor(3, { requiresGrad: true });
    const y = x.pow(2);
    y.add_(1);
    y.backward();
    expect(x.grad?.item()).toBe(6);
  });
});
