/**
 * One property per op of the autograd engine: its backward rule agrees with a central difference
 * of its forward at random points inside the op's domain (away from kinks), for scalars and for
 * broadcast or higher-rank shapes. A second property differentiates each elementwise rule again
 * (createGraph) and compares with a central difference of the first derivative.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import {
  abs,
  add,
  bce,
  clamp,
  cos,
  div,
  exp,
  grad,
  log,
  log1p,
  matmul,
  mean,
  mul,
  neg,
  noGrad,
  pow,
  relu,
  reshape,
  sigmoid,
  sin,
  softplus,
  sqrt,
  sub,
  sum,
  type Tensor,
  tan,
  tanh,
  tensor,
  transpose,
} from "../src/autograd/index.ts";
import { runs } from "./runs.ts";

/** Where an argument is drawn from: its shape, an interval, and points to stay away from. */
interface Arg {
  readonly shape: readonly number[];
  readonly lo: number;
  readonly hi: number;
  /** Kinks or poles: a drawn value closer than 1e-3 to one of these is rejected. */
  readonly avoid?: readonly number[];
}
const S = (lo: number, hi: number, avoid?: number[]): Arg => ({ shape: [], lo, hi, avoid });
const T = (shape: number[], lo: number, hi: number, avoid?: number[]): Arg => ({
  shape,
  lo,
  hi,
  avoid,
});

type Fn = (...xs: Tensor[]) => Tensor;
interface OpCase {
  readonly name: string;
  readonly args: readonly Arg[];
  readonly f: Fn;
  /** Kinks that depend on several arguments (x = lo of a clamp): a draw failing this is rejected. */
  readonly apart?: (values: number[][]) => boolean;
}

const R = 3;
const unary = (
  name: string,
  f: (x: Tensor) => Tensor,
  lo: number,
  hi: number,
  avoid?: number[],
) => [
  { name: `${name} (scalar)`, args: [S(lo, hi, avoid)], f },
  { name: `${name} (2×3)`, args: [T([2, 3], lo, hi, avoid)], f },
];
const binary = (
  name: string,
  f: Fn,
  a: [number, number, number[]?],
  b: [number, number, number[]?],
) => [
  { name: `${name} (scalars)`, args: [S(...a), S(...b)], f },
  { name: `${name} (2×1 with 3, broadcast)`, args: [T([2, 1], ...a), T([3], ...b)], f },
  { name: `${name} (scalar with 2×2)`, args: [S(...a), T([2, 2], ...b)], f },
];

const cases: OpCase[] = [
  ...binary("add", add, [-R, R], [-R, R]),
  ...binary("sub", sub, [-R, R], [-R, R]),
  ...binary("mul", mul, [-R, R], [-R, R]),
  ...binary("div", div, [-R, R], [0.3, R]),
  ...binary("pow (tensor exponent)", pow, [0.2, R], [-2, 2]),
  ...binary("bce", bce, [0.05, 0.95], [0, 1]),
  ...unary("neg", neg, -R, R),
  ...unary("rsub (1 - x)", (x) => sub(1, x), -R, R),
  ...unary("pow (x^2)", (x) => pow(x, 2), -R, R),
  ...unary("pow (x^3)", (x) => pow(x, 3), -R, R),
  ...unary("pow (x^2.5)", (x) => pow(x, 2.5), 0.1, R),
  ...unary("pow (x^0.5)", (x) => pow(x, 0.5), 0.1, R),
  ...unary("pow (x^-1)", (x) => pow(x, -1), 0.2, R),
  ...unary("pow (1.7^x)", (x) => pow(1.7, x), -R, R),
  ...unary("sin", sin, -R, R),
  ...unary("cos", cos, -R, R),
  ...unary("tan", tan, -1.3, 1.3),
  ...unary("exp", exp, -R, R),
  ...unary("log", log, 0.1, 5),
  ...unary("sqrt", sqrt, 0.1, 5),
  ...unary("tanh", tanh, -R, R),
  ...unary("sigmoid", sigmoid, -6, 6),
  ...unary("relu", relu, -R, R, [0]),
  ...unary("abs", abs, -R, R, [0]),
  ...unary("clamp(x, -1, 0.5)", (x) => clamp(x, -1, 0.5), -R, R, [-1, 0.5]),
  ...unary("log1p", log1p, -0.9, 5),
  ...unary("softplus", softplus, -6, 6),
  {
    name: "clamp with tensor bounds (broadcast)",
    args: [T([2, 3], -R, R), T([3], -2, -0.5), S(0.5, 2)],
    f: (x, lo, hi) => clamp(x, lo!, hi!),
    // x[i][j] is clamped to [lo[j], hi]: keep it 1e-3 away from both kinks.
    apart: ([x, lo, hi]) =>
      x!.every((v, k) => Math.abs(v - lo![k % 3]!) > 1e-3 && Math.abs(v - hi![0]!) > 1e-3),
  },
  { name: "sum", args: [T([2, 3], -R, R)], f: (x) => sum(x) },
  { name: "sum along dim 0", args: [T([2, 3], -R, R)], f: (x) => x.sum(0) },
  { name: "sum along dim -1, keepdim", args: [T([2, 3], -R, R)], f: (x) => x.sum(-1, true) },
  { name: "mean", args: [T([2, 3], -R, R)], f: (x) => mean(x) },
  { name: "mean along dim 1", args: [T([2, 3], -R, R)], f: (x) => x.mean(1) },
  { name: "mean along dim 0, keepdim", args: [T([2, 3], -R, R)], f: (x) => x.mean(0, true) },
  { name: "matmul vector·vector", args: [T([3], -R, R), T([3], -R, R)], f: matmul },
  { name: "matmul matrix·vector", args: [T([2, 3], -R, R), T([3], -R, R)], f: matmul },
  { name: "matmul vector·matrix", args: [T([2], -R, R), T([2, 3], -R, R)], f: matmul },
  { name: "matmul matrix·matrix", args: [T([2, 3], -R, R), T([3, 2], -R, R)], f: matmul },
  { name: "reshape", args: [T([2, 3], -R, R)], f: (x) => reshape(x, 3, -1) },
  { name: "transpose", args: [T([2, 3, 2], -R, R)], f: (x) => transpose(x, 0, 2) },
];

const numelOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The arguments of a case, each drawn from its Arg, jointly away from the case's kinks. */
function drawFor(c: OpCase): fc.Arbitrary<number[][]> {
  const draw = fc.tuple(...c.args.map(argArbitrary));
  const apart = c.apart;
  return apart === undefined ? draw : draw.filter((values) => apart(values));
}

function argArbitrary(a: Arg): fc.Arbitrary<number[]> {
  const n = numelOf(a.shape);
  const value = fc
    .double({ min: a.lo, max: a.hi, noNaN: true, noDefaultInfinity: true })
    .filter((v) => (a.avoid ?? []).every((k) => Math.abs(v - k) > 1e-3));
  return fc.array(value, { minLength: n, maxLength: n });
}

/** Fixed, non-trivial weights for the output, so the test checks a whole vector-Jacobian product. */
function weightsFor(shape: readonly number[]): Tensor {
  const n = numelOf(shape);
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) w[k] = 1 + 0.37 * k * (k % 2 === 0 ? 1 : -1);
  return tensor(w, { shape });
}

function leaves(args: readonly Arg[], values: number[][]): Tensor[] {
  return values.map((v, i) =>
    tensor(Float64Array.from(v), { shape: args[i]!.shape, requiresGrad: true }),
  );
}

/** |a − b| within 1e-6 relative (absolute below 1). */
function agrees(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
}

/** Central difference of a scalar function of one element, step 1e-5·max(1, |x|). */
function centralDifference(at: (v: number) => number, x: number): number {
  const h = 1e-5 * Math.max(1, Math.abs(x));
  return (at(x + h) - at(x - h)) / (2 * h);
}

describe("every backward rule agrees with a central difference of its forward", () => {
  for (const c of cases) {
    it(c.name, () => {
      fc.assert(
        fc.property(drawFor(c), (values) => {
          const xs = leaves(c.args, values);
          const out = c.f(...xs);
          const w = weightsFor(out.shape);
          // L(x) = Σ w ⊙ f(x): its gradient is the vjp of f with the vector w.
          sum(out.mul(w)).backward();
          const L = (i: number, j: number, v: number): number =>
            noGrad(() => {
              const moved = values.map((d, k) => {
                const copy = Float64Array.from(d);
                if (k === i) copy[j] = v;
                return tensor(copy, { shape: c.args[k]!.shape });
              });
              return sum(c.f(...moved).mul(w)).item();
            });
          values.forEach((d, i) => {
            d.forEach((x, j) => {
              const fd = centralDifference((v) => L(i, j, v), x);
              const ad = xs[i]!.grad!.data[j]!;
              if (!agrees(ad, fd))
                throw new Error(
                  `${c.name}: d/d arg${i}[${j}] at ${x}: backward ${ad}, central difference ${fd}`,
                );
            });
          });
        }),
        { numRuns: runs(40) },
      );
    });
  }
});

describe("every elementwise rule differentiates again (createGraph) to the right second derivative", () => {
  const elementwise = cases.filter((c) => c.args.every((a) => a.shape.length === 0));
  for (const c of elementwise) {
    it(c.name, () => {
      fc.assert(
        fc.property(drawFor(c), (values) => {
          const flat = values.map((v) => v[0]!);
          // The autograd gradient as a function of the point, and its derivative through createGraph.
          const gradAt = (point: number[]): Tensor[] => {
            const xs = point.map((v) => tensor(v, { requiresGrad: true }));
            return grad(c.f(...xs), xs, { createGraph: true, allowUnused: true }).map(
              (g, k) => g ?? tensor(0).mul(xs[k]!),
            );
          };
          const xs = flat.map((v) => tensor(v, { requiresGrad: true }));
          const gs = grad(c.f(...xs), xs, { createGraph: true });
          gs.forEach((g, i) => {
            const row = g!.requiresGrad
              ? grad(g!, xs, { retainGraph: true, allowUnused: true })
              : xs.map(() => null);
            flat.forEach((x, j) => {
              const fd = centralDifference((v) => {
                const p = [...flat];
                p[j] = v;
                return gradAt(p)[i]!.item();
              }, x);
              const ad = row[j]?.item() ?? 0;
              if (!agrees(ad, fd))
                throw new Error(
                  `${c.name}: d²/d arg${i} d arg${j} at ${flat}: autograd ${ad}, central difference ${fd}`,
                );
            });
          });
        }),
        { numRuns: runs(30) },
      );
    });
  }
});

describe("non-elementwise rules differentiate again (createGraph): a Hessian-vector product", () => {
  // L = Σ w ⊙ f(x), S = Σᵢ Σ uᵢ ⊙ ∂L/∂xᵢ: the gradient of S (through createGraph) must match a
  // central difference of S, itself computed from autograd's first derivatives.
  const names = ["matmul matrix·matrix", "matmul matrix·vector", "sum along dim -1, keepdim"];
  for (const c of cases.filter((k) => names.includes(k.name))) {
    it(c.name, () => {
      const S = (xs: Tensor[], createGraph: boolean): Tensor => {
        const out = c.f(...xs);
        const gs = grad(sum(out.mul(weightsFor(out.shape))), xs, {
          createGraph,
          allowUnused: true,
        });
        let s: Tensor = tensor(0);
        gs.forEach((g, i) => {
          if (g !== null) s = s.add(sum(g.mul(weightsFor(xs[i]!.shape).mul(0.5 + i))));
        });
        return s;
      };
      fc.assert(
        fc.property(drawFor(c), (values) => {
          const xs = leaves(c.args, values);
          const s = S(xs, true);
          const hv = s.requiresGrad ? grad(s, xs, { allowUnused: true }) : xs.map(() => null);
          values.forEach((d, i) => {
            d.forEach((x, j) => {
              const fd = centralDifference((v) => {
                const moved = values.map((e, k) => {
                  const copy = Float64Array.from(e);
                  if (k === i) copy[j] = v;
                  return tensor(copy, { shape: c.args[k]!.shape, requiresGrad: true });
                });
                return S(moved, false).item();
              }, x);
              const ad = hv[i]?.data[j] ?? 0;
              if (!agrees(ad, fd))
                throw new Error(
                  `${c.name}: (H u) at arg${i}[${j}] = ${x}: autograd ${ad}, central difference ${fd}`,
                );
            });
          });
        }),
        { numRuns: runs(20) },
      );
    });
  }
});
