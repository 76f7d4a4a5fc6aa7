/**
 * Seed notebook 003 ("What is Autograd?", pytorch_autograd.ipynb), cell by cell.
 * Run: npx tsx examples/003-pytorch-autograd.ts
 */
import { clamp, log, sigmoid, sin, sub, type Tensor, tensor } from "../src/autograd/index.ts";
import { isMain, type Out, pyFloat } from "./notebook.ts";

/**
 * Runs every cell of the notebook, printing what Jupyter showed under each.
 *
 * @example
 * run(console.log);
 */
export function run(out: Out): void {
  // In [1]: def dy_dx(x): return 2 * x
  out("In [1]:");
  const dy_dx = (x: number): number => 2 * x;

  // In [2]: dy_dx(2)   (an int in Python, so no ".0")
  out("In [2]:");
  out(String(dy_dx(2)));

  // In [3]: import math; def dz_dx(x): return 2 * x * math.cos(x ** 2)
  out("In [3]:");
  const dz_dx = (x: number): number => 2 * x * Math.cos(x ** 2);

  // In [4]: dz_dx(3)
  out("In [4]:");
  out(pyFloat(dz_dx(3)));

  // In [5]: import torch
  out("In [5]:");

  // In [6]: x = torch.tensor(3.0, requires_grad=True)
  out("In [6]:");
  let x = tensor(3.0, { requiresGrad: true });

  // In [7]: y =  x**2
  out("In [7]:");
  let y = x.pow(2);

  // In [8]: x
  out("In [8]:");
  out(String(x));

  // In [9]: y
  out("In [9]:");
  out(String(y));

  // In [10]: y.backward(); x.grad
  out("In [10]:");
  y.backward();
  out(String(x.grad));

  // In [11]: x = torch.tensor(3.0, requires_grad=True)
  out("In [11]:");
  x = tensor(3.0, { requiresGrad: true });

  // In [12]: y = x ** 2
  out("In [12]:");
  y = x.pow(2);

  // In [13]: z = torch.sin(y)
  out("In [13]:");
  let z = sin(y);

  // In [14]: x
  out("In [14]:");
  out(String(x));

  // In [15]: y
  out("In [15]:");
  out(String(y));

  // In [16]: z
  out("In [16]:");
  out(String(z));

  // In [17]: z.backward()
  out("In [17]:");
  z.backward();

  // In [18]: x.grad
  out("In [18]:");
  out(String(x.grad));

  // In [19]: x = torch.tensor(6.7); y = torch.tensor(0.0); w = torch.tensor(1.0); b = torch.tensor(0.0)
  out("In [19]:");
  x = tensor(6.7); // Input feature
  y = tensor(0.0); // True label (binary)
  const w = tensor(1.0); // Weight
  const b = tensor(0.0); // Bias

  // In [20]: def binary_cross_entropy_loss(prediction, target):
  //   epsilon = 1e-8; prediction = torch.clamp(prediction, epsilon, 1 - epsilon)
  //   return -(target * torch.log(prediction) + (1 - target) * torch.log(1 - prediction))
  out("In [20]:");
  const binaryCrossEntropyLoss = (prediction: Tensor, target: Tensor): Tensor => {
    const epsilon = 1e-8; // To prevent log(0)
    prediction = clamp(prediction, epsilon, 1 - epsilon);
    return target
      .mul(log(prediction))
      .add(sub(1, target).mul(log(sub(1, prediction))))
      .neg();
  };

  // In [21]: z = w*x + b; y_pred = torch.sigmoid(z); loss = binary_cross_entropy_loss(y_pred, y)
  out("In [21]:");
  z = w.mul(x).add(b);
  const y_pred = sigmoid(z);
  const loss = binaryCrossEntropyLoss(y_pred, y);

  // In [22]: loss   (no grad_fn: nothing here requires grad)
  out("In [22]:");
  out(String(loss));

  // In [23]: dloss_dy_pred = (y_pred - y)/(y_pred*(1-y_pred)); dy_pred_dz = y_pred * (1 - y_pred)
  //          dz_dw = x; dz_db = 1; dL_dw = dloss_dy_pred * dy_pred_dz * dz_dw; dL_db = … * dz_db
  // PyTorch computed these in float32 (its default dtype), and the f-strings below print every
  // digit (a 0-d tensor formats as its item()), so the chain runs on float32 tensors here.
  // (In float64, gradtrio's default dtype, it gives 6.691763029237442 and 0.9987706013787226.)
  out("In [23]:");
  const f32 = { dtype: "float32" } as const;
  const x32 = tensor(6.7, f32);
  const y32 = tensor(0.0, f32);
  const yPred32 = sigmoid(tensor(1.0, f32).mul(x32).add(tensor(0.0, f32)));
  const dloss_dy_pred = yPred32.sub(y32).div(yPred32.mul(sub(1, yPred32)));
  const dy_pred_dz = yPred32.mul(sub(1, yPred32));
  const dz_dw = x32;
  const dz_db = 1;
  const dL_dw = dloss_dy_pred.mul(dy_pred_dz).mul(dz_dw).item();
  const dL_db = dloss_dy_pred.mul(dy_pred_dz).mul(dz_db).item();

  // In [24]: print(f"Manual Gradient of loss w.r.t weight (dw): {dL_dw}") (and bias)
  out("In [24]:");
  out(`Manual Gradient of loss w.r.t weight (dw): ${pyFloat(dL_dw)}`);
  out(`Manual Gradient of loss w.r.t bias (db): ${pyFloat(dL_db)}`);
}

if (isMain(import.meta.url)) run(console.log);
