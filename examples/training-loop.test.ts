// The training loop's printed numbers against the model computed by hand in plain float64:
// p = σ(w·x + b), loss = -log(1 - p) for y = 0, ∂loss/∂w = p·x, ∂loss/∂b = p (the clamp to
// [1e-8, 1-1e-8] is inactive on this path: checked below).
import { describe, expect, it } from "vitest";
import { LR, run } from "./training-loop.ts";

const X = 6.7;
const sigma = (z: number) => 1 / (1 + Math.exp(-z));
const t4 = (v: number) => `tensor(${v.toFixed(4)})`; // PyTorch's print of a 0-d float tensor

function lines(): string[] {
  const out: string[] = [];
  run((l) => out.push(l));
  return out;
}

/** Three steps of w -= lr·grad by hand; `zero` false lets the gradients pile up. */
function byHand(zero: boolean) {
  let [w, b, gw, gb] = [1, 0, 0, 0];
  const steps: { loss: number; gw: number; gb: number }[] = [];
  for (let k = 0; k < 3; k++) {
    const p = sigma(w * X + b);
    expect(p > 1e-8 && p < 1 - 1e-8).toBe(true);
    if (zero) [gw, gb] = [0, 0];
    gw += p * X;
    gb += p;
    steps.push({ loss: -Math.log(1 - p), gw, gb });
    w -= LR * gw;
    b -= LR * gb;
  }
  return { steps, w, b };
}

describe("examples/training-loop.ts", () => {
  const printed = lines();

  it("accumulates 6.69, 13.38, 20.08 without zero_(), then zero_() resets to 0", () => {
    const g = X * sigma(X);
    expect(g).toBeCloseTo(6.6918, 4);
    for (let k = 1; k <= 3; k++)
      expect(printed).toContain(`pass ${k}: w.grad = ${t4(k * g)} b.grad = ${t4(k * sigma(X))}`);
    expect(printed).toContain("w.grad.zero_() → tensor(0.)");
  });

  for (const zero of [true, false]) {
    it(`prints the loss and gradients of each step ${zero ? "with" : "without"} zero_()`, () => {
      const hand = byHand(zero);
      const start = printed.findIndex((l) => l.includes(zero ? "with zero_()" : "WITHOUT zero_()"));
      hand.steps.forEach((s, k) => {
        expect(printed[start + 1 + k]).toBe(
          `step ${k + 1}: loss = tensor(${s.loss.toFixed(4)}, grad_fn=<NegBackward0>) w.grad = ${t4(s.gw)} b.grad = ${t4(s.gb)}`,
        );
      });
      const m = /^after 3 steps: w = (\S+), b = (\S+)$/.exec(printed[start + 4]!)!;
      expect(Math.abs(Number(m[1]) - hand.w)).toBeLessThan(1e-12);
      expect(Math.abs(Number(m[2]) - hand.b)).toBeLessThan(1e-12);
    });
  }

  it("the gradients pile up without zero_(): step 2's w.grad is step 1's plus its own", () => {
    expect(byHand(false).steps[1]!.gw).toBeCloseTo(6.6918 + 5.9798, 3);
  });
});
