/**
 * Seed notebook 002 ("Autograd", general steps and the manual BCE backpropagation), cell by cell.
 * Run: npx tsx examples/002-autograd-steps.ts
 */
import { clamp, log, sigmoid, sin, sub, type Tensor, tensor } from "../src/autograd/index.ts";
import { captureWarnings, isMain, type Out, print, pyFloat } from "./notebook.ts";

/**
 * Runs every cell of the notebook in order, printing what Jupyter showed under each.
 *
 * @example
 * run(console.log);
 */
export function run(out: Out): void {
  // In [4]: def dy_dx(x): return 2*x
  //         print(dy_dx(3))
  out("In [4]:");
  const dy_dx = (x: number): number => 2 * x;
  print(out, dy_dx(3));

  // In [None]: import torch; x = torch.tensor(3.0, requires_grad=True); y = x**2; y.backward()
  //            print(x.grad)
  // The notebook shows "None" here, an artifact of out-of-order execution: run in order, PyTorch
  // prints tensor(6.), and so do we.
  out("In [None]:");
  let x = tensor(3.0, { requiresGrad: true });
  let y = x.pow(2);
  y.backward();
  print(out, x.grad);

  // In [None]: import math; def dz_dx(x): return 2 * x * math.cos(x**2)
  //            dz_dx(4)
  out("In [None]:");
  const dz_dx = (x: number): number => 2 * x * Math.cos(x ** 2);
  out(pyFloat(dz_dx(4)));

  // In [None]: x = torch.tensor(4.0, requires_grad = True); y = x ** 2; z = torch.sin(y)
  //            z.backward() # this is performing diff
  //            print(x.grad, y.grad)
  // Reading .grad of the non-leaf y gives None and a UserWarning; Jupyter showed the warning
  // (stderr) below the printed line, so we print the captured warnings after it.
  out("In [None]:");
  x = tensor(4.0, { requiresGrad: true });
  y = x.pow(2);
  let z = sin(y);
  z.backward();
  const { value: yGrad, warnings } = captureWarnings(() => y.grad);
  print(out, x.grad, yGrad);
  for (const message of warnings) out(`UserWarning: ${message}`);

  // In [2]: x = torch.tensor([2, 1, 4, 9, 8, 6, 7]); x = torch.clamp(x, min=3, max=7); print(x)
  // PyTorch made an int64 tensor and printed tensor([3, 3, 4, 7, 7, 6, 7]); gradtrio's tensors
  // are floating point only, so the same clamp prints as PyTorch prints a float tensor.
  out("In [2]:");
  x = tensor([2, 1, 4, 9, 8, 6, 7]);
  x = clamp(x, 3, 7);
  print(out, x);

  // In [14]: x = torch.tensor(6.7); y = torch.tensor(0.0); w = torch.tensor(1.0); b = torch.tensor(0.0)
  out("In [14]:");
  x = tensor(6.7); // input feature
  y = tensor(0.0); // True label
  const w = tensor(1.0);
  const b = tensor(0.0);

  // In [15]: def binary_cross_entropy(prediction, target):
  //   epsilon = 1e-8; prediction = torch.clamp(prediction, epsilon, 1-epsilon)
  //   return -(target*torch.log(prediction) + (1-target)*torch.log(1-prediction))
  out("In [15]:");
  const binaryCrossEntropy = (prediction: Tensor, target: Tensor): Tensor => {
    const epsilon = 1e-8;
    prediction = clamp(prediction, epsilon, 1 - epsilon);
    return target
      .mul(log(prediction))
      .add(sub(1, target).mul(log(sub(1, prediction))))
      .neg();
  };

  // In [None]: # Forward pass
  //            z = w * x + b; y_pred = torch.sigmoid(z); loss = binary_cross_entropy(y_pred, y)
  //            print(loss)
  out("In [None]:");
  z = w.mul(x).add(b);
  let y_pred = sigmoid(z);
  let loss = binaryCrossEntropy(y_pred, y);
  print(out, loss);

  // In [18]: dl_dypred = (y_pred - y)/(y_pred *(1 - y_pred)); dypred_dz = y_pred *(1 - y_pred)
  //          dz_dw = x; dz_db = 1; dL_dw = dl_dypred * dypred_dz * dz_dw; dL_db = … * dz_db
  // PyTorch computed these in float32 (its default dtype), and the f-strings below print every
  // digit (a 0-d tensor formats as its item()), so the chain runs on float32 tensors here.
  // (In float64, gradtrio's default dtype, it gives 6.691763029237442 and 0.9987706013787226.)
  out("In [18]:");
  const f32 = { dtype: "float32" } as const;
  const x32 = tensor(6.7, f32);
  const y32 = tensor(0.0, f32);
  const yPred32 = sigmoid(tensor(1.0, f32).mul(x32).add(tensor(0.0, f32)));
  const dl_dypred = yPred32.sub(y32).div(yPred32.mul(sub(1, yPred32)));
  const dypred_dz = yPred32.mul(sub(1, yPred32));
  const dz_dw = x32;
  const dz_db = 1;
  const dL_dw = dl_dypred.mul(dypred_dz).mul(dz_dw).item();
  const dL_db = dl_dypred.mul(dypred_dz).mul(dz_db).item();

  // In [19]: print(f"Manual Gradient of loss w.r.t weight (dw): {dL_dw}") (and bias)
  out("In [19]:");
  out(`Manual Gradient of loss w.r.t weight (dw): ${pyFloat(dL_dw)}`);
  out(`Manual Gradient of loss w.r.t bias (db): ${pyFloat(dL_db)}`);

  // In [25]: x = torch.tensor(6.7); y = torch.tensor(0.0)
  //          w_new = torch.tensor(1.0, requires_grad=True); b_new = torch.tensor(0.0, requires_grad=True)
  out("In [25]:");
  x = tensor(6.7);
  y = tensor(0.0);
  const w_new = tensor(1.0, { requiresGrad: true });
  const b_new = tensor(0.0, { requiresGrad: true });

  // In [26]: z = w_new * z + b_new; y_pred = torch.sigmoid(z); print(y_pred)
  // (The notebook multiplies the previous z, 6.7 without grad, not x: the same value.)
  out("In [26]:");
  z = w_new.mul(z).add(b_new);
  y_pred = sigmoid(z);
  print(out, y_pred);

  // In [27]: loss = binary_cross_entropy(y_pred, y); print(loss)
  out("In [27]:");
  loss = binaryCrossEntropy(y_pred, y);
  print(out, loss);

  // In [28]: loss.backward(); print(w_new.grad, b_new.grad)
  out("In [28]:");
  loss.backward();
  print(out, w_new.grad, b_new.grad);

  // In [30]: x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True); y = (x**2).mean(); y.backward()
  //          x.grad
  out("In [30]:");
  x = tensor([1.0, 2.0, 3.0], { requiresGrad: true });
  y = x.pow(2).mean();
  y.backward();
  out(String(x.grad));

  // In [50]: x = torch.tensor(2.0, requires_grad=True)
  out("In [50]:");
  x = tensor(2.0, { requiresGrad: true });

  // In [51]: y = x ** 2
  out("In [51]:");
  y = x.pow(2);

  // In [52]: y.backward()
  out("In [52]:");
  y.backward();

  // In [53]: print(x.grad)
  out("In [53]:");
  print(out, x.grad);

  // In [None]: x.grad.zero_() # Clearing gradient
  out("In [None]:");
  out(String(x.grad?.zero_()));
}

if (isMain(import.meta.url)) run(console.log);
