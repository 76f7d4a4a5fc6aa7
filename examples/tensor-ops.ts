/**
 * Tensor custom ops, as torch.autograd.Function: a softmax with a hand-written backward and a
 * layer norm over the last dimension (gain and bias), each with a shape rule, a vector–Jacobian
 * product and its formula in the expression language. Check: npx gradtrio fuzz --ops examples/tensor-ops.ts
 */
import { defineOp } from "../src/index.ts";

/** softmax over a vector: y = e^(x−max)/Σe^(x−max); backward: dx = y·(g − Σ g·y). */
export const mySoftmax = defineOp({
  name: "mySoftmax",
  arity: 1,
  shape: (x) => (x.length === 1 ? x : `takes a vector, got shape [${x}]`),
  forward: ({ args: [x] }) => {
    const m = Math.max(...x!);
    const e = x!.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  },
  backward: ({ out: y, grad: g }) => {
    let dot = 0;
    for (let i = 0; i < y.length; i++) dot += g[i]! * y[i]!;
    return [y.map((yi, i) => yi * (g[i]! - dot))];
  },
  formula: (x) => `exp(${x})/sum(exp(${x}))`,
});

const EPS = 1e-5; // torch.nn.LayerNorm's default

/**
 * Layer norm of a vector x (n elements) with gain g and bias b: x̂ = (x − μ)/σ, y = g·x̂ + b,
 * σ = √(var + ε) (the biased variance). Backward: dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/σ with ĝ = g·dy,
 * dg = dy·x̂, db = dy.
 */
export const layerNorm = defineOp({
  name: "layerNorm",
  arity: 3,
  shape: (x, g, b) => {
    const n = x[x.length - 1];
    if (x.length !== 1) return `x must be a vector, got shape [${x}]`;
    if (g.length !== 1 || g[0] !== n || b.length !== 1 || b[0] !== n)
      return `gain and bias must be vectors of ${n} (x's length), got [${g}] and [${b}]`;
    return x;
  },
  forward: ({ args: [x, g, b] }) => {
    const { xhat } = normalise(x!);
    return xhat.map((v, i) => g![i]! * v + b![i]!);
  },
  backward: ({ args: [x, g], grad: dy }) => {
    const { xhat, sigma } = normalise(x!);
    const n = xhat.length;
    const gh = dy.map((d, i) => d * g![i]!);
    const mean1 = gh.reduce((a, v) => a + v, 0) / n;
    const mean2 = gh.reduce((a, v, i) => a + v * xhat[i]!, 0) / n;
    const dx = gh.map((v, i) => (v - mean1 - xhat[i]! * mean2) / sigma);
    return [dx, dy.map((d, i) => d * xhat[i]!), dy.slice()];
  },
  formula: (x, g, b) =>
    `(${x} - mean(${x}))/sqrt(mean((${x} - mean(${x}))^2) + ${EPS})*${g} + ${b}`,
});

function normalise(x: Float64Array): { xhat: Float64Array; sigma: number } {
  const n = x.length;
  const mu = x.reduce((a, v) => a + v, 0) / n;
  const variance = x.reduce((a, v) => a + (v - mu) ** 2, 0) / n;
  const sigma = Math.sqrt(variance + EPS);
  return { xhat: x.map((v) => (v - mu) / sigma), sigma };
}
