/**
 * Seed 000 ("Day 2: Learning PyTorch - Autograd and Backpropagation"), a README whose Python code
 * blocks carry "# Output:" comments instead of printed outputs; each block in turn.
 * Run: npx tsx examples/000-day2-autograd.ts
 */
import {
  clamp,
  log,
  noGrad,
  sigmoid,
  sin,
  sub,
  type Tensor,
  tensor,
} from "../src/autograd/index.ts";
import { isMain, type Out, print, pyFloat } from "./notebook.ts";

/**
 * Runs every code block of the README, printing what its `print` calls print.
 *
 * @example
 * run(console.log);
 */
export function run(out: Out): void {
  // Block 1 (Understanding Derivatives and Gradients):
  //   def dy_dx(x): return 2*x
  //   print(dy_dx(3))  # Output: 6
  //   def dz_dx(x): return 2 * x * math.cos(x**2)
  //   print(dz_dx(2))  # Output: -3.3072
  out("Block 1:");
  const dy_dx = (x: number): number => 2 * x;
  print(out, dy_dx(3));
  const dz_dx = (x: number): number => 2 * x * Math.cos(x ** 2);
  // The README's "-3.3072" is not what Python prints: 2*2*cos(4) = -2.6145744834544478.
  out(pyFloat(dz_dx(2)));

  // Block 2 (Autograd):
  //   x = torch.tensor(3.0, requires_grad=True); y = x**2; y.backward()
  //   print(x.grad)  # Output: 6.0
  out("Block 2:");
  let x = tensor(3.0, { requiresGrad: true });
  let y = x.pow(2);
  y.backward();
  print(out, x.grad);

  // Block 3 (Composite Functions):
  //   x = torch.tensor(3.0, requires_grad=True); y = x**2; z = torch.sin(y); z.backward()
  //   print(x.grad)  # Computes dz/dx
  out("Block 3:");
  x = tensor(3.0, { requiresGrad: true });
  y = x.pow(2);
  let z = sin(y);
  z.backward();
  print(out, x.grad);

  // Block 4 (Backpropagation in a Simple Neural Network):
  //   x = torch.tensor(6.7); y = torch.tensor(0.0)
  //   w = torch.tensor(1.0, requires_grad=True); b = torch.tensor(0.0, requires_grad=True)
  //   z = w * x + b; y_pred = torch.sigmoid(z)
  //   def binary_cross_entropy(prediction, target):
  //     epsilon = 1e-8; prediction = torch.clamp(prediction, epsilon, 1 - epsilon)
  //     return -target * torch.log(prediction) + (1 - target) * torch.log(1 - prediction)
  //   loss = binary_cross_entropy(y_pred, y); loss.backward()
  //   print(w.grad); print(b.grad)
  // The README's loss lacks the outer parentheses, so it is log(1 - y_pred) for y = 0, not the
  // BCE: we keep its formula, whose gradients are the negated BCE ones (-x*y_pred and -y_pred).
  out("Block 4:");
  x = tensor(6.7);
  y = tensor(0.0);
  const w = tensor(1.0, { requiresGrad: true });
  const b = tensor(0.0, { requiresGrad: true });
  z = w.mul(x).add(b);
  const y_pred = sigmoid(z);
  const binaryCrossEntropy = (prediction: Tensor, target: Tensor): Tensor => {
    const epsilon = 1e-8; // To avoid log(0)
    prediction = clamp(prediction, epsilon, 1 - epsilon);
    return target
      .neg()
      .mul(log(prediction))
      .add(sub(1, target).mul(log(sub(1, prediction))));
  };
  const loss = binaryCrossEntropy(y_pred, y);
  loss.backward();
  print(out, w.grad);
  print(out, b.grad);

  // Block 5 (Vector Inputs):
  //   x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True); y = (x**2).mean(); y.backward()
  //   print(x.grad)
  out("Block 5:");
  x = tensor([1.0, 2.0, 3.0], { requiresGrad: true });
  y = x.pow(2).mean();
  y.backward();
  print(out, x.grad);

  // Block 6 (Clearing Gradients): x.grad.zero_()   (a statement in a script: nothing shown)
  out("Block 6:");
  x.grad?.zero_();

  // Block 7 (Disabling Gradient Tracking):
  //   x.requires_grad = False
  //   z = x.detach()
  //   with torch.no_grad(): y = x**2
  out("Block 7:");
  x.requiresGrad = false;
  z = x.detach();
  y = noGrad(() => x.pow(2));
}

if (isMain(import.meta.url)) run(console.log);
