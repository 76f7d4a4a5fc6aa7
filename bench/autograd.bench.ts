/**
 * Autograd engine figures: `mean(sin(x^2))` over 10^6 elements against a hand-fused loop (and
 * against the least an eager engine must do, by hand), the seed's BCE graph on scalars, and
 * backward through a chain of 10^6 ops.
 */
import { loadavg } from "node:os";
import { clamp, log, mean, sigmoid, sub, type Tensor, tensor } from "../src/autograd/index.ts";
import { medianMs, ratio, timeMs } from "./timing.ts";

function meanSinSquare(): void {
  const n = 1_000_000;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 3;
  const x = tensor(data, { requiresGrad: true });
  let sink = 0;
  const candidate = () => {
    x.grad = null;
    const y = mean(x.pow(2).sin());
    y.backward();
    sink += y.item() + x.grad!.data[7]!;
  };
  const fusedGrad = new Float64Array(n);
  // mean(sin(x²)) and its gradient 2x·cos(x²)/n in one loop each, by hand
  const baseline = () => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      s += Math.sin(v * v);
    }
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      fusedGrad[i] = (2 * v * Math.cos(v * v)) / n;
    }
    sink += s / n + fusedGrad[7]!;
  };
  // The least an op-by-op (eager) engine does, by hand: x² and sin(x²) as new arrays (PyTorch's
  // too: x² is saved for the backward), their sum, and the gradient in a new array (x.grad was
  // set to null) — cos(x²)/n, then times 2x in place — kept until the next step, as x.grad is.
  let kept: Float64Array | null = null;
  const eagerFloor = () => {
    kept = null;
    const sq = new Float64Array(n);
    for (let i = 0; i < n; i++) sq[i] = data[i]! * data[i]!;
    const sn = new Float64Array(n);
    for (let i = 0; i < n; i++) sn[i] = Math.sin(sq[i]!);
    let s = 0;
    for (let i = 0; i < n; i++) s += sn[i]!;
    const g = new Float64Array(n);
    for (let i = 0; i < n; i++) g[i] = Math.cos(sq[i]!) / n;
    for (let i = 0; i < n; i++) g[i] = 2 * data[i]! * g[i]!;
    kept = g;
    sink += s / n + kept[7]!;
  };
  // Many alternating pairs: on a loaded machine single ratios range over 2x and more.
  const r = ratio(candidate, baseline, 41);
  const f = ratio(eagerFloor, baseline, 41);
  const e = ratio(candidate, eagerFloor, 41);
  const q = (x: { q1: number; q3: number; cpuRatio: number }) =>
    `quartiles ${x.q1.toFixed(2)}x-${x.q3.toFixed(2)}x; CPU time ${x.cpuRatio.toFixed(2)}x`;
  console.log(
    `mean(sin(x^2)), x of 10^6, forward+backward: ${r.candidateMs.toFixed(1)} ms vs hand-fused loop ${r.baselineMs.toFixed(1)} ms: median ratio ${r.ratio.toFixed(2)}x over 41 alternating pairs, ${q(r)} (target <= 1.5x)`,
  );
  console.log(
    `  the eager floor (by hand: x^2, sin(x^2) and the gradient as new arrays) vs the fused loop: ${f.ratio.toFixed(2)}x (${q(f)}); gradtrio vs that floor: ${e.ratio.toFixed(2)}x (${q(e)}); load average ${loadavg()[0]!.toFixed(1)}`,
  );
  if (Number.isNaN(sink)) console.log("(sink)");
}

function seedBce(): void {
  const x = tensor(6.7);
  const y = tensor(0);
  const w = tensor(1, { requiresGrad: true });
  const b = tensor(0, { requiresGrad: true });
  // The seed notebook's cells: z = w*x + b, sigmoid, clamp(1e-8, 1-1e-8), BCE as written there.
  const step = () => {
    const z = w.mul(x).add(b);
    const p = clamp(sigmoid(z), 1e-8, 1 - 1e-8);
    const loss = y
      .mul(log(p))
      .add(sub(1, y).mul(log(sub(1, p))))
      .neg();
    loss.backward();
  };
  const iters = 20_000;
  const per = medianMs(
    () => {
      for (let i = 0; i < iters; i++) step();
    },
    9,
    3,
  );
  console.log(
    `seed BCE graph on scalars (12 ops), forward+backward: median ${((per / iters) * 1000).toFixed(2)} µs per iteration (target < 5 µs)`,
  );
  w.grad = null;
}

function chain(n: number): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const x = tensor(0.5, { requiresGrad: true });
  let y: Tensor = x;
  const fwd = timeMs(() => {
    for (let i = 0; i < n; i++) y = y.add(1e-6);
  });
  gc?.();
  const graphHeap = process.memoryUsage().heapUsed - before;
  const bwd = timeMs(() => y.backward());
  y = x;
  gc?.();
  const after = process.memoryUsage().heapUsed - before;
  console.log(
    `chain of ${n.toExponential(1)} adds: forward ${fwd.toFixed(0)} ms, backward ${bwd.toFixed(0)} ms (no stack overflow); heap held by the graph ${(graphHeap / 1e6).toFixed(0)} MB = ${(graphHeap / n).toFixed(0)} bytes/op${gc ? "" : " (run node with --expose-gc for exact figures)"}, ${(after / 1e6).toFixed(1)} MB after backward and dropping it; x.grad = ${x.grad!.item()}`,
  );
}

export function run(): void {
  meanSinSquare();
  seedBce();
  chain(250_000);
  chain(1_000_000);
}
