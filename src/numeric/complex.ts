/**
 * Complex evaluation of an `Expr`, for the complex step. Values are struct-of-arrays (`re`, `im`
 * Float64Arrays) compiled once like the real evaluator; kernels write their result into two
 * module-level registers, so an evaluation allocates nothing.
 *
 * Why not complex.js (measured, not used): measured on sin(x^2) over 10^5 elements, complex.js allocates an
 * object per op per element and runs ≈ 6× slower than these kernels; and its pow goes through
 * exp(w·log z) even for integer exponents, so (−2 + ih)^2 has Im ≈ −1e-15 instead of −4h (the
 * argument 2π does not round to a multiple of 2π): a wrong derivative of x^2 at x = −2.
 *
 * Branches of piecewise ops (abs, relu, clamp) and the domains of log, sqrt, pow … are decided on
 * the real part, as the real function decides them: a real part outside the domain gives NaN, a
 * real part exactly on a breakpoint marks the point as not analytic (`kink`), and the caller falls
 * back to finite differences.
 *
 * A custom op has only a real forward. It is carried in forward mode: its real part is the forward
 * at the real parts of its arguments, its imaginary part Σ_j ∂_j f · Im(a_j), each ∂_j f by
 * certified Richardson extrapolation on the op's own scalar function at its arguments (inside its
 * declared domain), never on the whole expression, whose composition may vary far faster. The
 * error of those partials reaches the output through ∂F/∂(op's value), which `prepareCustom`
 * measures once per point by a complex step injected at each custom op element.
 */
import { mapPacked } from "../arrays.ts";
import { GradtrioError } from "../errors.ts";
import type { Expr } from "../expr/ast.ts";
import {
  broadcastAll,
  broadcastIndex,
  matmulDims,
  matmulShape,
  type Shape,
  sizeOfShape,
} from "../expr/broadcast.ts";
import { erf } from "../expr/erf.ts";
import { type Algebra, interpret, opsByKind } from "../expr/interpret.ts";
import {
  applyForward,
  BUILTIN_OPS,
  CONSTANTS,
  type CustomOpDefinition,
  checkedForward,
  type ElementwiseOp,
  isTensorOp,
  type ReductionOp,
  type TensorOpDefinition,
} from "../expr/ops.ts";
import { tensorOpShape } from "../expr/shapes.ts";
import { tensorOpForward } from "../expr/tensor-op.ts";
import type { Layout } from "./evaluate.ts";
import { detectKink, estimateOnLine } from "./gradient.ts";
import { coordinateLine } from "./line.ts";

const EPS = Number.EPSILON;

// The scalar kernels write re and im here: a typed array, as module-level `let`s measured slower.
const result = new Float64Array(2);
/** Why the last evaluation was not analytic at the point (a kink or a domain edge), or null. */
let nonAnalytic: string | null = null;
/**
 * As `nonAnalytic`, less a piecewise op on its breakpoint whose branches the evaluation's imaginary
 * parts do not tell apart (relu at 0 with an argument of imaginary part 0): along such a step the
 * function is analytic after all, and the complex step exact.
 */
let alongStep: string | null = null;
/** Marks the evaluation not analytic at the point, along any step: `reason` says why. */
function notAnalytic(reason: string): void {
  nonAnalytic = reason;
  alongStep = reason;
}
/** A piecewise op on its breakpoint; `reached`: the imaginary parts tell its branches apart. */
function onBreakpoint(reason: string, reached: boolean): void {
  nonAnalytic = reason;
  if (reached) alongStep = reason;
}
/** Why a custom op's partial derivative in the last evaluation could not certify itself, or null. */
let uncertified: string | null = null;
/** A custom op element whose imaginary part is set to `value` (the sensitivity runs), or null. */
let injected: { node: object; element: number; value: number } | null = null;
/**
 * worst[LARGEST]: largest |Im| of the terms an addition, a product or a quotient combined in an
 * imaginary part (where the O(h²) term of the step may show: see complex-step.ts);
 * worst[LOWEST]: log2 of the smallest true |Im| of an op's result that fell below the normal range
 * from imaginary parts that were not 0 (see `noteLow`), +∞ if none.
 */
const worst = new Float64Array(2);
const LARGEST = 0;
const LOWEST = 1;

/**
 * Per kernel call (the node loop resets them before it, reads them after): local[TERMS], the
 * largest Σ|terms| an addition, a product or a quotient inside the kernel combined in an imaginary
 * part (its rounding works at that scale, however much they cancel); local[COND], the relative
 * condition of the kernel's derivative on its real argument (log1p near −1: a relative error δ of
 * that argument moves the derivative by cond·δ), 0 if the kernel notes none.
 */
const local = new Float64Array(2);
const TERMS = 0;
const COND = 1;

/** The smallest normal float64: below it a value keeps fewer bits, down to none (0). */
const MIN_NORMAL = 2 ** -1022;

/** The run state above, saved by a compile or a run that may be nested in another run. */
interface RunState {
  nonAnalytic: string | null;
  alongStep: string | null;
  uncertified: string | null;
  largest: number;
  lowest: number;
  terms: number;
  cond: number;
}
const saveRunState = (): RunState => ({
  nonAnalytic,
  alongStep,
  uncertified,
  largest: worst[LARGEST]!,
  lowest: worst[LOWEST]!,
  terms: local[TERMS]!,
  cond: local[COND]!,
});
function restoreRunState(s: RunState): void {
  nonAnalytic = s.nonAnalytic;
  alongStep = s.alongStep;
  uncertified = s.uncertified;
  worst[LARGEST] = s.largest;
  worst[LOWEST] = s.lowest;
  local[TERMS] = s.terms;
  local[COND] = s.cond;
}

/**
 * An imaginary part below the normal range holds fewer bits than a double (its quantum is
 * 2^-1074), none once it underflows to 0; what it lost reaches the derivative through every op
 * after it (×1e10 of 2^y's Im at y = 1e-280 left 1e-13 relative). So where an op's result is
 * below it while its arguments' imaginary parts are not 0, the op runs again with these scaled up
 * by a power of two (`rerun`, given the scale's exponent k; exact, and the op is linear in them):
 * Im/2^k is the result's true size, noted in worst[LOWEST]. A result that stays 0 is a true 0
 * (relu below 0), unless the op's real result `re` is below the normal range too: then its
 * derivative is as tiny (e^-721), and its imaginary part is lost whatever the step (-∞).
 */
function noteLow(largestIm: number, re: number, rerun: (k: number) => number): void {
  const k = -40 - Math.floor(Math.log2(largestIm));
  const state = saveRunState();
  const r = rerun(k);
  restoreRunState(state);
  if (!Number.isFinite(r)) return;
  const lg = r !== 0 ? Math.log2(Math.abs(r)) - k : re !== 0 && low(re) ? -Infinity : Infinity;
  if (lg < worst[LOWEST]!) worst[LOWEST] = lg;
}

/** `noteLow` for a kernel of one complex argument a + ib, its result's real part `re`. */
function noteLowUnary(fn: Unary, a: number, b: number, re: number): void {
  noteLow(Math.abs(b), re, (e) => {
    fn(a, times2(b, e));
    return result[1];
  });
}

/** `noteLow` for a kernel of two complex arguments (a + ib, c + id), its result's real part `re`. */
function noteLowBinary(fn: Binary, a: number, b: number, c: number, d: number, re: number): void {
  noteLow(Math.max(Math.abs(b), Math.abs(d)), re, (e) => {
    fn(a, times2(b, e), c, times2(d, e));
    return result[1];
  });
}

/** v·2^k, exactly, for the k of `noteLow` (up to 1034: 2^k alone may overflow). */
const times2 = (v: number, k: number): number =>
  v * 2 ** Math.min(k, 1000) * 2 ** Math.max(k - 1000, 0);

/**
 * A result below the normal range where the op is not rerun (softmax, logsumexp, a tensor op):
 * its own size stands for the true one (it underflowed to 0 unnoticed).
 */
function noteSubnormal(v: number): void {
  if (v !== 0 && low(v) && Math.log2(Math.abs(v)) < worst[LOWEST]!)
    worst[LOWEST] = Math.log2(Math.abs(v));
}

/** Whether a value (an imaginary part, or a real part it is weighed against) is below the normal range (0 included). */
const low = (v: number): boolean => v < MIN_NORMAL && v > -MIN_NORMAL;

const NAN = Number.NaN;

function setNaN(): void {
  result[0] = NAN;
  result[1] = NAN;
}

function cadd(a: number, b: number, c: number, d: number): void {
  result[0] = a + c;
  result[1] = b + d;
  const s = Math.abs(b) + Math.abs(d);
  if (s > local[TERMS]!) local[TERMS] = s;
}

function csub(a: number, b: number, c: number, d: number): void {
  result[0] = a - c;
  result[1] = b - d;
  const s = Math.abs(b) + Math.abs(d);
  if (s > local[TERMS]!) local[TERMS] = s;
}

// (a+ib)(c+id) = (ac − bd) + i(ad + bc); the imaginary part sums two terms that may cancel
// (x·(1/x): x·(−h/x²) + h·(1/x) = 0), so their sizes go into local[TERMS] like an addition's.
function cmul(a: number, b: number, c: number, d: number): void {
  result[0] = a * c - b * d;
  const ad = a * d;
  const bc = b * c;
  result[1] = ad + bc;
  const s = Math.abs(ad) + Math.abs(bc);
  if (s > local[TERMS]!) local[TERMS] = s;
}

// Smith's division: no overflow of c² + d².
function cdiv(a: number, b: number, c: number, d: number): void {
  if (c === 0 && d === 0) {
    result[0] = a / 0;
    result[1] = NAN;
    return;
  }
  // The imaginary part is a difference of two terms (b and a·r, or b·r and a) that may cancel
  // (sqrt(x)·sqrt(x)/x); their sizes, scaled by the division, go into local[TERMS].
  let s: number;
  if (Math.abs(c) >= Math.abs(d)) {
    const r = d / c;
    const den = c + d * r;
    result[0] = (a + b * r) / den;
    result[1] = (b - a * r) / den;
    s = (Math.abs(b) + Math.abs(a * r)) / Math.abs(den);
  } else {
    const r = c / d;
    const den = c * r + d;
    result[0] = (a * r + b) / den;
    result[1] = (b * r - a) / den;
    s = (Math.abs(b * r) + Math.abs(a)) / Math.abs(den);
  }
  if (s > local[TERMS]!) local[TERMS] = s;
}

/** Below this |b|: cosh b = cos b = 1 and sinh b = sin b = b to the last bit (b²/6 < eps/4). */
const TINY = 1e-9;

// exp(a+ib) = e^a (cos b + i sin b)
function cexp(a: number, b: number): void {
  const e = Math.exp(a);
  result[0] = Math.abs(b) < TINY ? e : e * Math.cos(b);
  result[1] = Math.abs(b) < TINY ? e * b : e * Math.sin(b);
}

// log z = log|z| + i·arg z, for Re z > 0 (the real log's domain).
function clog(a: number, b: number): void {
  if (a < 0 || Number.isNaN(a)) {
    setNaN();
    return;
  }
  if (a === 0) {
    notAnalytic("log at 0");
    setNaN();
    return;
  }
  const q = b / a;
  result[0] = Math.log(a) + 0.5 * log1pOf(q * q);
  result[1] = atan2Of(q, b, a);
}

// The complex step's imaginary parts are ~2^-100 of the real ones: below these, V8's log1p
// (fdlibm) returns its argument and atan2(b, a) for a > 0 returns b/a, to the bit; the calls are
// skipped (a third of a complex log's time).
/** log1p(v) for v = q² ≥ 0. */
const log1pOf = (v: number): number => (v < 2 ** -54 ? v : Math.log1p(v));
/** atan2(b, a) for a > 0, given q = b/a. */
const atan2Of = (q: number, b: number, a: number): number =>
  q < 2 ** -29 && q > -(2 ** -29) ? q : Math.atan2(b, a);

// log(1+z) = log|1+z| + i·arg(1+z); |1+z|² = (1+a)²(1 + (b/(1+a))²).
function clog1p(a: number, b: number): void {
  if (a < -1 || Number.isNaN(a)) {
    setNaN();
    return;
  }
  if (a === -1) {
    notAnalytic("log1p at −1");
    setNaN();
    return;
  }
  const q = b / (1 + a);
  // d/da log1p = 1/(1+a): a relative error δ in a becomes a·δ/(1+a) in the derivative.
  const cond = Math.abs(a / (1 + a));
  if (cond > local[COND]!) local[COND] = cond;
  result[0] = Math.log1p(a) + 0.5 * log1pOf(q * q);
  result[1] = atan2Of(q, b, 1 + a);
}

// z^n for an integer n by repeated squaring: exact branch, no log.
function cpowInt(a: number, b: number, n: number): void {
  let rr = 1;
  let ri = 0;
  let br = a;
  let bi = b;
  let k = Math.abs(n);
  while (k > 0) {
    if (k & 1) {
      cmul(rr, ri, br, bi);
      rr = result[0];
      ri = result[1];
    }
    k >>>= 1;
    if (k > 0) {
      cmul(br, bi, br, bi);
      br = result[0];
      bi = result[1];
    }
  }
  if (n < 0) cdiv(1, 0, rr, ri);
  else {
    result[0] = rr;
    result[1] = ri;
  }
}

// z^w = exp(w·log z): |z^w| = |z|^Re(w)·e^(−Im(w)·arg z), arg(z^w) = Re(w)·arg z + Im(w)·log|z|.
function cpow(a: number, b: number, c: number, d: number): void {
  if (Number.isNaN(a) || Number.isNaN(c)) {
    setNaN();
    return;
  }
  if (d === 0 && Number.isInteger(c) && Math.abs(c) <= 1024) {
    cpowInt(a, b, c);
    return;
  }
  if (a < 0) {
    setNaN();
    return;
  } // the real pow of a negative base is NaN here
  if (a === 0) {
    notAnalytic("pow with base 0");
    setNaN();
    return;
  }
  const r = Math.abs(a) * Math.sqrt(1 + (b / a) * (b / a));
  const theta = Math.atan2(b, a);
  const m = r ** c * (d === 0 ? 1 : Math.exp(-d * theta));
  const phase = c * theta + (d === 0 ? 0 : d * Math.log(r));
  result[0] = phase === 0 ? m : m * Math.cos(phase);
  result[1] = phase === 0 ? 0 : m * Math.sin(phase);
}

// Principal sqrt for Re z > 0: s = sqrt((|z| + a)/2), sqrt z = s + i·b/(2s).
function csqrt(a: number, b: number): void {
  if (a < 0 || Number.isNaN(a)) {
    setNaN();
    return;
  }
  if (a === 0) {
    notAnalytic("sqrt at 0");
    setNaN();
    return;
  }
  const r = Math.abs(a) * Math.sqrt(1 + (b / a) * (b / a));
  const s = Math.sqrt((r + a) / 2);
  result[0] = s;
  result[1] = b / (2 * s);
}

// tanh(a+ib) by Kahan's formula: t = tan b, s = sinh a, β = 1 + t²,
// tanh z = (β·s·sqrt(1+s²) + i t) / (1 + β s²).
function ctanh(a: number, b: number): void {
  const t = Math.tan(b);
  if (Math.abs(a) > 22) {
    // sech²(a) ≈ 4e^(−2|a|): no overflow of s².
    result[0] = Math.tanh(a);
    result[1] = (4 * t * Math.exp(-2 * Math.abs(a))) / (1 + t * t);
    return;
  }
  const s = Math.sinh(a);
  const beta = 1 + t * t;
  const den = 1 + beta * s * s;
  result[0] = b === 0 ? Math.tanh(a) : (beta * s * Math.sqrt(1 + s * s)) / den;
  result[1] = t / den;
}

// sigmoid z = 1/(1 + e^−z) for Re z ≥ 0, e^z/(1 + e^z) otherwise (no overflow).
function csigmoid(a: number, b: number): void {
  if (a >= 0) {
    cexp(-a, -b);
    cdiv(1, 0, 1 + result[0], result[1]);
  } else {
    cexp(a, b);
    const er = result[0];
    const ei = result[1];
    cdiv(er, ei, 1 + er, ei);
  }
}

// softplus z = max(Re z, 0)-branch + log1p(e^(−|z|)): z + log1p(e^−z) for Re z ≥ 0.
function csoftplus(a: number, b: number): void {
  softplusTail(a, b);
  if (a >= 0) {
    result[0] += a;
    result[1] += b;
  }
}

/** log1p(e^(−|z|)), z = a + ib, the exponent's sign picked on the real part: softplus less max(z, 0). */
function softplusTail(a: number, b: number): void {
  if (a >= 0) cexp(-a, -b);
  else cexp(a, b);
  clog1p(result[0], result[1]);
}

// tan(a+ib) = (sin 2a + i sinh 2b) / (cos 2a + cosh 2b) = (sin a cos a + i sinh b cosh b) / (cos²a + sinh²b)
function ctan(a: number, b: number): void {
  if (Math.abs(b) > 300) {
    result[0] = 0;
    result[1] = Math.sign(b);
    return;
  }
  // cos 2a + cosh 2b = 2(cos²a + sinh²b): the right side does not cancel near a pole of tan
  // (cos 2a → −1), where the left side lost ~1e-11 relative at a = −π/2 + 1.4e-3.
  const c = Math.cos(a);
  const sh = Math.sinh(b);
  const den = c * c + sh * sh;
  result[0] = (Math.sin(a) * c) / den;
  result[1] = (sh * Math.cosh(b)) / den;
}

/**
 * f(a + ib) = f(a) + i·b·f'(a) + O(b²) for an f analytic at a: exact in float64 while |b| < TINY
 * (the complex step's imaginary parts are ~2^-100 times a derivative). Further off the real axis
 * the kernel does not apply: the point is marked not analytic and finite differences take over.
 */
function firstOrder(op: ElementwiseOp, df: (a: number) => number, a: number, b: number): void {
  if (Number.isNaN(a)) {
    setNaN();
    return;
  }
  if (Math.abs(b) >= TINY) {
    notAnalytic(`${op} off the real axis (only its first-order complex kernel exists)`);
    setNaN();
    return;
  }
  result[0] = BUILTIN_OPS[op].real(a, 0, 0);
  result[1] = b === 0 ? 0 : b * df(a);
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

// asin and acos are analytic on (−1, 1); ±1 is a domain edge.
function inUnitInterval(op: string, a: number): boolean {
  if (!(a >= -1 && a <= 1)) {
    setNaN();
    return false;
  }
  if (a === -1 || a === 1) {
    notAnalytic(`${op} at ${a}`);
    setNaN();
    return false;
  }
  return true;
}

// maximum (sign 1) / minimum (sign −1) on real parts; a tie is a kink.
function cextremum(sign: 1 | -1, a: number, b: number, c: number, d: number): void {
  if (Number.isNaN(a) || Number.isNaN(c)) {
    setNaN();
    return;
  }
  if (a === c) onBreakpoint(`${sign > 0 ? "maximum" : "minimum"} at a tie`, b !== d);
  const first = sign * (a - c) >= 0;
  result[0] = first ? a : c;
  result[1] = first ? b : d;
}

/** The elementwise built-ins of an arity: each has its complex kernel in UNARY or BINARY. */
type OpsOfArity<N extends number> = {
  [K in ElementwiseOp]: (typeof BUILTIN_OPS)[K]["arity"] extends N ? K : never;
}[ElementwiseOp];

type Unary = (a: number, b: number) => void;
type Binary = (a: number, b: number, c: number, d: number) => void;

const UNARY = {
  neg: (a, b) => {
    result[0] = -a;
    result[1] = -b;
  },
  // sin(a+ib) = sin a cosh b + i cos a sinh b
  sin: (a, b) => {
    result[0] = Math.abs(b) < TINY ? Math.sin(a) : Math.sin(a) * Math.cosh(b);
    result[1] = Math.abs(b) < TINY ? Math.cos(a) * b : Math.cos(a) * Math.sinh(b);
  },
  // cos(a+ib) = cos a cosh b − i sin a sinh b
  cos: (a, b) => {
    result[0] = Math.abs(b) < TINY ? Math.cos(a) : Math.cos(a) * Math.cosh(b);
    result[1] = Math.abs(b) < TINY ? -Math.sin(a) * b : -Math.sin(a) * Math.sinh(b);
  },
  tan: ctan,
  exp: cexp,
  log: clog,
  sqrt: csqrt,
  tanh: ctanh,
  sigmoid: csigmoid,
  relu: (a, b) => {
    if (a > 0) {
      result[0] = a;
      result[1] = b;
    } else if (a < 0) {
      result[0] = 0;
      result[1] = 0;
    } else if (a === 0) {
      onBreakpoint("relu at 0", b !== 0);
      result[0] = 0;
      result[1] = 0;
    } else setNaN();
  },
  abs: (a, b) => {
    if (a > 0) {
      result[0] = a;
      result[1] = b;
    } else if (a < 0) {
      result[0] = -a;
      result[1] = -b;
    } else if (a === 0) {
      onBreakpoint("abs at 0", b !== 0);
      result[0] = 0;
      result[1] = 0;
    } else setNaN();
  },
  log1p: clog1p,
  softplus: csoftplus,
  // d erf = 2/√π e^(−a²)
  erf: (a, b) => firstOrder("erf", (x) => TWO_OVER_SQRT_PI * Math.exp(-x * x), a, b),
  // d gelu = Φ(a) + a φ(a)
  gelu: (a, b) =>
    firstOrder(
      "gelu",
      (x) => 0.5 * (1 + erf(x * Math.SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
      a,
      b,
    ),
  // d asin = 1/√(1 − a²), d acos = −1/√(1 − a²)
  asin: (a, b) => {
    if (inUnitInterval("asin", a)) firstOrder("asin", (x) => 1 / Math.sqrt(1 - x * x), a, b);
  },
  acos: (a, b) => {
    if (inUnitInterval("acos", a)) firstOrder("acos", (x) => -1 / Math.sqrt(1 - x * x), a, b);
  },
  // d atan = 1/(1 + a²)
  atan: (a, b) => firstOrder("atan", (x) => 1 / (1 + x * x), a, b),
  // sinh(a+ib) = sinh a cos b + i cosh a sin b
  sinh: (a, b) => {
    result[0] = Math.abs(b) < TINY ? Math.sinh(a) : Math.sinh(a) * Math.cos(b);
    result[1] = Math.abs(b) < TINY ? Math.cosh(a) * b : Math.cosh(a) * Math.sin(b);
  },
  // cosh(a+ib) = cosh a cos b + i sinh a sin b
  cosh: (a, b) => {
    result[0] = Math.abs(b) < TINY ? Math.cosh(a) : Math.cosh(a) * Math.cos(b);
    result[1] = Math.abs(b) < TINY ? Math.sinh(a) * b : Math.sinh(a) * Math.sin(b);
  },
  // e^(a+ib) − 1 = (e^a cos b − 1) + i e^a sin b; expm1(a) itself when b is below TINY
  expm1: (a, b) => {
    if (Math.abs(b) < TINY) {
      result[0] = Math.expm1(a);
      result[1] = Math.exp(a) * b;
      return;
    }
    cexp(a, b);
    result[0] -= 1;
  },
} as const satisfies Record<OpsOfArity<1>, Unary>;

const BINARY = {
  add: cadd,
  sub: csub,
  mul: cmul,
  div: cdiv,
  pow: cpow,
  // bce(p,t) = −(t·log p + (1−t)·log(1−p)), for 0 < Re p < 1.
  bce: (a, b, c, d) => {
    if (!(a >= 0 && a <= 1)) {
      setNaN();
      return;
    }
    if (a === 0 || a === 1) {
      notAnalytic("bce with p at 0 or 1");
      setNaN();
      return;
    }
    clog(a, b);
    cmul(c, d, result[0], result[1]);
    const tr = result[0];
    const ti = result[1];
    clog1p(-a, -b);
    cmul(1 - c, -d, result[0], result[1]);
    result[0] = -(tr + result[0]);
    result[1] = -(ti + result[1]);
  },
  maximum: (a, b, c, d) => cextremum(1, a, b, c, d),
  minimum: (a, b, c, d) => cextremum(-1, a, b, c, d),
} as const satisfies Record<OpsOfArity<2>, Binary>;

// max then min on real parts, as torch.clamp; a tie is a kink.
function cclamp(a: number, b: number, lr: number, li: number, hr: number, hi: number): void {
  if (Number.isNaN(a) || Number.isNaN(lr) || Number.isNaN(hr)) {
    setNaN();
    return;
  }
  let mr = a;
  let mi = b;
  if (a < lr) {
    mr = lr;
    mi = li;
  } else if (a === lr) onBreakpoint("clamp at its lower bound", b !== li);
  if (mr > hr) {
    mr = hr;
    mi = hi;
  } else if (mr === hr) onBreakpoint("clamp at its upper bound", mi !== hi);
  result[0] = mr;
  result[1] = mi;
}

interface CNode {
  readonly shape: Shape;
  readonly re: Float64Array;
  readonly im: Float64Array;
  /** A bound on the rounding error of each imaginary part (see `KERNEL_ROUNDING`). */
  readonly err: Float64Array;
  readonly constant: boolean;
  /**
   * For sigmoid(u), and for a clamp of it, the sigmoid node and its argument u: where this node's
   * value is the sigmoid's (the clamp passes it through), bce can use u itself (see bceLogit).
   */
  logit?: { readonly sig: CNode; readonly u: CNode };
}

// bce(σ(u), t) = t·softplus(−u) + (1−t)·softplus(u): log p = −softplus(−u) and
// log(1 − p) = −softplus(u) without forming 1 − p, whose rounding the complex step would
// otherwise carry (relative eps/(1 − p): 1.8e-13 at p = σ(6.7)).
// For u ≠ 0, csoftplus(−u) and csoftplus(u) take the same log1p(e^(−|u|)) (their branches pick
// the same exponent) and differ in the u they add: it is computed once (the same operations,
// so the same bits; at u = 0 the branches step the other way round, and it is computed twice).
function cbceLogit(ur: number, ui: number, c: number, d: number): void {
  if (ur === 0 || Number.isNaN(ur)) {
    csoftplus(-ur, -ui);
    cmul(c, d, result[0], result[1]);
    const tr = result[0];
    const ti = result[1];
    csoftplus(ur, ui);
    cmul(1 - c, -d, result[0], result[1]);
    result[0] += tr;
    result[1] += ti;
    return;
  }
  softplusTail(ur, ui);
  const lr = result[0];
  const li = result[1];
  // softplus(−u) = log1p(e^(−|u|)) − min(u, 0), softplus(u) = log1p(e^(−|u|)) + max(u, 0)
  if (ur > 0) cmul(c, d, lr, li);
  else cmul(c, d, lr + -ur, li + -ui);
  const tr = result[0];
  const ti = result[1];
  if (ur > 0) cmul(1 - c, -d, lr + ur, li + ui);
  else cmul(1 - c, -d, lr, li);
  result[0] += tr;
  result[1] += ti;
}

/** The largest real part of re[from … from+len), or NaN if one is NaN. */
function maxRe(re: Float64Array, from: number, len: number): number {
  let m = -Infinity;
  for (let k = from; k < from + len; k++) if (!(re[k]! <= m)) m = re[k]!;
  return m;
}

// logsumexp z = m + log Σ e^(z − m), m the largest real part (no overflow). Returns the error
// bound of the imaginary part (`err`, the arguments' bounds): Im = Σ y_k·Im z_k, y the softmax,
// so the arguments' errors arrive weighted by y; each e^(z_k − m) is good to (2 + |z_k − m|) ulps
// (its argument's rounding scaled by it), the sum adds its partial sums' rounding, and the final
// quotient by Σ e^(z − m) (good to n ulps) its own.
function clogsumexp(
  re: Float64Array,
  im: Float64Array,
  err: Float64Array,
  from: number,
  len: number,
): number {
  const m = maxRe(re, from, len);
  if (!Number.isFinite(m)) {
    result[0] = m;
    result[1] = Number.isNaN(m) ? NAN : 0;
    return 0;
  }
  let sr = 0;
  let si = 0;
  let absSum = 0;
  let e = 0;
  let partials = 0;
  for (let k = from; k < from + len; k++) {
    cexp(re[k]! - m, im[k]!);
    sr += result[0];
    si += result[1];
    absSum += Math.abs(result[1]);
    e += result[0] * err[k]! + EPS * (2 + Math.abs(re[k]! - m)) * Math.abs(result[1]);
    partials += Math.abs(si);
  }
  if (absSum > worst[LARGEST]!) worst[LARGEST] = absSum;
  clog(sr, si);
  result[0] += m;
  noteSubnormal(result[1]);
  return (e + EPS * partials) / sr + (2 + len) * EPS * Math.abs(result[1]);
}

// softmax of one row: e^(z − m) / Σ e^(z − m). The error bound of each imaginary part (`outErr`,
// from the arguments' `err`): Im y_k = y_k·(Im z_k − Σ_j y_j·Im z_j), so an argument error e
// reaches y_k as at most y_k·(e_k + Σ_j y_j·e_j), the exponentials' rounding (as in
// `clogsumexp`) with it; then the rounding of the sum's partial sums, and of each quotient (its
// terms and the sum's n ulps).
function csoftmaxRow(
  re: Float64Array,
  im: Float64Array,
  err: Float64Array,
  from: number,
  len: number,
  outRe: Float64Array,
  outIm: Float64Array,
  outErr: Float64Array,
): void {
  const m = maxRe(re, from, len);
  let sr = 0;
  let si = 0;
  let partials = 0;
  for (let k = from; k < from + len; k++) {
    cexp(re[k]! - m, im[k]!);
    outRe[k] = result[0];
    outIm[k] = result[1];
    // Each argument's error with its exponential's rounding, per unit of y (weighted below).
    outErr[k] = err[k]! + EPS * (2 + Math.abs(re[k]! - m)) * Math.abs(im[k]!);
    sr += result[0];
    si += result[1];
    partials += Math.abs(si);
  }
  let weighted = 0;
  for (let k = from; k < from + len; k++) weighted += (outRe[k]! / sr) * outErr[k]!;
  let largest = 0;
  for (let k = from; k < from + len; k++) {
    local[TERMS] = 0;
    cdiv(outRe[k]!, outIm[k]!, sr, si);
    const y = result[0];
    outRe[k] = y;
    outIm[k] = result[1];
    outErr[k] =
      y * (outErr[k]! + weighted + (EPS * partials) / sr) +
      (4 + len) * EPS * (local[TERMS]! + Math.abs(result[1]));
    largest = Math.max(largest, local[TERMS]!);
    noteSubnormal(result[1]);
  }
  if (largest > worst[LARGEST]!) worst[LARGEST] = largest;
}

export interface ComplexProgram {
  /** Evaluates at re + i·im (flat inputs as the layout says); the result is in `output`. */
  run(re: Float64Array, im: Float64Array): void;
  readonly output: { readonly shape: Shape; readonly re: Float64Array; readonly im: Float64Array };
  /** After `run`: why the point is not analytic (a kink, a domain edge), or null. */
  kink(): string | null;
  /**
   * After `run`: as `kink`, less a piecewise op on its breakpoint whose branches the run's
   * imaginary parts do not tell apart (relu at 0 where its argument's imaginary part is 0): null
   * where the step along the imaginary parts is exact.
   */
  kinkAlongStep(): string | null;
  /**
   * After `run`: the largest |Im| of the terms an addition, a product or a quotient combined (where
   * the step's O(h²) term may show).
   */
  largestIm(): number;
  /**
   * After `run`: a first-order bound on the rounding error of Im(output[0]), each op's rounding
   * carried to the output through the ops after it (see `KERNEL_ROUNDING`).
   */
  imError(): number;
  /**
   * After `run`: log2 of the smallest true |Im| of a result that fell below the normal range
   * (2^-1022) from imaginary parts that were not 0, +∞ if none: the run's imaginary parts are
   * good to 2^(-1075 - lowIm) relative, none at all below -1075.
   */
  lowIm(): number;
  /** Custom op elements in the program (each a forward-mode node with finite-difference partials). */
  readonly customElements: number;
  /**
   * Measures ∂F/∂(each custom op element) at the real point `re` by complex steps injected at
   * the element (one evaluation each); `customError` needs it. Overwrites `output`.
   */
  prepareCustom(re: Float64Array): void;
  /**
   * After `run`: a bound on the error the custom ops' finite-difference partials put into
   * Im(output), Σ |∂F/∂node|·Σ_j err_j·|Im a_j| (0 without custom ops).
   */
  customError(): number;
  /** After `run`: why a custom op's partial could not certify itself, or null. */
  unreliable(): string | null;
}

/** A partial derivative of a custom op at its arguments, with its error bound. */
interface OpPartial {
  readonly d: number;
  readonly error: number;
  /** The op sits on a kink of its own here (the partial is NaN). */
  readonly kink?: string;
  /** The partial could not certify itself. */
  readonly unreliable?: string;
}

/**
 * A custom op's forward on a Float64Array of its arguments, NaN outside its declared domain (where
 * the op is undefined: stencils shrink or turn one-sided there).
 */
function insideDomain(
  def: CustomOpDefinition,
  forward: (...args: number[]) => number,
): (v: Float64Array) => number {
  const domain = def.domain;
  return (v) => {
    if (domain !== undefined)
      for (let m = 0; m < v.length; m++)
        if (!(v[m]! > domain[m]![0] && v[m]! < domain[m]![1])) return NAN;
    return applyForward(forward, v);
  };
}

/**
 * ∂_j of a custom op at `args`: certified Richardson on its scalar function (`f`, from
 * `insideDomain`), kinks detected.
 */
function customPartial(
  def: CustomOpDefinition,
  forward: (...args: number[]) => number,
  f: (v: Float64Array) => number,
  args: Float64Array,
  j: number,
): OpPartial {
  const line = coordinateLine(f, args, j, args.slice(), applyForward(forward, args));
  const est = estimateOnLine(line, "richardson");
  if (!Number.isFinite(est.derivative)) return { d: NAN, error: NAN };
  const kink = detectKink(line, est);
  if (kink === null && est.unreliable === undefined) return { d: est.derivative, error: est.error };
  const at = `custom op '${def.name}' at (${[...args].join(", ")})`;
  if (kink !== null)
    return {
      d: NAN,
      error: NAN,
      kink: `${at} is at a kink in argument ${j + 1} (left derivative ${kink.left}, right ${kink.right})`,
    };
  return {
    d: est.derivative,
    error: est.error,
    unreliable: `∂/∂(argument ${j + 1}) of ${at}: ${est.unreliable}`,
  };
}

/**
 * A tensor op in forward mode: Re = its forward at the real parts, Im = its Jacobian–vector
 * product along the imaginary parts, each element by certified Richardson extrapolation on the
 * line t ↦ forward(a + t·Im a / |Im a|) of the op's own forward (inside its declared domain; the
 * forward at each step is shared by all elements), never on the whole expression.
 */
function tensorOpNode(
  def: TensorOpDefinition,
  args: CNode[],
): { node: CNode; errIm: Float64Array; sens: Float64Array } {
  const shapes = args.map((a) => a.shape);
  const shape = tensorOpShape(def, shapes);
  const size = sizeOfShape(shape);
  const errIm = new Float64Array(size);
  const domain = def.domain;
  const inside = (v: Float64Array, j: number): boolean => {
    if (domain === undefined) return true;
    const [lo, hi] = domain[j]!;
    return v.every((x) => x > lo && x < hi);
  };
  const node = emit(shape, args, (re, im, imErr) => () => {
    re.set(
      tensorOpForward(
        def,
        args.map((a) => a.re),
        shapes,
        shape,
      ),
    );
    errIm.fill(0);
    imErr.fill(0);
    let unorm = 0;
    let enorm = 0;
    let big = 1;
    for (const a of args)
      for (let k = 0; k < a.re.length; k++) {
        unorm = Math.max(unorm, Math.abs(a.im[k]!));
        enorm = Math.max(enorm, a.err[k]!);
        big = Math.max(big, Math.abs(a.re[k]!));
      }
    if (injected !== null && injected.node === node) {
      im.fill(0);
      im[injected.element] = injected.value;
      return;
    }
    if (unorm === 0) {
      im.fill(0);
      return;
    }
    // Steps along u = Im/|Im|∞; forward(a + t·u) once per t for every element.
    const memo = new Map<number, Float64Array>();
    const along = (t: number): Float64Array => {
      let v = memo.get(t);
      if (v === undefined) {
        const moved = args.map((a) => a.re.map((x, k) => x + (t * a.im[k]!) / unorm));
        v = moved.every(inside)
          ? tensorOpForward(def, moved, shapes, shape)
          : new Float64Array(size).fill(NAN);
        memo.set(t, v);
      }
      return v;
    };
    for (let k = 0; k < size; k++) {
      const line = {
        g0: re[k]!,
        at(t: number) {
          line.evaluations++;
          return along(t)[k]!;
        },
        realized: (t: number) => t,
        scale: big,
        coordinate: -1,
        evaluations: 0,
      };
      const est = estimateOnLine(line, "richardson");
      const where = `custom op '${def.name}' (output element ${k})`;
      if (!Number.isFinite(est.derivative)) {
        im[k] = NAN;
        continue;
      }
      const kink = detectKink(line, est);
      if (kink !== null)
        notAnalytic(
          `${where} is at a kink along the direction (left derivative ${kink.left * unorm}, right ${kink.right * unorm})`,
        );
      if (est.unreliable !== undefined) uncertified ??= `${where}: ${est.unreliable}`;
      im[k] = est.derivative * unorm;
      errIm[k] = est.error * unorm;
      noteSubnormal(im[k]!);
      if (Math.abs(im[k]!) > worst[LARGEST]!) worst[LARGEST] = Math.abs(im[k]!);
    }
    // The arguments' Im errors, relative to their largest Im, carried at the scale of the op's
    // largest output Im (an estimate: the Jacobian's size beyond J·u is not measured), with the
    // rounding of that scale.
    let scale = 0;
    for (let k = 0; k < size; k++) scale = Math.max(scale, Math.abs(im[k]!));
    imErr.fill((enorm / unorm + KERNEL_ROUNDING) * scale);
  });
  return { node, errIm, sens: new Float64Array(size) };
}

/**
 * The kernels of the program being compiled, in order (`compileComplex` is synchronous; a compile
 * started while one runs, from a custom op's forward on constant arguments, saves and restores it).
 * The op table below is made once, not per compile.
 */
let compiling: (() => void)[] = [];

const constNode = (v: number): CNode => ({
  shape: [],
  re: Float64Array.of(v),
  im: new Float64Array(1),
  err: new Float64Array(1),
  constant: true,
});

// A node whose kernel runs once now when all its inputs are constant, else on every evaluation.
const emit = (
  shape: Shape,
  args: CNode[],
  kernel: (re: Float64Array, im: Float64Array, err: Float64Array) => () => void,
): CNode => {
  const size = sizeOfShape(shape);
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  const err = new Float64Array(size);
  const step = kernel(re, im, err);
  const constant = args.every((a) => a.constant);
  if (constant) step();
  else compiling.push(step);
  return { shape, re, im, err, constant };
};

/*
 * The error bound of each imaginary part (`CNode.err`), carried forward with it: an op's is the
 * error its arguments' imaginary parts bring, |∂Im/∂(Im of the argument)|·err (the Im parts are a
 * forward-mode tangent: the op is linear in them to first order), plus the rounding of its own
 * imaginary part. That rounding is relative to |Im| and to the Σ|terms| its sums combined
 * (local[TERMS]), however much they cancel; it covers the rounding of the real parts the op reads
 * (a relative ulp or two each: x·(1/x) carries 1/x's), not errors those real parts inherited (the
 * function's own conditioning, which every leg shares). So a cancellation's rounding reaches the
 * output scaled by what follows it (sqrt(x^2)*1e-14), where a bound taken at the scale of the sum
 * alone would not be (see complex-step.ts).
 */
/** A kernel's rounding of its imaginary part: 4·eps (8 unit roundoffs) of |Im| and of its sums' terms. */
const KERNEL_ROUNDING = 4 * EPS;
/** A conditioned kernel's (log1p near −1): 16·eps·cond of |Im|. */
const CONDITIONED = 16 * EPS;

/** The rounding a generic kernel added to its imaginary part `im` (the `local` registers it left). */
const kernelRounding = (im: number): number => {
  const a = Math.abs(im);
  return KERNEL_ROUNDING * (a + local[TERMS]!) + CONDITIONED * local[COND]! * a;
};

/** The size of a probe's imaginary part for an error e: e itself, inside a safe range. */
const probeSize = (e: number): number => Math.min(Math.max(e, 2 ** -900), 2 ** -60);

/**
 * |Im| per unit of m of the kernel call `at` makes at an imaginary part of size m (linear in m to
 * first order; 0 where it is NaN), with `result` and every finding of the run left as they were.
 */
function probe(m: number, at: () => void): number {
  const r0 = result[0];
  const r1 = result[1];
  const na = nonAnalytic;
  const as = alongStep;
  const t = local[TERMS]!;
  const c = local[COND]!;
  at();
  // NaN: the kernel has no derivative along that imaginary part here ((−2)^y's Im in y, where
  // y's Im is 0 but not its bound): its own result does not depend on it to first order either.
  const g = Number.isNaN(result[1]) ? 0 : Math.abs(result[1]) / m;
  result[0] = r0;
  result[1] = r1;
  nonAnalytic = na;
  alongStep = as;
  local[TERMS] = t;
  local[COND] = c;
  return g;
}

/** |∂Im/∂b|·e of a unary kernel at a + ib with b = 0 (where the ratio Im/b is not there). */
function probeUnary(fn: Unary, a: number, e: number): number {
  const m = probeSize(e);
  return probe(m, () => fn(a, m)) * e;
}

/** As `probeUnary`, for a binary kernel's first (`second` false) or second argument. */
function probeBinary(fn: Binary, a: number, c: number, second: boolean, e: number): number {
  const m = probeSize(e);
  return probe(m, () => (second ? fn(a, 0, c, m) : fn(a, m, c, 0))) * e;
}

/**
 * The error the arguments' imaginary parts (b ± eb, d ± ed) bring to a binary kernel's result `im`:
 * by the ratio im/b where the other argument's Im is 0, else by probes.
 */
function binaryCarried(
  fn: Binary,
  a: number,
  b: number,
  eb: number,
  c: number,
  d: number,
  ed: number,
  im: number,
): number {
  let e = 0;
  if (eb !== 0) e += d === 0 && b !== 0 ? Math.abs(im / b) * eb : probeBinary(fn, a, c, false, eb);
  if (ed !== 0) e += b === 0 && d !== 0 ? Math.abs(im / d) * ed : probeBinary(fn, a, c, true, ed);
  return e;
}

/** The kernels the loops below call directly, by their index here. */
const HOT_UNARY: readonly Unary[] = [csigmoid, cexp, clog, ctanh];
const HOT_BINARY: readonly Binary[] = [cadd, csub, cmul, cdiv];

const unary =
  (op: keyof typeof UNARY) =>
  (a: CNode): CNode =>
    emit(a.shape, [a], (re, im, err) => {
      const fn: Unary = UNARY[op];
      const hot = HOT_UNARY.indexOf(fn);
      const ar = a.re;
      const ai = a.im;
      const ae = a.err;
      const n = re.length;
      return () => {
        for (let k = 0; k < n; k++) {
          const b = ai[k]!;
          local[TERMS] = 0;
          local[COND] = 0;
          // Direct calls for the common kernels (V8 inlines them; a call through \`fn\`, shared
          // by every op's loop, is not inlined: ~2× the time of a cheap op).
          switch (hot) {
            case 0:
              csigmoid(ar[k]!, b);
              break;
            case 1:
              cexp(ar[k]!, b);
              break;
            case 2:
              clog(ar[k]!, b);
              break;
            case 3:
              ctanh(ar[k]!, b);
              break;
            default:
              fn(ar[k]!, b);
          }
          const v = result[1];
          re[k] = result[0];
          im[k] = v;
          if (local[TERMS]! > worst[LARGEST]!) worst[LARGEST] = local[TERMS]!;
          const e = ae[k]!;
          err[k] =
            kernelRounding(v) +
            (e === 0 ? 0 : b !== 0 ? Math.abs(v / b) * e : probeUnary(fn, ar[k]!, e));
          // (No closure here: one capturing the loop's variables costs every iteration.)
          if (b !== 0 && low(v)) noteLowUnary(fn, ar[k]!, b, re[k]!);
        }
      };
    });
const binary =
  (op: keyof typeof BINARY) =>
  (a: CNode, b: CNode): CNode => {
    const shape = broadcastAll([a.shape, b.shape], op);
    return emit(shape, [a, b], (re, im, err) => {
      const fn: Binary = BINARY[op];
      const n = re.length;
      // Index maps only where broadcasting is more than "same shape" or "a scalar".
      const fullA = a.re.length === n;
      const fullB = b.re.length === n;
      const ia = fullA || a.re.length === 1 ? null : broadcastIndex(a.shape, shape);
      const ib = fullB || b.re.length === 1 ? null : broadcastIndex(b.shape, shape);
      const { re: ar, im: ai, err: ae } = a;
      const { re: br, im: bi, err: be } = b;
      const hot = HOT_BINARY.indexOf(fn);
      return () => {
        for (let k = 0; k < n; k++) {
          const p = fullA ? k : ia === null ? 0 : ia[k]!;
          const q = fullB ? k : ib === null ? 0 : ib[k]!;
          const x = ar[p]!;
          const b = ai[p]!;
          const c = br[q]!;
          const d = bi[q]!;
          const eb = ae[p]!;
          const ed = be[q]!;
          local[TERMS] = 0;
          local[COND] = 0;
          // Direct calls for the common kernels, as in `unary`; their errors by hand: a sum's
          // is its terms' plus its own rounding; a product's, (a + ib)(c + id), the terms' errors
          // times |a| and |c| plus the rounding of a·d, b·c (and of the real parts a and c) and of
          // their sum; a quotient's, by |∂/∂b| ≤ 1/M and |∂/∂d| ≤ (|a| + |b|)/M², M = max(|c|, |d|).
          let e: number;
          switch (hot) {
            case 0:
              cadd(x, b, c, d);
              e = eb + ed + EPS * Math.abs(result[1]);
              break;
            case 1:
              csub(x, b, c, d);
              e = eb + ed + EPS * Math.abs(result[1]);
              break;
            case 2:
              cmul(x, b, c, d);
              e =
                Math.abs(x) * ed +
                Math.abs(c) * eb +
                2 * EPS * local[TERMS]! +
                EPS * Math.abs(result[1]);
              break;
            case 3: {
              cdiv(x, b, c, d);
              const m = Math.max(Math.abs(c), Math.abs(d));
              e =
                eb / m +
                (((Math.abs(x) + Math.abs(b)) / m) * ed) / m +
                4 * EPS * local[TERMS]! +
                2 * EPS * Math.abs(result[1]);
              break;
            }
            default:
              fn(x, b, c, d);
              e = kernelRounding(result[1]) + binaryCarried(fn, x, b, eb, c, d, ed, result[1]);
          }
          re[k] = result[0];
          im[k] = result[1];
          err[k] = e;
          if (local[TERMS]! > worst[LARGEST]!) worst[LARGEST] = local[TERMS]!;
          if ((b !== 0 || d !== 0) && low(result[1])) noteLowBinary(fn, x, b, c, d, result[0]);
        }
      };
    });
  };
const reduce =
  (mean: boolean) =>
  (a: CNode): CNode =>
    emit([], [a], (re, im, err) => {
      const { re: ar, im: ai, err: ae } = a;
      const n = ar.length;
      return () => {
        let sr = 0;
        let si = 0;
        let absSum = 0;
        // The terms' errors, and the rounding of each partial sum (u of it, twice over).
        let carried = 0;
        let partials = 0;
        for (let k = 0; k < n; k++) {
          sr += ar[k]!;
          si += ai[k]!;
          absSum += Math.abs(ai[k]!);
          carried += ae[k]!;
          partials += Math.abs(si);
        }
        if (absSum > worst[LARGEST]!) worst[LARGEST] = absSum;
        re[0] = mean ? sr / n : sr;
        im[0] = mean ? si / n : si;
        const e = carried + EPS * partials;
        err[0] = mean ? e / n + EPS * Math.abs(im[0]!) : e;
        // A sum that lands below the normal range is exact; a mean's division is not.
        if (mean && low(im[0]!) && si !== 0)
          noteLow(Math.abs(si), re[0]!, (e) => times2(si, e) / n);
      };
    });

// The element with the largest (sign 1) or smallest (sign −1) real part; a tie is a kink.
const extreme =
  (sign: 1 | -1) =>
  (a: CNode): CNode =>
    emit([], [a], (re, im, err) => () => {
      const { re: ar, im: ai } = a;
      let best = 0;
      let tie = false;
      // The tied elements differ in their imaginary parts: the step tells them apart.
      let reached = false;
      for (let k = 0; k < ar.length; k++) {
        const d = sign * (ar[k]! - ar[best]!);
        if (Number.isNaN(ar[k]!)) {
          best = k;
          break;
        }
        if (d > 0) {
          best = k;
          tie = false;
          reached = false;
        } else if (d === 0 && k !== best) {
          tie = true;
          if (ai[k] !== ai[best]) reached = true;
        }
      }
      if (tie) onBreakpoint(`${sign > 0 ? "max" : "min"} with a tie for the extreme`, reached);
      re[0] = ar[best]!;
      im[0] = ai[best]!;
      err[0] = a.err[best]!;
    });

const reductions: Record<ReductionOp, (a: CNode) => CNode> = {
  sum: reduce(false),
  mean: reduce(true),
  max: extreme(1),
  min: extreme(-1),
  logsumexp: (a) =>
    emit([], [a], (re, im, err) => () => {
      err[0] = clogsumexp(a.re, a.im, a.err, 0, a.re.length);
      re[0] = result[0];
      im[0] = result[1];
    }),
};
const softmax = (a: CNode): CNode =>
  emit(a.shape, [a], (re, im, err) => {
    const len = a.shape.length === 0 ? 1 : a.shape[a.shape.length - 1]!;
    return () => {
      for (let r = 0; r < re.length; r += len) csoftmaxRow(a.re, a.im, a.err, r, len, re, im, err);
    };
  });
const matmul = (a: CNode, b: CNode): CNode => {
  const shape = matmulShape(a.shape, b.shape);
  return emit(shape, [a, b], (re, im, err) => {
    const { m, k: K, n } = matmulDims(a.shape, b.shape);
    return () => {
      local[TERMS] = 0;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let sr = 0;
          let si = 0;
          let absSum = 0;
          // Each product's error as in `binary`, and the rounding of each partial sum.
          let e = 0;
          let partials = 0;
          for (let k = 0; k < K; k++) {
            const x = a.re[i * K + k]!;
            const c = b.re[k * n + j]!;
            const d = b.im[k * n + j]!;
            const y = a.im[i * K + k]!;
            cmul(x, y, c, d);
            sr += result[0];
            si += result[1];
            absSum += Math.abs(result[1]);
            e +=
              Math.abs(x) * b.err[k * n + j]! +
              Math.abs(c) * a.err[i * K + k]! +
              2 * EPS * (Math.abs(x * d) + Math.abs(y * c)) +
              EPS * Math.abs(result[1]);
            partials += Math.abs(si);
          }
          if (absSum > worst[LARGEST]!) worst[LARGEST] = absSum;
          re[i * n + j] = sr;
          im[i * n + j] = si;
          err[i * n + j] = e + EPS * partials;
          if (low(si)) noteLowProduct(a, b, i, j, K, n, sr);
        }
      if (local[TERMS]! > worst[LARGEST]!) worst[LARGEST] = local[TERMS]!;
    };
  });
};

/** `noteLow` for element (i, j) of matmul(a, b), a m×K and b K×n; `re` its real part. */
function noteLowProduct(
  a: CNode,
  b: CNode,
  i: number,
  j: number,
  K: number,
  n: number,
  re: number,
): void {
  let largest = 0;
  for (let k = 0; k < K; k++)
    largest = Math.max(largest, Math.abs(a.im[i * K + k]!), Math.abs(b.im[k * n + j]!));
  if (largest === 0) return;
  noteLow(largest, re, (e) => {
    let s = 0;
    for (let k = 0; k < K; k++) {
      const ai = times2(a.im[i * K + k]!, e);
      cmul(a.re[i * K + k]!, ai, b.re[k * n + j]!, times2(b.im[k * n + j]!, e));
      s += result[1];
    }
    return s;
  });
}

/** The complex kernel of every op (made once, not per compile). */
const OPS: Algebra<CNode>["ops"] = {
  // Every elementwise op by its kernel in UNARY or BINARY (clamp, bce, sigmoid below).
  ...opsByKind<CNode>({
    elementwise: (op) =>
      Object.hasOwn(UNARY, op)
        ? unary(op as keyof typeof UNARY)
        : (binary(op as keyof typeof BINARY) as (...a: CNode[]) => CNode),
    reduction: (op) => reductions[op],
    lastDim: () => softmax,
    matmul,
  }),
  bce: (p, t) => {
    const l = p.logit;
    if (l === undefined || l.u.re.length !== p.re.length) return binary("bce")(p, t);
    const shape = broadcastAll([p.shape, t.shape], "bce");
    if (sizeOfShape(shape) !== p.re.length) return binary("bce")(p, t);
    return emit(shape, [p, t], (re, im, err) => {
      const n = re.length;
      const it = t.re.length === n ? null : broadcastIndex(t.shape, shape);
      const { sig, u } = l;
      return () => {
        for (let k = 0; k < n; k++) {
          const q = it === null ? k : it[k]!;
          const pr = p.re[k]!;
          // Where the clamp replaced σ(u) by a bound, p is a constant: the general kernel.
          const logit = pr === sig.re[k] && p.im[k] === sig.im[k] && pr > 0 && pr < 1;
          const ar = logit ? u.re[k]! : pr;
          const ai = logit ? u.im[k]! : p.im[k]!;
          const ae = logit ? u.err[k]! : p.err[k]!;
          const kernel = logit ? cbceLogit : BINARY.bce;
          const c = t.re[q]!;
          const d = t.im[q]!;
          local[TERMS] = 0;
          local[COND] = 0;
          kernel(ar, ai, c, d);
          const v = result[1];
          re[k] = result[0];
          im[k] = v;
          if (local[TERMS]! > worst[LARGEST]!) worst[LARGEST] = local[TERMS]!;
          const te = t.err[q]!;
          // What the arguments' Im errors bring: by ∂bce(σ(u), t)/∂u = σ(u) − t (σ(u) is p's real
          // part, good to its ulps) and ∂/∂t = softplus(−u) − softplus(u) = −u on the logit path,
          // where a probe (another kernel call per element) cost 1/3 of the complex step at 10^6.
          err[k] =
            kernelRounding(v) +
            (logit
              ? (Math.abs(pr - c) + EPS * (pr + Math.abs(c))) * ae + Math.abs(ar) * te
              : binaryCarried(kernel, ar, ai, ae, c, d, te, v));
          if ((ai !== 0 || d !== 0) && low(result[1]))
            noteLowBinary(kernel, ar, ai, t.re[q]!, d, result[0]);
        }
      };
    });
  },
  sigmoid: (u) => {
    const sig = unary("sigmoid")(u);
    return { ...sig, logit: { sig, u } };
  },
  clamp: (x, lo, hi) => {
    const shape = broadcastAll([x.shape, lo.shape, hi.shape], "clamp");
    const out = emit(shape, [x, lo, hi], (re, im, err) => {
      const [ix, il, ih] = [x, lo, hi].map((a) => broadcastIndex(a.shape, shape));
      const n = re.length;
      return () => {
        for (let k = 0; k < n; k++) {
          const p = ix![k]!;
          const q = il![k]!;
          const s = ih![k]!;
          cclamp(x.re[p]!, x.im[p]!, lo.re[q]!, lo.im[q]!, hi.re[s]!, hi.im[s]!);
          re[k] = result[0];
          im[k] = result[1];
          // The imaginary part of one of the three passes through: the largest error covers it.
          err[k] = Math.max(x.err[p]!, lo.err[q]!, hi.err[s]!);
        }
      };
    });
    // A clamp of σ(u) keeps the logit where it passes σ(u) through (same shape only).
    return x.logit !== undefined && out.re.length === x.re.length
      ? { ...out, logit: x.logit }
      : out;
  },
};

/**
 * `noteLow` for element k of a custom op, Im = Σ_j ∂_j f·Im(a_j) (`partials`, those of its
 * arguments with Im ≠ 0 taken); `re` its real part.
 */
function noteLowCustom(
  args: readonly CNode[],
  idx: readonly Int32Array[],
  k: number,
  partials: readonly (OpPartial | undefined)[],
  re: number,
): void {
  let largest = 0;
  for (let j = 0; j < args.length; j++)
    largest = Math.max(largest, Math.abs(args[j]!.im[idx[j]![k]!]!));
  if (largest === 0) return;
  noteLow(largest, re, (e) => {
    let t = 0;
    for (let j = 0; j < args.length; j++) {
      const b = args[j]!.im[idx[j]![k]!]!;
      if (b !== 0) t += partials[j]!.d * times2(b, e);
    }
    return t;
  });
}

/**
 * Compiles `expr` for complex evaluation. Throws INVALID_ARGUMENT for custom ops (their forward
 * is a plain-number function), plus the usual UNKNOWN_VARIABLE / SHAPE errors.
 *
 * @example
 * ```ts
 * const p = compileComplex(parse("x^2"), new Map([["x", { offset: 0, shape: [] }]]));
 * p.run(Float64Array.of(3), Float64Array.of(1e-30));
 * p.output.im[0] / 1e-30; // 6
 * ```
 */
export function compileComplex(expr: Expr, layout: Layout): ComplexProgram {
  const loads: { offset: number; size: number; node: CNode }[] = [];
  /** Custom op nodes: the error of each element's Im, and ∂F/∂(element) from `prepareCustom`. */
  const customs: { node: CNode; size: number; errIm: Float64Array; sens: Float64Array }[] = [];
  const vars = new Map<string, CNode>();
  const algebra: Algebra<CNode> = {
    num: constNode,
    constant: (name) => constNode(CONSTANTS[name]),
    variable: (name) => {
      const known = vars.get(name);
      if (known !== undefined) return known;
      const slot = layout.get(name);
      if (slot === undefined)
        throw new GradtrioError("UNKNOWN_VARIABLE", `unknown variable '${name}'`);
      const size = sizeOfShape(slot.shape);
      // The step's imaginary parts are taken as exact (err 0).
      const node: CNode = {
        shape: slot.shape,
        re: new Float64Array(size),
        im: new Float64Array(size),
        err: new Float64Array(size),
        constant: false,
      };
      loads.push({ offset: slot.offset, size, node });
      vars.set(name, node);
      return node;
    },
    ops: OPS,
    custom: (def, args) => {
      if (isTensorOp(def)) {
        const node = tensorOpNode(def, args);
        customs.push({
          node: node.node,
          size: node.errIm.length,
          errIm: node.errIm,
          sens: node.sens,
        });
        return node.node;
      }
      const shape = broadcastAll(
        mapPacked(args, (a) => a.shape),
        def.name,
      );
      const size = sizeOfShape(shape);
      const forward = checkedForward(def);
      const m = args.length;
      const idx = mapPacked(args, (a) => broadcastIndex(a.shape, shape));
      // Per element: the real arguments the partials were taken at, and the partials (lazily).
      const at = mapPacked(args, () => new Float64Array(size).fill(NAN));
      const partials: (OpPartial | undefined)[][] = Array.from({ length: size }, () => []);
      const errIm = new Float64Array(size);
      const sens = new Float64Array(size);
      const argv = new Float64Array(m);
      const inDomain = insideDomain(def, forward);
      const node = emit(shape, args, (re, im, imErr) => () => {
        for (let k = 0; k < size; k++) {
          let moved = false;
          for (let j = 0; j < m; j++) {
            const v = args[j]!.re[idx[j]![k]!]!;
            argv[j] = v;
            if (!Object.is(v, at[j]![k])) moved = true;
          }
          if (moved) {
            for (let j = 0; j < m; j++) at[j]![k] = argv[j]!;
            partials[k] = [];
          }
          re[k] = applyForward(forward, argv);
          if (injected !== null && injected.node === node && injected.element === k) {
            im[k] = injected.value;
            errIm[k] = 0;
            imErr[k] = 0;
            continue;
          }
          // Im f(a + ib) = Σ_j ∂_j f(a)·b_j + O(b²); the arguments' Im errors arrive through
          // |∂_j f| (the partials' own error is `errIm`, carried to the output by `sens`).
          let s = 0;
          let terms = 0;
          let err = 0;
          let carried = 0;
          for (let j = 0; j < m; j++) {
            const b = args[j]!.im[idx[j]![k]!]!;
            const e = args[j]!.err[idx[j]![k]!]!;
            if (b === 0) {
              // An Im of 0 that is an error bound's width from 0: its partial for the bound only.
              if (e !== 0) {
                const p = (partials[k]![j] ??= customPartial(def, forward, inDomain, argv, j));
                if (Number.isFinite(p.d)) carried += Math.abs(p.d) * e;
              }
              continue;
            }
            const p = (partials[k]![j] ??= customPartial(def, forward, inDomain, argv, j));
            if (p.kink !== undefined) notAnalytic(p.kink);
            if (p.unreliable !== undefined) uncertified ??= p.unreliable;
            s += p.d * b;
            terms += Math.abs(p.d * b);
            err += p.error * Math.abs(b);
            carried += Math.abs(p.d) * e;
          }
          if (terms > worst[LARGEST]!) worst[LARGEST] = terms;
          im[k] = s;
          errIm[k] = err;
          imErr[k] = carried + 2 * EPS * terms;
          if (low(s)) noteLowCustom(args, idx, k, partials[k]!, re[k]!);
        }
      });
      customs.push({ node, size, errIm, sens });
      return node;
    },
  };

  const outer = compiling;
  compiling = [];
  // Constant subexpressions run now; whatever they flag does not depend on the point, and must not
  // reach a run this compile is nested in (a custom op's forward compiling a program of its own).
  const state = saveRunState();
  let output: CNode;
  let steps: (() => void)[];
  try {
    output = interpret(expr, algebra);
  } finally {
    steps = compiling;
    compiling = outer;
    restoreRunState(state);
  }
  let kink: string | null = null;
  let kinkAlongStep: string | null = null;
  let unreliable: string | null = null;
  let largest = 0;
  let lowest = Number.POSITIVE_INFINITY;
  const run = (re: Float64Array, im: Float64Array): void => {
    // A run nested in another (from a custom op's forward) keeps the outer run's findings.
    const outerState = saveRunState();
    nonAnalytic = null;
    alongStep = null;
    uncertified = null;
    worst[LARGEST] = 0;
    worst[LOWEST] = Number.POSITIVE_INFINITY;
    try {
      for (const { offset, size, node } of loads) {
        node.re.set(re.subarray(offset, offset + size));
        node.im.set(im.subarray(offset, offset + size));
      }
      for (const step of steps) step();
      kink = nonAnalytic;
      kinkAlongStep = alongStep;
      unreliable = uncertified;
      largest = worst[LARGEST]!;
      lowest = worst[LOWEST]!;
    } finally {
      restoreRunState(outerState);
    }
  };
  return {
    run,
    output: { shape: output.shape, re: output.re, im: output.im },
    kink: () => kink,
    kinkAlongStep: () => kinkAlongStep,
    largestIm: () => largest,
    imError: () => output.err[0]!,
    lowIm: () => lowest,
    customElements: customs.reduce((n, c) => n + c.size, 0),
    prepareCustom(re) {
      const zero = new Float64Array(re.length);
      for (const c of customs)
        for (let k = 0; k < c.size; k++) {
          injected = { node: c.node, element: k, value: INJECTED };
          try {
            run(re, zero);
          } finally {
            injected = null;
          }
          c.sens[k] = output.im[0]! / INJECTED;
        }
    },
    customError() {
      let e = 0;
      for (const c of customs)
        for (let k = 0; k < c.size; k++)
          if (c.errIm[k] !== 0) e += Math.abs(c.sens[k]!) * c.errIm[k]!;
      return e;
    },
    unreliable: () => unreliable,
  };
}

/** The imaginary part injected at a custom op element to measure ∂F/∂(element). */
const INJECTED = 2 ** -100;
