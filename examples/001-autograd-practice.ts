/**
 * Seed 001 ("PyTorch Autograd Practice"), a README describing a notebook; its Python code blocks
 * in turn. The README leaves some names undefined (x, y, y_pred, binary_cross_entropy); each block
 * says which definitions it borrows from the notebooks it summarizes.
 * Run: npx tsx examples/001-autograd-practice.ts
 */
import { clamp, log, noGrad, sigmoid, sub, type Tensor, tensor } from "../src/autograd/index.ts";
import { isMain, type Out, print } from "./notebook.ts";

/**
 * Runs every code block of the README, printing what its `print` calls print.
 *
 * @example
 * run(console.log);
 */
export function run(out: Out): void {
  // Blocks 1-3 act on an x the README does not define: take a leaf that requires grad.
  let x = tensor(3.0, { requiresGrad: true });

  // Block 1 (Option 1): x.requires_grad_(False)
  out("Block 1:");
  x.requiresGrad_(false);

  // Block 2 (Option 2): z = x.detach()
  out("Block 2:");
  const z = x.detach();
  void z;

  // Block 3 (Option 3): with torch.no_grad(): y = x ** 2
  out("Block 3:");
  let y = noGrad(() => x.pow(2));

  // Block 4 (Simple Gradient Calculation):
  //   x = torch.tensor(3.0, requires_grad=True); y = x**2; y.backward()
  //   print(x.grad)  # Output: tensor(6.) [derivative of x² at x=3 is 2*3=6]
  out("Block 4:");
  x = tensor(3.0, { requiresGrad: true });
  y = x.pow(2);
  y.backward();
  print(out, x.grad);

  // Block 5 (Binary Classification with Manual Gradients):
  //   d_loss_dy_pred = (y_pred - y) / (y_pred * (1 - y_pred)); dy_pred_d_z = y_pred * (1 - y_pred)
  //   dz_d_w = x; dL_dw = d_loss_dy_pred * dy_pred_d_z * dz_d_w
  // x, y and y_pred as in the seed notebooks: x = 6.7, y = 0, y_pred = sigmoid(1*x + 0).
  out("Block 5:");
  x = tensor(6.7);
  y = tensor(0.0);
  let y_pred = sigmoid(x);
  const d_loss_dy_pred = y_pred.sub(y).div(y_pred.mul(sub(1, y_pred)));
  const dy_pred_d_z = y_pred.mul(sub(1, y_pred));
  const dz_d_w = x;
  const dL_dw = d_loss_dy_pred.mul(dy_pred_d_z).mul(dz_d_w);
  void dL_dw;

  // Block 6 (Binary Classification with Autograd):
  //   w = torch.tensor(1.0, requires_grad=True); b = torch.tensor(0.0, requires_grad=True)
  //   z = w*x + b; y_pred = torch.sigmoid(z); loss = binary_cross_entropy(y_pred, y)
  //   loss.backward(); print(w.grad, b.grad)
  // binary_cross_entropy as the seed notebooks define it (clamped to [1e-8, 1 - 1e-8]).
  out("Block 6:");
  const binaryCrossEntropy = (prediction: Tensor, target: Tensor): Tensor => {
    const epsilon = 1e-8;
    prediction = clamp(prediction, epsilon, 1 - epsilon);
    return target
      .mul(log(prediction))
      .add(sub(1, target).mul(log(sub(1, prediction))))
      .neg();
  };
  const w = tensor(1.0, { requiresGrad: true });
  const b = tensor(0.0, { requiresGrad: true });
  y_pred = sigmoid(w.mul(x).add(b));
  const loss = binaryCrossEntropy(y_pred, y);
  loss.backward();
  print(out, w.grad, b.grad);

  // Block 7 (Requirements): import torch
  out("Block 7:");
}

if (isMain(import.meta.url)) run(console.log);
