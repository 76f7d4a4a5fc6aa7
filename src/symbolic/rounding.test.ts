import { describe, expect, it } from "vitest";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import "../../test/fixtures/ops/third-arg.ok.ts";
import { symbolicLeg, symbolicRounding } from "./leg.ts";

/** Exact dyadic rationals p/2^k: every double is one, and + and × stay in them. */
interface Q {
  p: bigint;
  k: number;
}
function q(v: number): Q {
  let k = 0;
  while (!Number.isInteger(v)) {
    v *= 2;
    k++;
  }
  return { p: BigInt(v), k };
}
const scale = (a: Q, k: number): bigint => a.p * 2n ** BigInt(k - a.k);
const add = (a: Q, b: Q): Q => {
  const k = Math.max(a.k, b.k);
  return { p: scale(a, k) + scale(b, k), k };
};
const mul = (a: Q, b: Q): Q => ({ p: a.p * b.p, k: a.k + b.k });
const neg = (a: Q): Q => ({ p: -a.p, k: a.k });
/** |v − a|, rounded once at the end. */
const distance = (v: number, a: Q): number => {
  const d = add(q(v), neg(a));
  return Math.abs(Number(d.p)) / 2 ** d.k;
};

function run(src: string, at: Record<string, number | number[] | number[][]>) {
  const expr = parse(src);
  const values = toValues(at);
  const r = symbolicLeg(expr, values);
  if (r.status !== "ok") throw new Error(r.reason);
  return { grads: r.gradients, bounds: symbolicRounding(expr, values)!, expr, values };
}

describe("symbolicRounding: the symbolic leg's own rounding bound", () => {
  it("covers a CAS formula that cancels: d/dy lerp(lerp(y, x, x), x, x) = (1-x)², written x*(x-1)-x+1", () => {
    const x = 0.995;
    const { grads, bounds } = run("lerpOk(lerpOk(y, x, x), x, x)", { x, y: 0.5 });
    const one = q(1);
    const d = add(one, neg(q(x)));
    const err = distance(grads.get("y")![0]!, mul(d, d));
    expect(err).toBeGreaterThan(1e-17); // the CAS's arrangement loses ~2e-12 relative
    expect(bounds.get("y")![0]!).toBeGreaterThanOrEqual(err);
    expect(bounds.get("y")![0]!).toBeLessThan(1e-14);
  });

  it("is a few ulps for a benign formula: mean(x^2) = 2x/3", () => {
    const xs = [0.1, 1.7, -3.3];
    const { grads, bounds } = run("mean(x^2)", { x: xs });
    xs.forEach((x, i) => {
      const g = grads.get("x")![i]!;
      // 2x/3 exactly: compare 3·g with 2x.
      const d = add(mul(q(3), q(g)), neg(mul(q(2), q(x))));
      const err = Math.abs(Number(d.p)) / 2 ** d.k / 3;
      expect(bounds.get("x")![i]!).toBeGreaterThanOrEqual(err);
      expect(bounds.get("x")![i]!).toBeLessThan(6 * Number.EPSILON * Math.abs(g));
    });
  });

  it("carries the bound through matmul and broadcasting: sum(matmul(A, x)^2) and sum(x*c)", () => {
    const A = [
      [0.1, 0.2],
      [0.3, 0.4],
    ];
    const x = [0.7, -1.3];
    const { grads, bounds } = run("sum(matmul(A, x)^2)", { A, x });
    // ∂/∂x = 2 Aᵀ (A x), exactly in rationals.
    const Ax = A.map((row) => add(mul(q(row[0]!), q(x[0]!)), mul(q(row[1]!), q(x[1]!))));
    for (let j = 0; j < 2; j++) {
      let s: Q = q(0);
      for (let i = 0; i < 2; i++) s = add(s, mul(q(A[i]![j]!), Ax[i]!));
      const want = mul(q(2), s);
      const b = bounds.get("x")![j]!;
      expect(b).toBeGreaterThanOrEqual(distance(grads.get("x")![j]!, want));
      expect(b).toBeLessThan(1e-14);
    }
    // d/dc sum(x*c) with scalar c = Σx: the summation's own rounding, 2 additions.
    const r = run("sum(x*c)", { x: [0.1, 0.2, 0.3], c: 2 });
    const sum = add(add(q(0.1), q(0.2)), q(0.3));
    const b = r.bounds.get("c")![0]!;
    expect(b).toBeGreaterThanOrEqual(distance(r.grads.get("c")![0]!, sum));
    expect(b).toBeLessThan(3 * Number.EPSILON * 0.6);
  });

  it("with `only`, gives the requested elements exactly as a full run and NaN elsewhere", () => {
    const src = "sin(sum(x*y))*mean(x) + sum(log1p(x^2))";
    const at = { x: [0.5, 1.5, -2], y: [0.25, -1, 3] };
    const { bounds, expr, values } = run(src, at);
    const some = symbolicRounding(expr, values, new Map([["x", [1]]]))!;
    expect(some.get("x")![1]).toBe(bounds.get("x")![1]);
    expect(some.get("x")![0]).toBeNaN();
    expect([...some.get("y")!].every(Number.isNaN)).toBe(true);
  });

  it("is null where the leg is not ok (a kink)", () => {
    expect(symbolicRounding(parse("abs(x)"), toValues({ x: 0 }))).toBeNull();
  });
});
