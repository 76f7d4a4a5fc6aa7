/**
 * Seed notebook 004 ("AutoGrad"), cell by cell.
 * Run: npx tsx examples/004-autograd.ts
 */
import { clamp, log, sigmoid, sin, sub, type Tensor, tensor } from "../src/autograd/index.ts";
import { isMain, type Out, print } from "./notebook.ts";

/**
 * Runs every cell of the notebook, printing what Jupyter showed under each.
 *
 * @example
 * run(console.log);
 */
export function run(out: Out): void {
  // In [11]: import torch; x = torch.tensor(3.0,requires_grad=True)
  out("In [11]:");
  let x = tensor(3.0, { requiresGrad: true });

  // In [12]: y = x**2
  out("In [12]:");
  let y = x.pow(2);

  // In [13]: x
  out("In [13]:");
  out(String(x));

  // In [14]: y
  out("In [14]:");
  out(String(y));

  // In [15]: y.backward()
  out("In [15]:");
  y.backward();

  // In [16]: x.grad
  out("In [16]:");
  out(String(x.grad));

  // In [23]: x = torch.tensor(4.0,requires_grad=True); y = x**2; z = torch.sin(y)
  out("In [23]:");
  x = tensor(4.0, { requiresGrad: true });
  y = x.pow(2);
  let z = sin(y);

  // In [24]: print(x); print(y); print(z)
  out("In [24]:");
  print(out, x);
  print(out, y);
  print(out, z);

  // In [25]: z.backward()
  out("In [25]:");
  z.backward();

  // In [26]: x.grad
  out("In [26]:");
  out(String(x.grad));

  // In [27]: x = torch.tensor(6.7); y = torch.tensor(0.0)   (inputs, true label)
  out("In [27]:");
  x = tensor(6.7);
  y = tensor(0.0);

  // In [31]: w = torch.tensor(1.0,requires_grad=True); b = torch.tensor(0.0,requires_grad=True)
  //          print(w); print(b)
  out("In [31]:");
  const w = tensor(1.0, { requiresGrad: true });
  const b = tensor(0.0, { requiresGrad: true });
  print(out, w);
  print(out, b);

  // In [32]: z = w*x + b; z
  out("In [32]:");
  z = w.mul(x).add(b);
  out(String(z));

  // In [33]: y_pred = torch.sigmoid(z); y_pred
  out("In [33]:");
  const y_pred = sigmoid(z);
  out(String(y_pred));

  // In [34]: def binary_cross_entropy(prediction, target):
  //   epsilon = 1e-7; prediction = torch.clamp(prediction, epsilon, 1 - epsilon)
  //   return -(target * torch.log(prediction) + (1 - target) * torch.log(1 - prediction))
  out("In [34]:");
  const binaryCrossEntropy = (prediction: Tensor, target: Tensor): Tensor => {
    const epsilon = 1e-7;
    prediction = clamp(prediction, epsilon, 1 - epsilon);
    return target
      .mul(log(prediction))
      .add(sub(1, target).mul(log(sub(1, prediction))))
      .neg();
  };

  // In [35]: loss = binary_cross_entropy(y_pred, y)
  out("In [35]:");
  const loss = binaryCrossEntropy(y_pred, y);

  // In [36]: loss
  out("In [36]:");
  out(String(loss));

  // In [37]: loss.backward()
  out("In [37]:");
  loss.backward();

  // In [38]: w.grad
  out("In [38]:");
  out(String(w.grad));

  // In [39]: b.grad
  out("In [39]:");
  out(String(b.grad));

  // In [41]: x = torch.tensor([1.,2.,3.],requires_grad=True); x
  out("In [41]:");
  x = tensor([1, 2, 3], { requiresGrad: true });
  out(String(x));

  // In [42]: y = (x**2).mean(); y
  out("In [42]:");
  y = x.pow(2).mean();
  out(String(y));

  // In [43]: y.backward()
  out("In [43]:");
  y.backward();

  // In [44]: x.grad
  out("In [44]:");
  out(String(x.grad));

  // In [46]: x.grad.zero_()   (zero_ returns the zeroed tensor, which Jupyter shows)
  out("In [46]:");
  out(String(x.grad?.zero_()));
}

if (isMain(import.meta.url)) run(console.log);
