// gradtrio's own gradient gate: `npx gradtrio gate` (CI: `npx gradtrio gate --junit reports/gradients.xml`).
// The seed notebooks' cases at their points, a loss at random points of a box, and the fuzzing
// of a hand-written custom op (a numerically stable softplus with its own backward rule).
// A project imports "gradtrio"; this repo imports its sources (its package entry points are the
// built dist/, which a checkout does not need).
import { defineConfig } from "./src/index.ts";

export default defineConfig({
  seed: 20261122,
  checks: [
    { name: "square", expr: "x^2", at: { x: 3 } },
    { name: "sin of square", expr: "sin(x^2)", at: { x: 4 } },
    { name: "mean of squares", expr: "mean(x^2)", at: { x: [1, 2, 3] } },
    {
      name: "clamped BCE (seed 1e-8)",
      expr: "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)",
      at: { w: 1, b: 0, x: 6.7, y: 0 },
    },
    {
      name: "logistic regression loss, random batches",
      expr: "mean(bce(sigmoid(w*x+b), y))",
      domain: {
        w: { interval: [-2, 2] },
        b: { interval: [-1, 1] },
        x: { shape: [8], interval: [-3, 3] },
        y: { shape: [8], interval: [0, 1] },
      },
      runs: 10,
    },
    // A kink is inconclusive, which fails the gate unless the entry allows it.
    { name: "abs at its kink", expr: "abs(x)", at: { x: 0 }, allowInconclusive: true },
  ],
  fuzz: [{ name: "stable softplus", ops: "./test/fixtures/ops/part-of-domain.ok.ts", runs: 100 }],
});
