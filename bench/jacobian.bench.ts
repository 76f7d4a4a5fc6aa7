/**
 * Jacobians and Hessians three ways: a 10³-vector elementwise output (its Jacobian is diagonal;
 * the legs use that structure; `relu(x)*x` on a breakpoint beside its smooth twin) and a 50×50
 * Hessian (a separable sum, the same on a breakpoint, and a dense log-sum-exp); the 2×2
 * parameter Hessian (`wrt: ["w", "b"]`) of a logistic loss over 250 and 2000 samples, beside the
 * gradient's check of the same (order 1) as the baseline.
 * Figures, not pass/fail: each leg's time from the report, the whole check's median.
 */
import { check } from "../src/check/check.ts";
import type { Report } from "../src/check/report.ts";
import { clearCasCache } from "../src/symbolic/cas.ts";
import { median } from "./timing.ts";

/** The legs' times (a Jacobian's own; with order 2 these are the gradient's) and the reason. */
function legs(r: Report): string {
  return `legs: symbolic ${r.legs.symbolic.ms.toFixed(0)} ms, numeric ${r.legs.numeric.ms.toFixed(0)} ms, autograd ${r.legs.autograd.ms.toFixed(0)} ms; reason: ${r.reason}`;
}

function measure(name: string, run: () => Report, reps = 5): void {
  const times: number[] = [];
  let last: Report | null = null;
  for (let i = 0; i < reps; i++) {
    clearCasCache();
    const t0 = performance.now();
    last = run();
    times.push(performance.now() - t0);
  }
  console.log(
    `${name}: ${median(times).toFixed(0)} ms median (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}), verdict ${last!.verdict}; last run: ${legs(last!)}`,
  );
}

export function run(): void {
  const x = Array.from({ length: 1000 }, (_, i) => Math.sin(i) + 2);
  measure("Jacobian of sin(x)*y + x^2, x of 10³ (10³×1001)", () =>
    check("sin(x)*y + x^2", { at: { x, y: 1.3 } }),
  );
  measure("Jacobian of sigmoid(w*x+b), x of 10³", () =>
    check("sigmoid(w*x+b)", { at: { w: 0.8, b: -0.1, x } }),
  );
  // On a breakpoint (relu(x[500]) at 0; kinks from evidence) and its smooth twin.
  const kinkedX = x.map((xi, i) => (i === 500 ? 0 : xi - 2));
  measure("Jacobian of relu(x)*x at a breakpoint (x[500] = 0), x of 10³", () =>
    check("relu(x)*x", { at: { x: kinkedX } }),
  );
  measure("Jacobian of sin(x)*x (its smooth twin), x of 10³", () =>
    check("sin(x)*x", { at: { x: kinkedX } }),
  );
  const v = Array.from({ length: 50 }, (_, i) => Math.cos(i) * 0.5);
  measure(
    "Hessian 50×50 of mean(sigmoid(x)*x) (diagonal), order 2",
    () => check("mean(sigmoid(x)*x)", { at: { x: v }, order: 2 }),
    3,
  );
  // Its twin on a breakpoint: relu(x[25]) at 0 (the complex step applies along the other 49).
  const kinked = v.map((vi, i) => (i === 25 ? 0 : vi));
  measure(
    "Hessian 50×50 of mean(relu(x)*x^2) at a breakpoint (x[25] = 0), order 2",
    () => check("mean(relu(x)*x^2)", { at: { x: kinked }, order: 2 }),
    3,
  );
  measure(
    "Hessian 50×50 of log(sum(exp(x))) (dense), order 2",
    () => check("log(sum(exp(x)))", { at: { x: v }, order: 2 }),
    3,
  );
  // A parameter Hessian over a data batch: the legs differentiate by w and b only (the data
  // elements are constants), so its cost is that of the gradient's check, a few times over.
  for (const n of [250, 2000]) {
    const xs = Array.from({ length: n }, (_, i) => 2 * Math.sin(1.7 * i));
    const at = { w: 0.5, b: -0.2, x: xs, y: xs.map((_, i) => (Math.cos(i) > 0 ? 1 : 0)) };
    const loss = "mean(bce(sigmoid(w*x+b), y))";
    measure(`gradient (order 1) of ${loss} wrt w, b, ${n} samples: the baseline`, () =>
      check(loss, { at, wrt: ["w", "b"] }),
    );
    measure(`Hessian 2×2 of ${loss} wrt w, b, ${n} samples, order 2`, () =>
      check(loss, { at, wrt: ["w", "b"], order: 2 }),
    );
  }
}
