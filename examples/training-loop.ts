/**
 * The seed notebooks' BCE model trained for three steps, as a PyTorch training loop: gradients
 * accumulate in `.grad` until `zero_()` clears them, and the update runs under `noGrad` (PyTorch's
 * `with torch.no_grad(): w -= lr * w.grad`). Run: npx tsx examples/training-loop.ts
 *
 *   for step in range(3):
 *       loss = binary_cross_entropy(torch.sigmoid(w * x + b), y)
 *       loss.backward()
 *       with torch.no_grad():
 *           w -= lr * w.grad
 *           b -= lr * b.grad
 *       w.grad.zero_(); b.grad.zero_()      # forget this and the gradients pile up
 */
import { clamp, log, noGrad, sigmoid, sub, type Tensor, tensor } from "../src/autograd/index.ts";
import { isMain, type Out, print, pyFloat } from "./notebook.ts";

/** The seed's loss: -(t·log p + (1-t)·log(1-p)) with p clamped to [1e-8, 1-1e-8]. */
function binaryCrossEntropy(prediction: Tensor, target: Tensor): Tensor {
  const epsilon = 1e-8;
  const p = clamp(prediction, epsilon, 1 - epsilon);
  return target
    .mul(log(p))
    .add(sub(1, target).mul(log(sub(1, p))))
    .neg();
}

/** The learning rate of the loops below. */
export const LR = 0.1;

/**
 * Three forward/backward passes without an update or zero_(): w.grad grows 6.69, 13.38, 20.08;
 * then three steps of gradient descent with zero_(), and the same three without it.
 *
 * @example
 * run(console.log);
 */
export function run(out: Out): void {
  const x = tensor(6.7);
  const y = tensor(0.0);

  out("# 1. backward() three times, no zero_(): the gradient accumulates");
  let w = tensor(1.0, { requiresGrad: true });
  let b = tensor(0.0, { requiresGrad: true });
  for (let pass = 1; pass <= 3; pass++) {
    binaryCrossEntropy(sigmoid(w.mul(x).add(b)), y).backward();
    print(out, `pass ${pass}: w.grad =`, w.grad, "b.grad =", b.grad);
  }
  print(out, "w.grad.zero_() →", w.grad!.zero_());

  for (const zero of [true, false]) {
    out(
      `# ${zero ? 2 : 3}. three steps of w -= lr*w.grad, lr = ${LR}, ${zero ? "with" : "WITHOUT"} zero_()`,
    );
    w = tensor(1.0, { requiresGrad: true });
    b = tensor(0.0, { requiresGrad: true });
    for (let step = 1; step <= 3; step++) {
      const loss = binaryCrossEntropy(sigmoid(w.mul(x).add(b)), y);
      loss.backward();
      print(out, `step ${step}: loss =`, loss, "w.grad =", w.grad, "b.grad =", b.grad);
      const [gw, gb] = [w.grad!, b.grad!];
      noGrad(() => {
        w.sub_(gw.mul(LR));
        b.sub_(gb.mul(LR));
      });
      if (zero) {
        gw.zero_();
        gb.zero_();
      }
    }
    out(`after 3 steps: w = ${pyFloat(w.item())}, b = ${pyFloat(b.item())}`);
  }
}

if (isMain(import.meta.url)) run(console.log);
