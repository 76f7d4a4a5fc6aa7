/**
 * Rounding analysis for the exact legs. Symbolic and autograd both evaluate a closed-form
 * gradient in floating point; where terms cancel (the gradient of sin(x)^2 + cos(x)^2 is
 * 2·sin·cos − 2·cos·sin), their results differ by rounding in the terms, not in the result.
 * This pass bounds that rounding to first order: a forward pass bounds each intermediate value's
 * error, a reverse pass sums the MAGNITUDES of the chain-rule terms (|∂f/∂u| along every path)
 * and the error each term carries. It is a tolerance estimate, not a leg: it only ever widens or
 * narrows the band within which two gradients are called equal.
 */
import { mapPacked } from "../arrays.ts";
import {
  argsAt,
  type CallExpr,
  type ConstExpr,
  type Expr,
  type FlatExpr,
  flatExpr,
  type NumExpr,
  type VarExpr,
} from "../expr/ast.ts";
import { broadcastAll, broadcastIndex, matmulDims } from "../expr/broadcast.ts";
import {
  BUILTIN_OPS,
  CONSTANTS,
  type CustomOpDefinition,
  type ElementwiseOp,
  isBuiltinOp,
  isTensorOp,
  lookupCustomOp,
  type OpDefinition,
  type OpSpec,
  realKernel,
  sigmoid,
  type TensorOpDefinition,
} from "../expr/ops.ts";
import { sizeOf, type Value } from "../expr/point.ts";
import { tensorOpShape } from "../expr/shapes.ts";
import { tensorOpBackward, tensorOpForward } from "../expr/tensor-op.ts";
import { sharedForwardValues } from "../symbolic/forward.ts";

const EPS = Number.EPSILON;

/**
 * The absolute error a rounding may add besides its relative one (float32's underflow: half its
 * smallest subnormal, 2^-150), while a `roundingAnalysis` with `tiny` runs; 0 otherwise.
 */
let tiny = 0;
/** `roundingAnalysis`'s `flat` option, and the flat custom op found so far (as `tiny`). */
let countFlat = false;
let flatOp: FlatOp | null = null;

/** How an elementwise built-in's value carries rounding: its value is its declared kernel's. */
interface RoundingRule {
  /** ∂f/∂arg_k, signed, per element. */
  d(k: number, a: number, b: number, c: number, out: number): number;
  /** Rounding of the op itself, in units of eps·|out| (add/sub use eps·(|a|+|b|) instead). */
  ulps: number;
  /** Rounding of the op itself as an absolute bound, where it is not a few ulps of the result. */
  fErr?(a: number, b: number, c: number, out: number): number;
  /**
   * With `tiny`: how many times `tiny` the computed ∂f/∂arg_k may be off by its own steps' underflow,
   * each step's rounding times what multiplies it after (default 1: one rounded value, such as
   * exp's output; 0 for the exact ops, ulps 0).
   */
  underflow?(k: number, a: number, b: number, c: number, out: number): number;
  /**
   * Rounding of ∂f/∂arg_k as the backward computes it, times g, in units of eps·terms (default 2:
   * its last step's and the product's); more where a step's rounding is amplified after it.
   */
  own?(k: number, a: number, b: number, c: number, out: number): number;
  /**
   * Magnitude of the terms that make up ∂f/∂arg_k, where computing it cancels (default |∂f/∂arg_k|).
   * bce's ∂/∂t = log(1−p) − log(p) is near 0 at p ≈ ½ while its terms are ≈ 0.69 each.
   */
  terms?(k: number, a: number, b: number, c: number, out: number): number;
}

/** A rule with the value it is about: a built-in's declared kernel, or a custom op's forward. */
interface ScalarRule extends RoundingRule {
  /** The value, per element. */
  f(a: number, b: number, c: number): number;
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** Φ(x) = (1 + erf(x/√2))/2, the standard normal CDF. */
const normalCdf = (x: number): number => 0.5 * (1 + BUILTIN_OPS.erf.real(x * Math.SQRT1_2));
/** maximum (sign 1) / minimum (sign −1): ∂/∂arg_k is 1 for the winner, ½ each at a tie. */
const extremumD = (sign: number, k: number, a: number, b: number): number => {
  const d = sign * (k === 0 ? a - b : b - a);
  return d > 0 ? 1 : d < 0 ? 0 : 0.5;
};

// Magnitudes only need each local derivative up to rounding; signs are kept for clarity.
const RULES: Record<ElementwiseOp, RoundingRule> = {
  add: { d: () => 1, ulps: 0 },
  sub: { d: (k) => (k === 0 ? 1 : -1), ulps: 0 },
  mul: { d: (k, a, b) => (k === 0 ? b : a), ulps: 1 },
  div: {
    d: (k, a, b) => (k === 0 ? 1 / b : -a / (b * b)),
    ulps: 1,
    // ((a/b)/b)·g: a/b's underflow divided by b
    underflow: (k, _a, b) => (k === 0 ? 1 : 1 + 1 / Math.abs(b)),
  },
  pow: {
    d: (k, a, b, _c, out) => (k === 0 ? b * a ** (b - 1) : a > 0 ? out * Math.log(a) : 0),
    ulps: 2,
    // (b·a^(b−1))·g and (out·log a)·g: a^(b−1)'s, out's underflow times b, log a
    underflow: (k, a, b) => 1 + Math.abs(k === 0 ? b : Math.log(a)),
  },
  neg: { d: () => -1, ulps: 0 },
  sin: { d: (_k, a) => Math.cos(a), ulps: 1 },
  cos: { d: (_k, a) => -Math.sin(a), ulps: 1 },
  tan: { d: (_k, _a, _b, _c, out) => 1 + out * out, ulps: 2 },
  exp: { d: (_k, _a, _b, _c, out) => out, ulps: 1 },
  log: { d: (_k, a) => 1 / a, ulps: 1 },
  sqrt: { d: (_k, _a, _b, _c, out) => 0.5 / out, ulps: 1 },
  tanh: {
    d: (_k, _a, _b, _c, out) => 1 - out * out,
    terms: (_k, _a, _b, _c, out) => 1 + out * out,
    ulps: 2,
  },
  sigmoid: {
    d: (_k, _a, _b, _c, out) => out * (1 - out),
    terms: (_k, _a, _b, _c, out) => Math.abs(out) * (1 + Math.abs(out)),
    ulps: 2,
  },
  relu: { d: (_k, a) => (a > 0 ? 1 : 0), ulps: 0 },
  abs: { d: (_k, a) => (a > 0 ? 1 : a < 0 ? -1 : 0), ulps: 0 },
  log1p: { d: (_k, a) => 1 / (1 + a), ulps: 1 },
  softplus: {
    d: (_k, a) => sigmoid(a),
    ulps: 2,
  },
  clamp: {
    d: (k, a, lo, hi) => {
      const active = a < lo ? 1 : a > hi ? 2 : 0;
      return k === active ? 1 : 0;
    },
    ulps: 0,
  },
  bce: {
    d: (k, p, t) => (k === 0 ? (p - t) / (p * (1 - p)) : Math.log(1 - p) - Math.log(p)),
    terms: (k, p, t) =>
      k === 0
        ? (Math.abs(p) + Math.abs(t)) / Math.abs(p * (1 - p))
        : Math.abs(Math.log(1 - p)) + Math.abs(Math.log(p)),
    ulps: 4,
    // The kernel forms log1p(−p) (never 1 − p): a few ulps of each term.
    fErr: (p, t) => 4 * EPS * (Math.abs(t * Math.log(p)) + Math.abs((1 - t) * Math.log1p(-p))),
  },
  // src/expr/erf.ts: within 3 ulps
  erf: {
    d: (_k, a) => TWO_OVER_SQRT_PI * Math.exp(-a * a),
    ulps: 3,
    underflow: () => 1 + TWO_OVER_SQRT_PI, // exp(−a²)'s times 2/√π
    // exp(−a²) moves by a² times a²'s rounding, besides the default 2
    own: (_k, a) => 2 + a * a,
  },
  // x·Φ(x): Φ = (1 + erf)/2 cancels for x ≪ 0, where its absolute error is eps, not eps·|Φ|
  gelu: {
    d: (_k, a) => normalCdf(a) + a * INV_SQRT_2PI * Math.exp(-0.5 * a * a),
    terms: (_k, a) => 1 + Math.abs(a) * INV_SQRT_2PI * Math.exp(-0.5 * a * a),
    ulps: 4,
    fErr: (a, _b, _c, out) => 2 * EPS * Math.abs(a) + 4 * EPS * Math.abs(out),
    // Φ's two steps, and exp(−a²/2)'s and its product with 1/√(2π) times a
    underflow: (_k, a) => 2 + (1 + INV_SQRT_2PI) * Math.abs(a),
    // exp(−a²/2) moves by a²/2 times a²'s rounding, besides the default 2
    own: (_k, a) => 2 + 0.5 * a * a,
  },
  asin: { d: (_k, a) => 1 / Math.sqrt(1 - a * a), ulps: 2 },
  acos: { d: (_k, a) => -1 / Math.sqrt(1 - a * a), ulps: 2 },
  atan: { d: (_k, a) => 1 / (1 + a * a), ulps: 1 },
  sinh: { d: (_k, a) => Math.cosh(a), ulps: 2 },
  cosh: { d: (_k, a) => Math.sinh(a), ulps: 2 },
  // d/dx expm1(x) = e^x (autograd uses e^x, not expm1(x) + 1, which cancels for x < −20).
  expm1: { d: (_k, a) => Math.exp(a), ulps: 1 },
  maximum: { d: (k, a, b) => extremumD(1, k, a, b), ulps: 0 },
  minimum: { d: (k, a, b) => extremumD(-1, k, a, b), ulps: 0 },
};

/** The rounding rules of the elementwise built-ins, each with its declared kernel. */
const BUILTIN_RULES = new Map<string, ScalarRule>(
  (Object.keys(RULES) as ElementwiseOp[]).map((op) => [op, { ...RULES[op], f: realKernel(op) }]),
);

/**
 * ∂op/∂arg_k of an elementwise built-in by its rounding rule, for the cross-leg consistency test
 * (the rule must agree with autograd's backward).
 */
export function roundingRuleDerivative(
  op: ElementwiseOp,
  k: number,
  args: readonly number[],
): number {
  const [a = 0, b = 0, c = 0] = args;
  return RULES[op].d(k, a, b, c, realKernel(op)(a, b, c));
}

interface Node {
  shape: readonly number[];
  v: Float64Array; // value
  err: Float64Array; // absolute error bound of the computed value
  /** An elementwise op's index of each output element in each argument (null: the same index). */
  argMaps: readonly (Int32Array | null)[] | null;
  /**
   * A tensor op's Jacobian by its own backward, [output element][argument] → row, its sensitivity
   * and the magnitude of the terms its entries combine (at least the entry's).
   */
  jacobian: { rows: Float64Array[][]; sens: Float64Array[][]; terms: Float64Array[][] } | null;
}

/**
 * A node; every one made here, so that all have one V8 map (with fields that only some had, the
 * code that reads them met new maps late, deopted and was compiled again).
 */
function newNode(
  shape: readonly number[],
  v: Float64Array,
  err: Float64Array,
  argMaps: Node["argMaps"] = null,
  jacobian: Node["jacobian"] = null,
): Node {
  return { shape, v, err, argMaps, jacobian };
}

/** No index maps (an op that is not elementwise). */
const NO_MAPS: readonly (Int32Array | null)[] = [];

/** Tensor ops whose Jacobian has more entries than this get no rounding analysis. */
const MAX_TENSOR_JACOBIAN = 1 << 20;

/**
 * A tensor op's value and error, and its Jacobian from the user's backward (one vector–Jacobian
 * product per output element), as a scalar custom op's own rule serves for it. Its sensitivity:
 * how far the Jacobian moves when every input moves by its error (a few ulps at least) each way.
 */
function tensorForward(def: TensorOpDefinition, args: Node[]): Node | null {
  const shapes = args.map((a) => a.shape);
  const shape = tensorOpShape(def, shapes);
  const datas = args.map((a) => a.v);
  const v = tensorOpForward(def, datas, shapes, shape);
  const inputs = datas.reduce((n, d) => n + d.length, 0);
  if (!v.every(Number.isFinite) || v.length * inputs > MAX_TENSOR_JACOBIAN) return null;
  const jacobianAt = (at: Float64Array[], out: Float64Array) =>
    Array.from(out, (_, k) => {
      const seed = new Float64Array(out.length);
      seed[k] = 1;
      return tensorOpBackward(def, at, shapes, out, shape, seed);
    });
  const rows = jacobianAt(datas, v);
  const sens = rows.map((r) => r.map((g) => new Float64Array(g.length)));
  for (const sign of [1, -1]) {
    const moved = args.map((a) =>
      a.v.map(
        (x, i) => x + (i % 2 === 0 ? sign : -sign) * Math.max(a.err[i]!, 4 * EPS * Math.abs(x)),
      ),
    );
    const other = jacobianAt(moved, tensorOpForward(def, moved, shapes, shape));
    other.forEach((r, k) => {
      r.forEach((g, j) => {
        for (let i = 0; i < g.length; i++) sens[k]![j]![i] += Math.abs(g[i]! - rows[k]![j]![i]!);
      });
    });
  }
  // A backward that recomputes the forward inside: its rounding, as `customProbe` measures a
  // scalar op's, every argument element moved at once along the window.
  if (v.length * inputs <= MAX_NOISE_JACOBIAN) {
    const noise = tensorNoise(
      def.name,
      args,
      v,
      rows,
      (moved) => tensorOpForward(def, moved, shapes, shape),
      jacobianAt,
    );
    noise?.forEach((r, k) => {
      r.forEach((g, j) => {
        for (let i = 0; i < g.length; i++) sens[k]![j]![i] += 2 * g[i]!;
      });
    });
  }
  const err = v.map((o, k) => {
    let e = 4 * EPS * Math.abs(o) + tiny;
    rows[k]!.forEach((g, j) => {
      for (let i = 0; i < g.length; i++)
        e += Math.abs(g[i]!) * (args[j]!.err[i]! + 4 * EPS * Math.abs(args[j]!.v[i]!));
    });
    return e;
  });
  // The backward may read the output, which carries the forward's own rounding (4 ulps): softmax's
  // y·(g − Σg·y) forms 1 − y, which at y ≈ 1 is 3e-9 from terms of size 1, and an ulp of y moves
  // it by 1e-16. Moving the output by those ulps (all one way, or alternating: the larger move
  // counts) shows that rounding, and, per ulp, the size of the terms the backward combines.
  const moves = rows.map((r) => r.map((g) => new Float64Array(g.length)));
  for (const alternate of [false, true]) {
    const moved = v.map((o, k) => o + (alternate && k % 2 === 1 ? -4 : 4) * EPS * Math.abs(o));
    jacobianAt(datas, moved).forEach((r, k) => {
      r.forEach((g, j) => {
        for (let i = 0; i < g.length; i++) {
          const d = Math.abs(g[i]! - rows[k]![j]![i]!);
          if (d > moves[k]![j]![i]! && Number.isFinite(d)) moves[k]![j]![i] = d;
        }
      });
    });
  }
  const terms = rows.map((r, k) =>
    r.map((g, j) =>
      g.map((p, i) => {
        sens[k]![j]![i] += moves[k]![j]![i]!;
        return Math.max(Math.abs(p), moves[k]![j]![i]! / (4 * EPS));
      }),
    ),
  );
  return newNode(shape, v, err, null, { rows, sens, terms });
}

/** Jacobian entries (outputs × inputs) up to which `tensorNoise` runs (17 Jacobians). */
const MAX_NOISE_JACOBIAN = 4096;

/**
 * `customProbe`'s noise window for a tensor op: each argument element x moves by t·δ, t over
 * 2·NOISE_POINTS + 1 points of [−1, 1], all at once, δ the window (`windowReach`, capped) that
 * shifts the largest output by 16·φ ulps at the largest partial along x (times 0.5–1.5 and of
 * alternating sign, element by element); each Jacobian entry's values there, less a fitted cubic,
 * are its rounding (the largest deviation). Null where a value is not finite. Where the op is
 * flat (a window cut by its cap, no output moving by 16·φ/2 ulps of the largest), an entry that
 * stays within 16·φ of its own ulps over the window but moves where every argument is scaled by
 * 1 ± MAX_WIDE is stuck (as in `customProbe`): the op is noted, and the entry counts at its cap
 * where asked.
 */
function tensorNoise(
  op: string,
  args: Node[],
  v: Float64Array,
  rows: Float64Array[][],
  forwardAt: (moved: Float64Array[]) => Float64Array,
  jacobianAt: (moved: Float64Array[], out: Float64Array) => Float64Array[][],
): Float64Array[][] | null {
  let scale = 0;
  for (const o of v) scale = Math.max(scale, Math.abs(o));
  let capped = false;
  const steps = args.map((a, j) =>
    a.v.map((x, i) => {
      let slope = 0;
      for (const r of rows) slope = Math.max(slope, Math.abs(r[j]![i]!));
      const reach = windowReach(slope, scale, x);
      if (reach > MAX_WINDOW * Math.max(1, Math.abs(x))) capped = true;
      const width = Math.min(reach, MAX_WINDOW * Math.abs(x));
      // Elements move by unlike amounts, in alternating directions: an op that depends on their
      // differences alone (softmax) would not move at all under a common shift.
      const spread = 0.5 + ((i * 0.6180339887498949 + j * 0.3819660112501051) % 1);
      return (i % 2 === 0 ? spread : -spread) * width;
    }),
  );
  const n = NOISE_POINTS;
  // ys[k][j][i]: the entry's values at the 2n + 1 points.
  const ys = rows.map((r) => r.map((g) => Array.from(g, () => new Float64Array(2 * n + 1))));
  // How far the outputs move over the window (the most of any).
  let moves = 0;
  for (let t = -n; t <= n; t++) {
    const moved = args.map((a, j) => a.v.map((x, i) => x + steps[j]![i]! * NOISE_AT[t + n]!));
    let jac: Float64Array[][];
    try {
      if (t === 0) jac = rows;
      else {
        const out = forwardAt(moved);
        for (let k = 0; k < out.length; k++) moves = Math.max(moves, Math.abs(out[k]! - v[k]!));
        jac = jacobianAt(moved, out);
      }
    } catch {
      // The op throws there (outside its domain, say): no noise measured.
      return null;
    }
    for (let k = 0; k < jac.length; k++)
      for (let j = 0; j < jac[k]!.length; j++)
        for (let i = 0; i < jac[k]![j]!.length; i++) {
          const y = jac[k]![j]![i]!;
          if (!Number.isFinite(y)) return null;
          ys[k]![j]![i]![t + n] = y;
        }
  }
  // Flat as a scalar op can be (`customProbe`): a window cut by its cap, and no output moving by
  // 16·φ/2 ulps of the largest. Then an entry whose values stay within 16·φ of their own ulps
  // shows no rounding it may have (σ(1 − σ) at σ ≈ 1): it counts at its cap where asked. One that
  // moves (−y₀y₁ as y₁ moves) shows its rounding as any entry does, and a fault in it stays seen.
  const flat = capped && moves < (GOLDEN_ULPS / 2) * EPS * scale;
  // Entries that move at either end of the wide move: stuck, if they stay over the window.
  let ends: Float64Array[][][] = [];
  if (flat)
    try {
      // Every element scaled by 1 ± MAX_WIDE: the gaps between them too (softmax depends on those).
      ends = [1, -1].map((t) => {
        const moved = args.map((a) => a.v.map((x) => x * (1 + t * MAX_WIDE)));
        return jacobianAt(moved, forwardAt(moved));
      });
    } catch {
      ends = [];
    }
  // An entry counts at its cap: it stays within 16·φ of its own ulps over the window, and moves at
  // an end of the wide move (or the op throws there).
  const counts = (e: Float64Array, k: number, j: number, i: number): boolean => {
    if (!flat) return false;
    let lo = e[0]!;
    let hi = e[0]!;
    let big = 0;
    for (const y of e) {
      lo = Math.min(lo, y);
      hi = Math.max(hi, y);
      big = Math.max(big, Math.abs(y));
    }
    if (!(hi - lo < GOLDEN_ULPS * EPS * big || big === 0)) return false;
    const y0 = rows[k]![j]![i]!;
    return ends.length === 0 || ends.some((jac) => !stays(jac[k]![j]![i]!, y0));
  };
  // At most `noiseCap` of the terms (the outputs, an entry times its argument).
  return ys.map((r, k) =>
    r.map((g, j) =>
      Float64Array.from(g, (e, i) => {
        const cap = noiseCap(scale, rows[k]![j]![i]!, args[j]!.v[i]!);
        if (counts(e, k, j, i)) {
          flatOp ??= {
            op,
            where: shownCall(
              op,
              args.map((a) => a.v),
            ),
          };
          if (countFlat) return cap;
        }
        return Math.min(cubicResidual(e), cap);
      }),
    ),
  );
}

/** Index of each output element in a broadcast input (null where the shapes are equal). */
function broadcastMap(out: readonly number[], inp: readonly number[]): Int32Array | null {
  if (inp.length === out.length && inp.every((d, i) => d === out[i])) return null;
  return broadcastIndex(inp, out);
}

const at = (map: Int32Array | null, k: number): number => (map === null ? k : map[k]!);

/**
 * The scalar rule of an elementwise op: a built-in's from RULES; a custom op's own forward and
 * backward (a partial it does not return is NaN, which adds no term). Undefined for an unknown op.
 */
function roundingRuleOf(op: string): ScalarRule | undefined {
  if (isBuiltinOp(op)) return BUILTIN_RULES.get(op);
  const custom = lookupCustomOp(op);
  if (custom === undefined || isTensorOp(custom)) return undefined;
  return customRuleOf(custom);
}

/** A scalar custom op's rule, made once per op. */
function customRuleOf(custom: CustomOpDefinition): CustomRule {
  let rule = customRules.get(custom);
  if (rule === undefined) customRules.set(custom, (rule = customRule(custom)));
  return rule;
}

/** The scalar rule of each custom op, made once per op. */
const customRules = new WeakMap<OpDefinition, CustomRule>();

/** A custom op's rule, with its backward's partials all from one call (`all`). */
interface CustomRule extends ScalarRule {
  /** Every partial at (a, b, c) with value `out`: the backward once (a missing one is NaN). */
  all(a: number, b: number, c: number, out: number): ArrayLike<number | undefined>;
}

/** A custom op's rule: its forward and its backward at its first `arity` (at most 3) arguments. */
function customRule(custom: CustomOpDefinition): CustomRule {
  const args = (a: number, b: number, c: number): number[] =>
    custom.arity === 1 ? [a] : custom.arity === 2 ? [a, b] : [a, b, c];
  const all = (a: number, b: number, c: number, out: number) =>
    custom.backward({ args: args(a, b, c), out, grad: 1 });
  return {
    f: (a, b, c) =>
      custom.arity === 1
        ? custom.forward(a)
        : custom.arity === 2
          ? custom.forward(a, b)
          : custom.forward(a, b, c),
    d: (k, a, b, c, out) => all(a, b, c, out)[k] ?? Number.NaN,
    all,
    ulps: 4,
  };
}

/**
 * For each variable, a first-order bound on the rounding error with which an exact leg computes
 * each gradient element. Throws nothing for valid inputs; returns null when the analysis cannot
 * run (a custom op without a usable backward, a non-finite intermediate).
 *
 * With `only` (element indices per variable), the reverse pass visits only the node elements
 * those bounds depend on: they come out exactly as without `only`, every other element is NaN.
 * The checker asks for the few elements where the legs differ by more than the bare tolerance.
 */
export function roundingScale(
  expr: Expr,
  values: Map<string, Value>,
  only?: ReadonlyMap<string, readonly number[]>,
): Map<string, Float64Array> | null {
  return roundingAnalysis(expr, values, only).bounds;
}

/**
 * Magnitudes whose square leaves float64's range (2^±511 ≈ 1e±154). Backward rules and CAS
 * formulas square their inputs (d(a/b) = −a/b² db), so past these one leg may underflow to 0 or
 * overflow to ∞ (and make 0·∞ = NaN) where another does not.
 */
export const EXTREME_SMALL = 2 ** -511;
export const EXTREME_LARGE = 2 ** 511;
/** float32's: 2^-63 (≈ 1e-19), whose square leaves its range. */
export const EXTREME_SMALL_32 = 2 ** -63;

export interface RoundingAnalysis {
  /** `roundingScale`'s bounds (null when the analysis cannot run). */
  readonly bounds: Map<string, Float64Array> | null;
  /** Σ|chain-rule terms| per gradient element: the scale that cancellation works against. */
  readonly magnitudes: Map<string, Float64Array> | null;
  /**
   * A nonzero value of the point or of an intermediate result beyond 2^±511 (≈ 1e±154), or null.
   * There one leg's formula may underflow or overflow where another's does not, by more than any
   * rounding bound: such a point is ill-conditioned, not evidence against a leg.
   */
  readonly extreme: number | null;
  /**
   * The first argument found outside its op's domain (bce's p outside (0, 1), log's outside
   * (0, ∞), a custom op's declared domain), as a sentence; null when every argument is inside.
   */
  readonly outsideDomain: string | null;
  /**
   * The first intermediate result that overflows float64: ±∞ from finite arguments inside its
   * op's domain (exp at 710), under an output that may stay finite (sigmoid(exp(x)) = 1). Null
   * when there is none, or when an argument is outside its op's domain (a pole: that finding).
   */
  readonly overflow: Overflow | null;
  /**
   * The first custom op found flat (σ past x ≈ 28: 1e-4 of an argument moves its value by under
   * 26 ulps), where a rule that recomputes its forward rounds unseen; or null. With `flat`, those
   * partials count at their cap (docs/DESIGN.md).
   */
  readonly flat: FlatOp | null;
}

/** A custom op at a point where it is flat (`RoundingAnalysis.flat`). */
export interface FlatOp {
  readonly op: string;
  /** The op at its arguments there: `rsig(34)`, `softmax([40, 0, -0.5])` (4 elements each). */
  readonly where: string;
}

/** `FlatOp.where`: `op(a, b)`, each number to 6 digits, a tensor argument's first 4 elements. */
function shownCall(op: string, args: readonly (number | Float64Array)[]): string {
  const num = (x: number) => String(Number(x.toPrecision(6)));
  const shown = (a: number | Float64Array) =>
    typeof a === "number"
      ? num(a)
      : `[${Array.from(a.subarray(0, 4), num).join(", ")}${a.length > 4 ? ", …" : ""}]`;
  return `${op}(${args.map(shown).join(", ")})`;
}

/** An intermediate that overflows float64 (`RoundingAnalysis.overflow`). */
export interface Overflow {
  /** The intermediate's expression (exp(x)). */
  readonly expr: CallExpr;
  /** Its value: ±∞, or with `float32` a float64 value beyond float32's range. */
  readonly value: number;
  /** The format it overflows. */
  readonly format: "float64" | "float32";
  /** The arguments of the overflowing element, where the op is elementwise; else null. */
  readonly args: readonly number[] | null;
}

/**
 * `roundingScale` plus the extreme magnitudes the forward pass met. Never throws. With `shared`,
 * the bound between two legs that evaluate the same float64 intermediates (the checker's evidence:
 * equal values of f to the bit): every intermediate is taken as exact, only the arithmetic of the
 * chain rule on them is bounded. With `tiny`, every rounding may also be off by that much
 * absolutely (float32's underflow), carried through what follows like its relative error.
 */
export function roundingAnalysis(
  expr: Expr,
  values: Map<string, Value>,
  only?: ReadonlyMap<string, readonly number[]>,
  opts: {
    readonly shared?: boolean;
    readonly tiny?: number;
    readonly float32?: boolean;
    readonly flat?: boolean;
  } = {},
): RoundingAnalysis {
  const found: Findings = { extreme: null, outsideDomain: null, overflow: null };
  const magnitudes = new Map<string, Float64Array>();
  tiny = opts.tiny ?? 0;
  countFlat = opts.flat === true;
  flatOp = null;
  try {
    const bounds = boundsOf(
      flatExpr(expr),
      values,
      only,
      found,
      magnitudes,
      opts.shared === true,
      opts.float32 === true,
    );
    return { bounds, magnitudes: bounds === null ? null : magnitudes, ...found, flat: flatOp };
  } catch {
    // A custom op's own rule threw: no bounds (the autograd leg reports the error itself).
    return { bounds: null, magnitudes: null, ...found, flat: null };
  } finally {
    tiny = 0;
    countFlat = false;
    flatOp = null;
  }
}

/** What the forward pass met besides values: `RoundingAnalysis`'s `extreme`, `outsideDomain`, `overflow`. */
interface Findings {
  extreme: number | null;
  outsideDomain: string | null;
  overflow: Overflow | null;
}

/**
 * Notes `e`'s first element that is ±∞ while its arguments are finite (none after the first
 * found, none once an argument was found outside its op's domain). `node`: its value, or null
 * where the pass could not make one (an elementwise value that is not finite: recomputed here).
 */
function scanOverflow(
  found: Findings,
  e: CallExpr,
  args: readonly Node[],
  node: Node | null,
  f32: boolean,
): void {
  if (found.overflow !== null || found.outsideDomain !== null) return;
  const format = f32 ? "float32" : "float64";
  const finite = f32 ? (x: number) => Number.isFinite(Math.fround(x)) : Number.isFinite;
  const over = (x: number) => !finite(x) && !Number.isNaN(x);
  const finiteArgs = () => args.every((a) => a.v.every(finite));
  if (node !== null) {
    const k = node.v.findIndex(over);
    if (k < 0 || !finiteArgs()) return;
    const maps = node.argMaps;
    const xs = maps === null ? null : args.map((a, j) => a.v[at(maps[j] ?? null, k)]!);
    found.overflow = { expr: e, value: node.v[k]!, format, args: xs };
    return;
  }
  if (!finiteArgs()) return;
  const rule = roundingRuleOf(e.op);
  if (rule === undefined) return;
  const shape = broadcastAll(
    mapPacked(args, (a) => a.shape),
    "rounding",
  );
  const maps = args.map((a) => broadcastMap(shape, a.shape));
  for (let k = 0; k < sizeOf(shape); k++) {
    const xs = args.map((a, j) => a.v[at(maps[j]!, k)]!);
    const value = rule.f(xs[0]!, xs[1] ?? 0, xs[2] ?? 0);
    if (over(value)) {
      found.overflow = { expr: e, value, format, args: xs };
      return;
    }
  }
}

/** Notes the first value of `v` beyond 2^±511 (none after the first found). */
function scanExtreme(found: Findings, v: Float64Array): void {
  if (found.extreme !== null) return;
  for (let k = 0; k < v.length; k++) {
    const a = Math.abs(v[k]!);
    if ((a !== 0 && a <= EXTREME_SMALL) || (a >= EXTREME_LARGE && a !== Infinity)) {
      found.extreme = v[k]!;
      return;
    }
  }
}

/**
 * Notes the first argument of `e` outside its op's domain (none after the first found).
 * `exponentVaries`: pow's exponent depends on a variable (then it needs a positive base).
 */
function checkDomain(
  found: Findings,
  e: CallExpr,
  args: readonly Node[],
  exponentVaries: boolean,
): void {
  if (found.outsideDomain !== null) return;
  if (e.op === "div" && args[1]!.v.includes(0)) {
    found.outsideDomain = "the divisor of div is 0";
    return;
  }
  if (e.op === "pow") {
    found.outsideDomain = exponentVaries
      ? varyingPowDomain(args[0]!)
      : powDomain(args[0]!, args[1]!);
    if (found.outsideDomain !== null) return;
  }
  const intervals = isBuiltinOp(e.op)
    ? (BUILTIN_OPS[e.op] as OpSpec).domain
    : lookupCustomOp(e.op)?.domain;
  if (intervals === undefined) return;
  for (let j = 0; j < args.length && j < intervals.length; j++) {
    const [lo, hi] = intervals[j]!;
    for (const x of args[j]!.v)
      if (!(x > lo && x < hi)) {
        const nth = ["1st", "2nd", "3rd"][j] ?? `${j + 1}th`;
        found.outsideDomain = `the ${nth} argument of ${e.op} is ${x}, outside its domain (${lo}, ${hi})`;
        return;
      }
  }
}

/** pow under a varying exponent: a^b is differentiable in b only for a > 0. */
function varyingPowDomain(base: Node): string | null {
  for (const a of base.v)
    if (!(a > 0))
      return `the base of pow is ${a} while its exponent varies; a^b is differentiable in b only for a > 0`;
  return null;
}

/**
 * pow under a constant exponent b, per (broadcast) element: an integer b allows any base but 0
 * when b < 0 (a pole); any other b needs a base in (0, ∞), as sqrt does: a negative base has no
 * real power (NaN), and at 0 the derivative b·0^(b−1) is infinite for b < 1.
 */
function powDomain(base: Node, exponent: Node): string | null {
  const shape = broadcastAll([base.shape, exponent.shape], "pow");
  const ma = broadcastMap(shape, base.shape);
  const mb = broadcastMap(shape, exponent.shape);
  for (let k = 0, n = sizeOf(shape); k < n; k++) {
    const a = base.v[at(ma, k)]!;
    const b = exponent.v[at(mb, k)]!;
    if (Number.isInteger(b) ? a !== 0 || b >= 0 : a > 0) continue;
    if (a === 0 && b < 0)
      return `the base of pow is 0 under the negative exponent ${b}: a pole (a division by zero)`;
    const why =
      a === 0
        ? b < 1
          ? " (a^b's derivative b·a^(b−1) is infinite at a = 0)"
          : ""
        : " (a negative number has no real non-integer power)";
    return `the base of pow is ${a} under the non-integer exponent ${b}, outside its domain (0, Infinity)${why}`;
  }
  return null;
}

/** A number, constant or variable as a node: exact but for a constant's rounding. */
function leafNode(e: NumExpr | ConstExpr | VarExpr, values: ReadonlyMap<string, Value>): Node {
  if (e.kind === "num") return newNode([], Float64Array.of(e.value), new Float64Array(1));
  if (e.kind === "const") {
    const c = CONSTANTS[e.name];
    return newNode([], Float64Array.of(c), Float64Array.of(EPS * c));
  }
  const val = values.get(e.name)!;
  return newNode(val.shape, val.data, new Float64Array(val.data.length));
}

/**
 * `expr`'s value at the point (its inputs exact) with a first-order bound on the rounding error
 * of each element: the analysis's forward pass alone. Null where it cannot run (an op without a
 * rule, a value that is not finite, a custom op that throws).
 *
 * @example
 * valueBound(parse("x^2 - 1"), toValues({ x: 3 })); // { shape: [], v: [8], err: [≈ eps·(9 + 1) + 2·eps·9] }
 */
export function valueBound(
  expr: Expr,
  values: ReadonlyMap<string, Value>,
): {
  readonly shape: readonly number[];
  readonly v: Float64Array;
  readonly err: Float64Array;
} | null {
  try {
    const flat = flatExpr(expr);
    const nodes = new Array<Node>(flat.nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      const e = flat.nodes[i]!;
      const node = e.kind === "call" ? forward(e.op, argsAt(flat, nodes, i)) : leafNode(e, values);
      if (node === null) return null;
      nodes[i] = node;
    }
    const root = nodes[nodes.length - 1]!;
    return { shape: root.shape, v: root.v, err: root.err };
  } catch {
    return null;
  }
}

function boundsOf(
  flat: FlatExpr,
  values: Map<string, Value>,
  only: ReadonlyMap<string, readonly number[]> | undefined,
  found: Findings,
  magnitudes: Map<string, Float64Array>,
  shared: boolean,
  f32: boolean,
): Map<string, Float64Array> | null {
  const order = flat.nodes;
  const count = order.length;
  const nodes = new Array<Node>(count);
  // Nodes that depend on a variable: pow's exponent, when it varies, needs a positive base.
  const live = new Uint8Array(count);
  let calls = 0;
  // Bounds at a few elements (`only`) of elementwise built-ins: the forward pass computes the
  // values (for the findings and the reverse pass) and leaves the errors to `errorsWhereRead`,
  // which computes only those the requested bounds read (an error takes a rule's derivative per
  // argument and element: most of the pass's time over 10^6 elements).
  const sparse = only !== undefined && errorsOnDemand(flat);
  // The symbolic leg's values of the same point, when it has computed them: the same kernels on
  // the same arguments, so the same bits.
  const known = sparse ? sharedForwardValues(flat.nodes[count - 1]!, values) : undefined;
  for (let i = 0; i < count; i++) {
    const e = order[i]!;
    switch (e.kind) {
      case "num":
      case "const":
        nodes[i] = leafNode(e, values);
        break;
      case "var": {
        live[i] = 1;
        nodes[i] = leafNode(e, values);
        scanExtreme(found, nodes[i].v);
        break;
      }
      case "call": {
        calls++;
        const from = flat.argStart[i]!;
        const to = flat.argStart[i + 1]!;
        for (let k = from; k < to; k++) if (live[flat.args[k]!] === 1) live[i] = 1;
        const args = argsAt(flat, nodes, i);
        checkDomain(found, e, args, to - from > 1 && live[flat.args[from + 1]!] === 1);
        const node =
          sparse && i < count - 1
            ? elementwiseValue(e.op, args, known?.get(e)?.data)
            : forward(e.op, args);
        // An elementwise value is finite or null; another op's (matmul, a tensor op) may be ±∞.
        // With `f32` (autograd in float32) a finite float64 value may be beyond float32's range.
        if (node === null || node.argMaps === null || f32) scanOverflow(found, e, args, node, f32);
        if (node === null) return null;
        // Shared intermediates: every leg has the same value here, whatever its error.
        if (shared) node.err.fill(0);
        scanExtreme(found, node.v);
        nodes[i] = node;
      }
    }
  }
  const root = nodes[count - 1]!;
  if (root.v.length !== 1) return null;
  const demand = only === undefined ? null : demanded(flat, nodes, only);
  if (sparse && !shared) errorsWhereRead(flat, nodes, demand!);
  // Reverse pass: m = Σ|chain-rule terms|, q = error those terms carry (each made on first use).
  const m = new Array<Float64Array>(count);
  const q = new Array<Float64Array>(count);
  adjoint(m, q, nodes, count - 1)[0][0] = 1;
  for (let i = count - 1; i >= 0; i--) {
    const e = order[i]!;
    if (e.kind !== "call") continue;
    const at = demand === null ? null : demand[i];
    if (at === undefined) continue; // no requested bound depends on this node
    const [mo, qo] = adjoint(m, q, nodes, i);
    const out = nodes[i]!;
    const from = flat.argStart[i]!;
    // An argument no requested bound depends on needs no adjoint: null skips it.
    const argAdj = new Array<[Float64Array, Float64Array] | null>(flat.argStart[i + 1]! - from);
    for (let j = 0; j < argAdj.length; j++) {
      const a = flat.args[from + j]!;
      argAdj[j] = demand === null || demand[a] !== undefined ? adjoint(m, q, nodes, a) : null;
    }
    backward(e.op, out, argsAt(flat, nodes, i), argAdj, mo, qo, out.argMaps ?? NO_MAPS, at);
  }
  // Every op may also underflow: an absolute error of the smallest subnormal, once per op.
  const underflow = calls * Number.MIN_VALUE;
  // Every occurrence of a variable is its own node; a variable's bound sums over them.
  const result = new Map<string, Float64Array>();
  for (const [name, val] of values) {
    const acc = new Float64Array(val.data.length);
    if (only !== undefined) {
      acc.fill(Number.NaN);
      for (const k of only.get(name) ?? []) acc[k] = 0;
    }
    result.set(name, acc);
  }
  for (let i = 0; i < count; i++) {
    const e = order[i]!;
    if (e.kind !== "var") continue;
    const acc = result.get(e.name)!;
    const [mv, qv] = adjoint(m, q, nodes, i);
    let mag = magnitudes.get(e.name);
    if (mag === undefined) {
      mag = new Float64Array(acc.length);
      magnitudes.set(e.name, mag);
    }
    if (only === undefined)
      for (let k = 0; k < acc.length; k++) {
        acc[k] += qv[k]! + EPS * mv[k]! + underflow;
        mag[k] += mv[k]!;
      }
    else
      for (const k of only.get(e.name) ?? []) {
        acc[k] += qv[k]! + EPS * mv[k]! + underflow;
        mag[k] += mv[k]!;
      }
  }
  return result;
}

/** Node i's adjoints (m, q), made (zeros) on first use. */
function adjoint(
  m: Float64Array[],
  q: Float64Array[],
  nodes: readonly Node[],
  i: number,
): [Float64Array, Float64Array] {
  if (m[i] === undefined) {
    m[i] = new Float64Array(nodes[i]!.v.length);
    q[i] = new Float64Array(nodes[i]!.v.length);
  }
  return [m[i]!, q[i]!];
}

/**
 * The elements of each node that the requested bounds depend on, or all of them (null), by
 * position in `flat.nodes`. An adjoint element is a sum over the consumer elements that read it,
 * so the demand runs from the requested variable elements up through their consumers (broadcasts
 * by their index maps; reductions and matmuls entirely). A node left undefined is not needed.
 */
function demanded(
  flat: FlatExpr,
  nodes: readonly Node[],
  only: ReadonlyMap<string, readonly number[]>,
): (Int32Array | null | undefined)[] {
  const order = flat.nodes;
  const flags = new Array<Uint8Array | "all" | undefined>(order.length);
  for (let i = 0; i < order.length; i++) {
    const e = order[i]!;
    if (e.kind === "var") {
      const ks = only.get(e.name);
      if (ks === undefined || ks.length === 0) continue;
      const f = new Uint8Array(nodes[i]!.v.length);
      for (const k of ks) f[k] = 1;
      flags[i] = f;
    } else if (e.kind === "call") {
      const from = flat.argStart[i]!;
      const to = flat.argStart[i + 1]!;
      let needed = false;
      let all = false;
      for (let k = from; k < to; k++) {
        const fa = flags[flat.args[k]!];
        if (fa !== undefined) needed = true;
        if (fa === "all") all = true;
      }
      if (!needed) continue;
      const argMaps = nodes[i]!.argMaps;
      if (argMaps === null || all) {
        flags[i] = "all"; // reductions, matmul, or an argument needed entirely
        continue;
      }
      const n = nodes[i]!.v.length;
      const f = new Uint8Array(n);
      for (let j = 0; j < to - from; j++) {
        const fa = flags[flat.args[from + j]!];
        if (fa === undefined || fa === "all") continue;
        const map = argMaps[j] ?? null;
        for (let k = 0; k < n; k++) if (fa[map === null ? k : map[k]!] === 1) f[k] = 1;
      }
      flags[i] = f;
    }
  }
  const out = new Array<Int32Array | null | undefined>(order.length);
  for (let i = 0; i < order.length; i++) {
    const f = flags[i];
    if (f === undefined) continue;
    if (f === "all") {
      out[i] = null;
      continue;
    }
    let count = 0;
    for (let k = 0; k < f.length; k++) count += f[k]!;
    const list = new Int32Array(count);
    let c = 0;
    for (let k = 0; k < f.length; k++) if (f[k] === 1) list[c++] = k;
    out[i] = list;
  }
  return out;
}

/** Index of the first largest (sign 1) or smallest (sign −1) element. */
function extremeIndex(v: Float64Array, sign: 1 | -1): number {
  let best = 0;
  for (let k = 1; k < v.length; k++) if (sign * (v[k]! - v[best]!) > 0) best = k;
  return best;
}

/** Length of the last dimension (1 for a scalar): the rows of a lastDim op. */
const rowLength = (shape: readonly number[]): number =>
  shape.length === 0 ? 1 : shape[shape.length - 1]!;

function forward(op: string, args: Node[]): Node | null {
  if (op === "sum" || op === "mean") {
    const a = args[0]!;
    const n = a.v.length;
    let s = 0;
    let absSum = 0;
    let se = 0;
    for (let k = 0; k < n; k++) {
      s += a.v[k]!;
      absSum += Math.abs(a.v[k]!);
      se += a.err[k]!;
    }
    const scale = op === "mean" ? 1 / n : 1;
    const err = (se + (n - 1) * EPS * absSum) * scale + EPS * Math.abs(s * scale);
    // a sum of subnormals is exact; the mean's division rounds
    return newNode(
      [],
      Float64Array.of(s * scale),
      Float64Array.of(op === "mean" ? err + tiny : err),
    );
  }
  if (op === "max" || op === "min") {
    // The extreme element itself: its value and its error, nothing rounded.
    const a = args[0]!;
    const k = extremeIndex(a.v, op === "max" ? 1 : -1);
    return newNode([], Float64Array.of(a.v[k]!), Float64Array.of(a.err[k]!));
  }
  if (op === "logsumexp") {
    // out = m + log Σ e^(x − m): each input error weighs by its softmax share; the sum of n
    // terms and the log add a few ulps of the terms (each ≤ 1) and of out.
    const a = args[0]!;
    const out = BUILTIN_OPS.logsumexp.reduce(a.v);
    if (!Number.isFinite(out)) return null;
    let se = 0;
    for (let k = 0; k < a.v.length; k++) se += Math.exp(a.v[k]! - out) * a.err[k]!;
    const err = se + EPS * (2 * Math.abs(out) + a.v.length + 2) + tiny;
    return newNode([], Float64Array.of(out), Float64Array.of(err));
  }
  if (op === "softmax") {
    // y = e^(x − m)/Σ: relative error of each y ≤ 2·(largest input error of the row) + (len + 4) eps.
    const a = args[0]!;
    const len = rowLength(a.shape);
    const v = new Float64Array(a.v.length);
    const err = new Float64Array(a.v.length);
    for (let r = 0; r < v.length; r += len) {
      BUILTIN_OPS.softmax.row(a.v.subarray(r, r + len), v.subarray(r, r + len));
      let worst = 0;
      for (let k = r; k < r + len; k++) worst = Math.max(worst, a.err[k]!);
      for (let k = r; k < r + len; k++) err[k] = v[k]! * (2 * worst + (len + 4) * EPS) + tiny;
    }
    return newNode(a.shape, v, err);
  }
  if (op === "matmul") {
    const [A, B] = args as [Node, Node];
    const { m: r, k: kk, n: c } = matmulDims(A.shape, B.shape);
    const v = new Float64Array(r * c);
    const err = new Float64Array(r * c);
    for (let i = 0; i < r; i++)
      for (let j = 0; j < c; j++) {
        let s = 0;
        let absSum = 0;
        let se = 0;
        for (let t = 0; t < kk; t++) {
          const a = A.v[i * kk + t]!;
          const b = B.v[t * c + j]!;
          s += a * b;
          absSum += Math.abs(a * b);
          se += Math.abs(a) * B.err[t * c + j]! + A.err[i * kk + t]! * Math.abs(b);
        }
        v[i * c + j] = s;
        err[i * c + j] = se + kk * EPS * absSum + kk * tiny;
      }
    const shape =
      A.shape.length === 2 && B.shape.length === 2
        ? [r, c]
        : A.shape.length === 2
          ? [r]
          : B.shape.length === 2
            ? [c]
            : [];
    return newNode(shape, v, err);
  }
  const custom = isBuiltinOp(op) ? undefined : lookupCustomOp(op);
  if (custom !== undefined && isTensorOp(custom)) return tensorForward(custom, args);
  if (custom !== undefined && custom.arity > 3) return null;
  const node = elementwiseValue(op, args);
  if (node !== null) errorsAt(op, node, args, null);
  return node;
}

/**
 * An elementwise op's value (its rule's `f` on the broadcast arguments, or `computed`, those
 * values already computed), its error all zero; null when the op has no rule or a value is not
 * finite.
 */
function elementwiseValue(op: string, args: Node[], computed?: Float64Array): Node | null {
  const rule = roundingRuleOf(op);
  if (rule === undefined) return null;
  const shape = broadcastAll(
    mapPacked(args, (a) => a.shape),
    "rounding",
  );
  const argMaps = mapPacked(args, (a) => broadcastMap(shape, a.shape));
  const n = sizeOf(shape);
  if (computed?.length === n) {
    for (let k = 0; k < n; k++) if (!Number.isFinite(computed[k]!)) return null;
    return newNode(shape, computed, new Float64Array(n), argMaps);
  }
  const v = new Float64Array(n);
  const [m0 = null, m1 = null, m2 = null] = argMaps;
  const [A0, A1, A2] = args;
  for (let k = 0; k < n; k++) {
    const a = A0!.v[at(m0, k)]!;
    const b = A1 === undefined ? 0 : A1.v[at(m1, k)]!;
    const c = A2 === undefined ? 0 : A2.v[at(m2, k)]!;
    const out = rule.f(a, b, c);
    if (!Number.isFinite(out)) return null;
    v[k] = out;
  }
  return newNode(shape, v, new Float64Array(n), argMaps);
}

/**
 * Fills the error bound of an elementwise node made by `elementwiseValue` at the elements flagged
 * in `want` (null: every element): the op's own rounding plus each argument's error through its
 * derivative. Reads the arguments' errors at the same (broadcast) elements.
 */
function errorsAt(op: string, node: Node, args: Node[], want: Uint8Array | null): void {
  const rule = roundingRuleOf(op)!;
  const { v, err } = node;
  const [m0 = null, m1 = null, m2 = null] = node.argMaps!;
  const [A0, A1, A2] = args;
  const additive = op === "add" || op === "sub";
  for (let k = 0; k < v.length; k++) {
    if (want !== null && want[k] === 0) continue;
    const i0 = at(m0, k);
    const i1 = at(m1, k);
    const i2 = at(m2, k);
    const a = A0!.v[i0]!;
    const b = A1 === undefined ? 0 : A1.v[i1]!;
    const c = A2 === undefined ? 0 : A2.v[i2]!;
    const out = v[k]!;
    let ek = additive
      ? EPS * (Math.abs(a) + Math.abs(b))
      : rule.fErr !== undefined
        ? rule.fErr(a, b, c, out)
        : rule.ulps * EPS * Math.abs(out);
    if (rule.ulps > 0) ek += tiny; // an op that rounds may underflow
    ek += Math.abs(rule.d(0, a, b, c, out)) * A0!.err[i0]!;
    if (A1 !== undefined) ek += Math.abs(rule.d(1, a, b, c, out)) * A1.err[i1]!;
    if (A2 !== undefined) ek += Math.abs(rule.d(2, a, b, c, out)) * A2.err[i2]!;
    err[k] = ek;
  }
}

/**
 * Whether the errors of `flat`'s intermediates can be computed on demand (`errorsWhereRead`):
 * every op an elementwise built-in, save a sum or a mean at the root, whose own error no bound
 * reads (its reverse pass takes no value or error of its own or of its argument).
 */
function errorsOnDemand(flat: FlatExpr): boolean {
  const order = flat.nodes;
  for (let i = 0; i < order.length; i++) {
    const e = order[i]!;
    if (e.kind !== "call" || BUILTIN_RULES.has(e.op)) continue;
    if (i === order.length - 1 && (e.op === "sum" || e.op === "mean")) continue;
    return false;
  }
  return true;
}

/**
 * The errors that the reverse pass over `demand` reads, computed as `forward` would (the same
 * bits): the reverse pass of an elementwise op reads its arguments' errors at each demanded
 * element, and an element's error reads its arguments' errors at the same (broadcast) elements.
 * For `errorsOnDemand` expressions, whose nodes below the root are elementwise built-ins.
 */
function errorsWhereRead(
  flat: FlatExpr,
  nodes: readonly Node[],
  demand: readonly (Int32Array | null | undefined)[],
): void {
  const order = flat.nodes;
  const want = new Array<Uint8Array | undefined>(order.length);
  // From the root down, each node's wanted elements are complete before it passes them on.
  for (let i = order.length - 1; i >= 0; i--) {
    const maps = nodes[i]!.argMaps;
    if (maps === null) continue; // not elementwise (the root's sum or mean), or a leaf
    const at = demand[i];
    const own = want[i];
    const from = flat.argStart[i]!;
    for (let j = 0; j < maps.length; j++) {
      const a = flat.args[from + j]!;
      // A leaf's error is exact (a number or a variable: 0, a constant: its rounding).
      if (order[a]!.kind !== "call") continue;
      let w = want[a];
      if (w === undefined) want[a] = w = new Uint8Array(nodes[a]!.v.length);
      const map = maps[j]!;
      if (at === null) w.fill(1);
      else if (at !== undefined)
        for (let t = 0; t < at.length; t++) w[map === null ? at[t]! : map[at[t]!]!] = 1;
      if (own !== undefined)
        for (let k = 0; k < own.length; k++) if (own[k] === 1) w[map === null ? k : map[k]!] = 1;
    }
  }
  for (let i = 0; i < order.length; i++) {
    const w = want[i];
    const e = order[i]!;
    if (w !== undefined && e.kind === "call") errorsAt(e.op, nodes[i]!, argsAt(flat, nodes, i), w);
  }
}

/** How far a noise window reaches from the point at most, relative to the argument. */
const MAX_WINDOW = 1e-4;
/**
 * A flat op's wide window, relative to the argument (at least 1; a tensor op's arguments are
 * scaled by 1 ± it): where a stuck partial moves (σ's s(1 − s) from x = 45 at 31.5).
 */
const MAX_WIDE = 0.3;

/**
 * A noise window's reach along an argument x: the move that shifts a value of size `scale` by
 * 16·φ ulps at slope `slope` (16·φ: an irrational number of ulps, so that the points sample the
 * rounding's sawtooth at varied phases), at least 16·φ ulps of x (infinite where the slope is 0 or
 * not a number). The window's half-width is that, at most MAX_WINDOW of x: where the cap cuts it,
 * and the value moves by fewer than those ulps over it, the op is flat (`RoundingAnalysis.flat`).
 */
function windowReach(slope: number, scale: number, x: number): number {
  const ax = Math.abs(x);
  let width = slope > 0 ? (GOLDEN_ULPS * EPS * scale) / slope : Number.POSITIVE_INFINITY;
  if (Number.isNaN(width)) width = Number.POSITIVE_INFINITY;
  if (!(width >= GOLDEN_ULPS * EPS * ax)) width = GOLDEN_ULPS * EPS * ax;
  return width;
}

/** Whether y is p within 16·φ ulps of the larger (false when either is NaN): a partial that stays. */
const stays = (y: number, p: number): boolean =>
  Math.abs(y - p) <= GOLDEN_ULPS * EPS * Math.max(Math.abs(y), Math.abs(p));

/**
 * The most a window's deviation counts: 16 ulps of the terms a rule forms (the value's size, the
 * partial times the argument). A larger jump is a rule that changes there (a branch), not rounding.
 */
const noiseCap = (scale: number, partial: number, x: number): number =>
  16 * EPS * (Math.abs(scale) + Math.abs(partial) * (1 + Math.abs(x)));

/** Points on each side of the argument that `customProbe` evaluates the rule at. */
const NOISE_POINTS = 8;
/** The half-width of `customProbe`'s window, in ulps of the op's value: 16·φ. */
const GOLDEN_ULPS = 16 * 1.618033988749895;
/**
 * The window's points in [−1, 1], symmetric, ±(i/n)^1.3: unevenly spaced, so that no run of them
 * steps by a whole number of ulps of what the rule computes (steps of one size can land on one
 * phase of the rounding's sawtooth at every point, and show none of it).
 */
const NOISE_AT = Float64Array.from({ length: 2 * NOISE_POINTS + 1 }, (_, i) => {
  const t = (i - NOISE_POINTS) / NOISE_POINTS;
  return Math.sign(t) * Math.abs(t) ** 1.3;
});

/**
 * What `customProbe` finds at one element, per partial (arrays of the op's arity, reused from one
 * element to the next of a node), and its scratch space.
 */
interface CustomProbe {
  /** How far each partial moves with its inputs' errors and its own rounding. */
  readonly sens: Float64Array;
  /** The size of the terms each partial combines (at least |partial|). */
  readonly terms: Float64Array;
  /** Scratch: the partials at the element, each partial's noise, its values over a window. */
  readonly p: Float64Array;
  readonly noise: Float64Array;
  readonly ys: Float64Array[];
  readonly finite: Uint8Array;
  /** Each partial's least, greatest and largest absolute value over all windows, and the point. */
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly big: Float64Array;
  /** Per argument, the wide window's half-width; per partial, whether it is stuck. */
  readonly wide: Float64Array;
  readonly stuck: Uint8Array;
}

/** A probe's arrays for an op of `arity` arguments. */
const customProbeOf = (arity: number): CustomProbe => ({
  sens: new Float64Array(arity),
  terms: new Float64Array(arity),
  p: new Float64Array(arity),
  noise: new Float64Array(arity),
  ys: Array.from({ length: arity }, () => new Float64Array(2 * NOISE_POINTS + 1)),
  finite: new Uint8Array(arity),
  lo: new Float64Array(arity),
  hi: new Float64Array(arity),
  big: new Float64Array(arity),
  wide: new Float64Array(arity),
  stuck: new Uint8Array(arity),
});

/**
 * A custom op's rounding at one element (a, b, c), value o, partials `ps` (its backward there), for
 * every partial at once, into `probe`: the backward runs once per point probed and each partial is
 * read from that one call.
 *
 * A hand-written rule's own rounding is opaque (it may form 1 − t near t = 1), so each input moves:
 * - by its error bound `errs` (at least 4 ulps), each way: what the partial computed from inputs
 *   that carry errors may be, and any cancellation inside the rule;
 * - over a noise window (twice the largest deviation counts): a rule that recomputes its forward
 *   inside (s = σ(x), then s·(1 − s)) rounds in ways a few ulps do not show (s does not change). So
 *   each argument moves over a window wide enough to move the op's value by 16·φ of its ulps
 *   (`windowReach`, by the op's own partial), at the 2·NOISE_POINTS + 1 points of NOISE_AT; a
 *   cubic fitted to the rule's values there takes up the smooth change, and what it leaves is how
 *   far the rule's value jumps from one argument to the next: its rounding, as the point has it
 *   too. A rule off by a smooth factor (a wrong formula) leaves nothing: that error is smooth.
 * - the output by its own ulps: a rule may read it (out·(1 − out) cancels at out ≈ 1); the move
 *   shows that rounding and, per ulp, the size of the terms the rule combines (as tensorForward
 *   does for a tensor op).
 * A sensitivity that is not finite counts 0 (the point's other evidence decides).
 */
function customProbe(
  probe: CustomProbe,
  op: string,
  rule: CustomRule,
  arity: number,
  a: number,
  b: number,
  c: number,
  o: number,
  ps: ArrayLike<number | undefined>,
  ea: number,
  eb: number,
  ec: number,
): void {
  const { sens, terms, p, noise, ys, finite, lo: plo, hi: phi, big } = probe;
  for (let j = 0; j < arity; j++) p[j] = ps[j] ?? Number.NaN;
  sens.fill(0);
  for (let sign = 1; sign >= -1; sign -= 2)
    for (let arg = 0; arg < arity; arg++) {
      const v = arg === 0 ? a : arg === 1 ? b : c;
      const d = Math.max(arg === 0 ? ea : arg === 1 ? eb : ec, 4 * EPS * Math.abs(v));
      if (!(d > 0)) continue;
      const aa = arg === 0 ? a + sign * d : a;
      const bb = arg === 1 ? b + sign * d : b;
      const cc = arg === 2 ? c + sign * d : c;
      const qs = rule.all(aa, bb, cc, rule.f(aa, bb, cc));
      for (let j = 0; j < arity; j++) sens[j] += Math.abs((qs[j] ?? Number.NaN) - p[j]!);
    }
  noise.fill(0);
  const n = NOISE_POINTS;
  let flatAlong = 0;
  const { wide, stuck } = probe;
  for (let j = 0; j < arity; j++) {
    plo[j] = p[j]!;
    phi[j] = p[j]!;
    big[j] = Math.abs(p[j]!);
  }
  for (let arg = 0; arg < arity; arg++) {
    const v = arg === 0 ? a : arg === 1 ? b : c;
    if (v === 0) continue;
    // The op's own partial along this argument sizes the window (NaN: not given, the widest).
    const reach = windowReach(Math.abs(p[arg]!), Math.abs(o), v);
    const width = Math.min(reach, MAX_WINDOW * Math.abs(v));
    // The op's values over the window: their range tells a flat op (below).
    let lo = o;
    let hi = o;
    finite.fill(1);
    for (let i = -n; i <= n; i++) {
      let qs: ArrayLike<number | undefined> | null = null;
      if (i !== 0) {
        const w = v + width * NOISE_AT[i + n]!;
        const aa = arg === 0 ? w : a;
        const bb = arg === 1 ? w : b;
        const cc = arg === 2 ? w : c;
        // A rule or forward that throws there (outside the op's domain, say): no value, as NaN.
        try {
          const fw = rule.f(aa, bb, cc);
          if (fw < lo) lo = fw;
          if (fw > hi) hi = fw;
          qs = rule.all(aa, bb, cc, fw);
        } catch {
          qs = null;
        }
      }
      for (let j = 0; j < arity; j++) {
        const y = i === 0 ? p[j]! : qs === null ? Number.NaN : (qs[j] ?? Number.NaN);
        ys[j]![i + n] = y;
        if (!Number.isFinite(y)) finite[j] = 0;
        // (NaN spreads into the range: a partial without a value somewhere is not constant.)
        plo[j] = y < plo[j]! || Number.isNaN(y) ? y : plo[j]!;
        phi[j] = y > phi[j]! || Number.isNaN(y) ? y : phi[j]!;
        big[j] = Math.max(big[j]!, Math.abs(y));
      }
    }
    for (let j = 0; j < arity; j++)
      if (finite[j] === 1)
        noise[j] = Math.max(noise[j]!, Math.min(cubicResidual(ys[j]!), noiseCap(o, p[j]!, v)));
    // Flat along this argument: a move of MAX_WINDOW of it (at least MAX_WINDOW: an argument near 0
    // is no flat op) moves the op's value by fewer than 16·φ of its ulps, by its slope and over the
    // capped window (σ past x ≈ 28; not a stationary point, where it curves by more).
    if (
      reach > MAX_WINDOW * Math.max(1, Math.abs(v)) &&
      hi - lo < GOLDEN_ULPS * EPS * Math.abs(o)
    ) {
      flatAlong |= 1 << arg;
      wide[arg] = Math.min(reach, MAX_WIDE * Math.max(1, Math.abs(v)));
    }
  }
  if (flatAlong !== 0) {
    // A partial that stays within 16·φ of its own ulps over every window (s(1 − s) from an s
    // that does not move) shows no rounding it may have; one that moves (pow's a^b·log a at b ≈ 0,
    // as a moves) shows it. Of those that stay, one that moves at the ends of a wide window along
    // a flat argument (MAX_WIDE of it: s steps there) is stuck: a rule that computes the forward
    // again inside rounds unseen, and it counts at its cap where asked (`RoundingAnalysis.flat`).
    // One constant there too is a constant partial (x + 1e-12·y's ∂/∂y), whose fault shows.
    stuck.fill(0);
    for (let arg = 0; arg < arity; arg++) {
      if ((flatAlong & (1 << arg)) === 0) continue;
      const v = arg === 0 ? a : arg === 1 ? b : c;
      for (let sign = 1; sign >= -1; sign -= 2) {
        const w = v + sign * wide[arg]!;
        const aa = arg === 0 ? w : a;
        const bb = arg === 1 ? w : b;
        const cc = arg === 2 ? w : c;
        let qs: ArrayLike<number | undefined> | null = null;
        try {
          qs = rule.all(aa, bb, cc, rule.f(aa, bb, cc));
        } catch {
          qs = null;
        }
        for (let j = 0; j < arity; j++) {
          if (!stays(qs === null ? Number.NaN : (qs[j] ?? Number.NaN), p[j]!)) stuck[j] = 1;
        }
      }
    }
    for (let j = 0; j < arity; j++) {
      if (stuck[j] === 0 || !(phi[j]! - plo[j]! <= GOLDEN_ULPS * EPS * big[j]!)) continue;
      flatOp ??= { op, where: shownCall(op, [a, b, c].slice(0, arity)) };
      const x = j === 0 ? a : j === 1 ? b : c;
      if (countFlat) noise[j] = Math.max(noise[j]!, noiseCap(o, p[j]!, x));
    }
  }
  const u = rule.ulps * EPS * Math.abs(o);
  // (Copied: the backward may return the same buffer from both calls.)
  const up = o === 0 ? null : Array.from(rule.all(a, b, c, o + u));
  const down = o === 0 ? null : rule.all(a, b, c, o - u);
  for (let j = 0; j < arity; j++) {
    let s = sens[j]! + 2 * noise[j]!;
    if (!Number.isFinite(s)) s = 0;
    let t = Math.abs(p[j]!);
    if (up !== null && down !== null) {
      const move = Math.max(
        Math.abs((up[j] ?? Number.NaN) - p[j]!),
        Math.abs((down[j] ?? Number.NaN) - p[j]!),
      );
      if (Number.isFinite(move)) {
        s += move;
        t = Math.max(t, move / (rule.ulps * EPS));
      }
    }
    sens[j] = s;
    terms[j] = t;
  }
}

/**
 * The largest |y_i − q(t_i)| of the least-squares cubic q through y at t_i = NOISE_AT[i]: the
 * even part (1, t²) and the odd part (t, t³) fitted apart (the points are symmetric).
 */
function cubicResidual(ys: Float64Array): number {
  const n = (ys.length - 1) / 2;
  // Σ t^k over the points, k = 0 … 6 (odd ones vanish).
  let s0 = 0;
  let s2 = 0;
  let s4 = 0;
  let s6 = 0;
  let e0 = 0;
  let e2 = 0;
  let o1 = 0;
  let o3 = 0;
  for (let i = -n; i <= n; i++) {
    const t = NOISE_AT[i + n]!;
    const t2 = t * t;
    const y = ys[i + n]!;
    s0 += 1;
    s2 += t2;
    s4 += t2 * t2;
    s6 += t2 * t2 * t2;
    e0 += y;
    e2 += y * t2;
    o1 += y * t;
    o3 += y * t * t2;
  }
  // [s0 s2; s2 s4]·[c0; c2] = [e0; e2], [s2 s4; s4 s6]·[c1; c3] = [o1; o3].
  const de = s0 * s4 - s2 * s2;
  const c0 = (e0 * s4 - e2 * s2) / de;
  const c2 = (s0 * e2 - s2 * e0) / de;
  const dd = s2 * s6 - s4 * s4;
  const c1 = (o1 * s6 - o3 * s4) / dd;
  const c3 = (s2 * o3 - s4 * o1) / dd;
  let worst = 0;
  for (let i = -n; i <= n; i++) {
    const t = NOISE_AT[i + n]!;
    const r = Math.abs(ys[i + n]! - (c0 + t * (c1 + t * (c2 + t * c3))));
    if (r > worst) worst = r;
  }
  return worst;
}

/**
 * Adds `out`'s contribution to its arguments' adjoints, over the output elements `elements`
 * (null: all). A null entry of `argAdj` is an argument whose adjoint is not needed.
 */
function backward(
  op: string,
  out: Node,
  args: Node[],
  argAdj: ([Float64Array, Float64Array] | null)[],
  mo: Float64Array,
  qo: Float64Array,
  argMaps: readonly (Int32Array | null)[],
  elements: Int32Array | null,
): void {
  if (op === "sum" || op === "mean") {
    const n = args[0]!.v.length;
    const scale = op === "mean" ? 1 / n : 1;
    if (argAdj[0] === null) return;
    const [ma, qa] = argAdj[0]!;
    for (let k = 0; k < n; k++) {
      ma[k] += mo[0]! * scale;
      qa[k] += qo[0]! * scale + EPS * mo[0]! * scale + (op === "mean" ? tiny : 0);
    }
    return;
  }
  if (op === "max" || op === "min") {
    if (argAdj[0] === null) return;
    const [ma, qa] = argAdj[0]!;
    const k = extremeIndex(args[0]!.v, op === "max" ? 1 : -1);
    ma[k] += mo[0]!;
    qa[k] += qo[0]!;
    return;
  }
  if (op === "logsumexp") {
    // ∂out/∂x_k = p_k = e^(x_k − out), computed from x_k and out, each with its error.
    if (argAdj[0] === null) return;
    const a = args[0]!;
    const [ma, qa] = argAdj[0]!;
    for (let k = 0; k < a.v.length; k++) {
      const p = Math.exp(a.v[k]! - out.v[0]!);
      ma[k] += mo[0]! * p;
      qa[k] += qo[0]! * p + mo[0]! * p * (a.err[k]! + out.err[0]! + 2 * EPS);
      if (tiny > 0) qa[k] += (mo[0]! + 1) * tiny; // p's underflow times g, and g·p's
    }
    return;
  }
  if (op === "softmax") {
    // ∂y_j/∂x_i = y_j (δ_ij − y_i): its terms are y_j (δ_ij + y_i), each y off by its bound.
    if (argAdj[0] === null) return;
    const a = args[0]!;
    const [ma, qa] = argAdj[0]!;
    const len = rowLength(a.shape);
    const y = out.v;
    for (let r = 0; r < y.length; r += len) {
      for (let i = r; i < r + len; i++)
        for (let j = r; j < r + len; j++) {
          const d = y[j]! * ((i === j ? 1 : 0) - y[i]!);
          const terms = y[j]! * ((i === j ? 1 : 0) + y[i]!);
          const relErr = out.err[j]! / (y[j]! || 1) + out.err[i]! / (y[i]! || 1);
          ma[i] += Math.abs(mo[j]!) * terms;
          qa[i] += Math.abs(d) * qo[j]! + Math.abs(mo[j]!) * terms * (relErr + 2 * EPS);
        }
      // y_i·(g_i − Σ g·y): each of the len products in the sum may underflow, and the last one
      for (let i = r; i < r + len; i++) qa[i] += (len + 1) * tiny;
    }
    return;
  }
  if (op === "matmul") {
    const [A, B] = args as [Node, Node];
    const { m: r, k: kk, n: c } = matmulDims(A.shape, B.shape);
    // An adjoint that is not needed is summed into scratch arrays (matmuls are small).
    const [mA, qA] = argAdj[0] ?? [new Float64Array(r * kk), new Float64Array(r * kk)];
    const [mB, qB] = argAdj[1] ?? [new Float64Array(kk * c), new Float64Array(kk * c)];
    for (let i = 0; i < r; i++)
      for (let j = 0; j < c; j++) {
        const g = mo[i * c + j]!;
        const ge = qo[i * c + j]!;
        for (let t = 0; t < kk; t++) {
          const a = Math.abs(A.v[i * kk + t]!);
          const b = Math.abs(B.v[t * c + j]!);
          mA[i * kk + t] += g * b;
          qA[i * kk + t] += ge * b + g * (B.err[t * c + j]! + kk * EPS * b) + tiny;
          mB[t * c + j] += g * a;
          qB[t * c + j] += ge * a + g * (A.err[i * kk + t]! + kk * EPS * a) + tiny;
        }
      }
    return;
  }
  if (out.jacobian !== null) {
    // A tensor op: its backward's rounding is opaque, a few ulps of its terms per input element.
    const { rows, sens, terms } = out.jacobian;
    const width = args.reduce((n, a) => n + a.v.length, 4);
    rows.forEach((r, k) => {
      const g = mo[k]!;
      const ge = qo[k]!;
      if (g === 0 && ge === 0) return;
      r.forEach((row, j) => {
        const adj = argAdj[j];
        if (adj === null || adj === undefined) return;
        const [ma, qa] = adj;
        for (let i = 0; i < row.length; i++) {
          const p = Math.abs(row[i]!);
          const t = terms[k]![j]![i]!;
          ma[i] += t * g;
          qa[i] += p * ge + g * (sens[k]![j]![i]! + width * EPS * t) + tiny;
        }
      });
    });
    return;
  }
  const custom = isBuiltinOp(op) ? undefined : lookupCustomOp(op);
  // A custom op's own rule serves as magnitude and sensitivity estimate, like a built-in's.
  const rule = roundingRuleOf(op)!;
  const customRule = custom === undefined ? null : customRuleOf(custom as CustomOpDefinition);
  let probe: CustomProbe | null = null;
  const arity = isBuiltinOp(op) ? BUILTIN_OPS[op].arity : custom!.arity;
  const m0 = argMaps[0] ?? null;
  const m1 = argMaps[1] ?? null;
  const m2 = argMaps[2] ?? null;
  const A0 = args[0]!;
  const A1 = args[1];
  const A2 = args[2];
  const count = elements === null ? out.v.length : elements.length;
  for (let t = 0; t < count; t++) {
    const k = elements === null ? t : elements[t]!;
    const g = mo[k]!;
    const ge = qo[k]!;
    if (g === 0 && ge === 0) continue;
    const i0 = m0 === null ? k : m0[k]!;
    const i1 = m1 === null ? k : m1[k]!;
    const i2 = m2 === null ? k : m2[k]!;
    const a = A0.v[i0]!;
    const b = A1 === undefined ? 0 : A1.v[i1]!;
    const c = A2 === undefined ? 0 : A2.v[i2]!;
    const ea = A0.err[i0]!;
    const eb = A1 === undefined ? 0 : A1.err[i1]!;
    const ec = A2 === undefined ? 0 : A2.err[i2]!;
    const o = out.v[k]!;
    // A custom op's partials from one call of its backward, and its probe, once per element.
    let ps: (number | undefined)[] | null = null;
    let probed = false;
    for (let j = 0; j < arity; j++) {
      if (argAdj[j] === null) continue;
      // A copy: a backward may return one buffer it reuses, which the probe's calls overwrite.
      if (customRule !== null) ps ??= Array.from(customRule.all(a, b, c, o));
      const p = ps === null ? rule.d(j, a, b, c, o) : (ps[j] ?? Number.NaN);
      if (!Number.isFinite(p)) continue;
      const ap = Math.abs(p);
      let sens = 0;
      let terms: number;
      if (customRule !== null) {
        probe ??= customProbeOf(arity);
        if (!probed) customProbe(probe, op, customRule, arity, a, b, c, o, ps!, ea, eb, ec);
        probed = true;
        sens = probe.sens[j]!;
        terms = probe.terms[j]!;
      } else {
        // The local derivative is computed from inputs that carry errors: perturb each by its bound.
        if (ea > 0) sens += Math.abs(rule.d(j, a + ea, b, c, rule.f(a + ea, b, c)) - p);
        if (eb > 0 && arity > 1)
          sens += Math.abs(rule.d(j, a, b + eb, c, rule.f(a, b + eb, c)) - p);
        if (ec > 0 && arity > 2)
          sens += Math.abs(rule.d(j, a, b, c + ec, rule.f(a, b, c + ec)) - p);
        if (!Number.isFinite(sens)) sens = 0;
        terms = rule.terms === undefined ? ap : rule.terms(j, a, b, c, o);
      }
      const idx = j === 0 ? i0 : j === 1 ? i1 : i2;
      const [ma, qa] = argAdj[j]!;
      ma[idx] += terms * g; // a partial that is a difference counts its terms
      qa[idx] += ap * ge + g * (sens + (rule.own?.(j, a, b, c, o) ?? 2) * EPS * terms);
      // The partial's own underflow times g, and that of g·∂f/∂arg (an exact op has neither).
      if (tiny > 0 && rule.ulps > 0)
        qa[idx] += (g * (rule.underflow?.(j, a, b, c, o) ?? 1) + 1) * tiny;
    }
  }
}
