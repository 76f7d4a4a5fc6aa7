/**
 * The complex step: for f analytic at x, f(x + ih·e_k) = f(x) + ih·∂_k f(x) + O(h²), so
 * ∂_k f(x) = Im f(x + ih·e_k) / h with no subtraction, hence no cancellation: the step can be
 * tiny (h ≈ 1e-30) and the derivative is good to a few ulps. Applies when no piecewise op sits on
 * a breakpoint at the point. Custom ops (a real forward only) are carried in forward mode with
 * finite-difference partials of their own scalar function (see complex.ts); their error is added
 * to the estimate, and a partial that cannot certify itself makes the result `unreliable`.
 */
import { GradtrioError } from "../errors.ts";
import type { Expr } from "../expr/ast.ts";
import { branchesOf } from "../expr/ops.ts";
import type { ComplexProgram } from "./complex.ts";
import type { Layout } from "./evaluate.ts";
import { cachedComplex } from "./programs.ts";

const EPS = Number.EPSILON;
/**
 * 2^-100 ≈ 7.9e-31: the h² terms (relative h²·f'''/f') vanish below the ulp for any sane f, and
 * h·f' stays clear of underflow down to |f'| ≈ 1e-277 (with 1e-200, exp(-x)' at x = 600 underflows).
 */
const H = 2 ** -100;

export type ComplexStepResult =
  | {
      readonly ok: true;
      /** f(x) as the complex evaluation gives it (its real part). */
      readonly value: number;
      readonly gradient: Float64Array;
      /**
       * Rounding-level bound: ulps of the derivative, plus the rounding of each op's imaginary
       * part carried to the output through the ops after it (cancellation in sums and products,
       * ops near a singularity such as log1p near −1), plus the error of custom ops'
       * finite-difference partials. An estimate, not a proof: the real parts are taken as the
       * float64 evaluation gives them.
       */
      readonly error: Float64Array;
      readonly evaluations: number;
      /** Why a custom op's partial could not certify itself (the error covers it, if anything). */
      readonly unreliable?: string;
      /**
       * With `besideBreakpoints`: the coordinates along which the step is not analytic (it reaches
       * a piecewise op on its breakpoint: relu at 0 stepped through its argument). Their entries
       * are NaN, their errors infinite: finite differences must take them.
       */
      readonly notAnalytic?: readonly number[];
    }
  | { readonly ok: false; readonly reason: string };

/**
 * The breakpoint a piecewise op (abs, relu, clamp …: ops with `branches` in the catalogue) sits on at
 * the real point x, in words (`relu at 0`), or null: where the chain rule takes a convention, not
 * a derivative. Domain edges (log at 0) are not breakpoints.
 *
 * @example
 * ```ts
 * breakpointAt(parse("relu(x)*x"), new Map([["x", { offset: 0, shape: [] }]]), Float64Array.of(0)); // "relu at 0"
 * ```
 */
export function breakpointAt(expr: Expr, layout: Layout, x: Float64Array): string | null {
  const program = cachedComplex(expr, layout);
  program.run(x, new Float64Array(x.length));
  const kink = program.kink();
  // The complex kernels name the op first: "relu at 0", "clamp at its upper bound".
  const op = kink?.split(" ")[0] ?? "";
  return branchesOf(op) !== undefined ? kink : null;
}

/** The scale of coordinate value v the step is relative to: 1, or the power of two below a tiny |v|. */
function scaleOf(v: number): number {
  const a = Math.abs(v);
  return a >= 1 || a === 0 ? 1 : 2 ** Math.floor(Math.log2(a));
}

/** The step for coordinate value v: H, scaled down for tiny |v| so that h ≪ |v|. */
const stepFor = (v: number): number => Math.max(H * scaleOf(v), STEP_FLOOR);

/**
 * The largest step for coordinate value v, where imaginary parts below the normal range need a
 * larger one: 2^-40 of its scale (the h² terms, relative (h/|v|)² for a singularity at 0, stay
 * far below the ulp).
 */
const maxStepFor = (v: number): number => 2 ** -40 * scaleOf(v);

/** The smallest step: 20 bits above the smallest subnormal, far below any normal |v| (2^-1022). */
const STEP_FLOOR = 2 ** -1054;

/**
 * Imaginary parts that fell this far below the normal range (2^-1070: 4 bits or fewer left, none
 * below 2^-1075) hold no derivative worth a bound.
 */
const LOST = -1070;

function errorOf(d: number, p: ComplexProgram, h: number): number {
  // A few ulps of the derivative (the step's rounding, its division by h); the rounding of the
  // complex evaluation's imaginary parts, each op's carried to the output through the ops after
  // it (so a cancellation counts at the scale it reaches the output with, not at its own); and the
  // imaginary parts resolve nothing below the smallest subnormal, i.e. derivatives below
  // MIN_VALUE/h. An imaginary part below the normal range is good to 2^(-1075 - lowIm) relative
  // only (twice that here), and carries that through every op after it as an ulp does. Custom ops
  // add the error of their partials, carried to the output (twice: first order).
  const low = p.lowIm();
  const eps = low < -1022 ? EPS + 2 ** (-1074 - low) : EPS;
  return (
    16 * eps * Math.abs(d) +
    ((eps / EPS) * p.imError()) / h +
    (64 * Number.MIN_VALUE) / h +
    (2 * p.customError()) / h
  );
}

/** Imaginary parts above this somewhere in the program: the O(h²) term may show. */
const LARGE_IM = 1e-9;

/**
 * Im f(x + i·im)/h, im = h·(a direction). Where an intermediate's imaginary part fell below the
 * normal range (a tiny |x| makes h subnormal; a factor of 1e-300 on the way), the step is redone
 * larger, up to `maxStep`, until none does; where one still holds 4 bits or fewer, there is no
 * derivative (`underflow` says why). The step's truncation error, h²·f'''/6, is negligible
 * beside any derivative but a tiny one: where an intermediate's imaginary part grew large (a
 * derivative of 1e24 makes h·f' ≈ 1e-6, and sin(s + 1e-6i) is off by 1e-13 relative), or where
 * the derivative is below h itself (sin(x)·x² at 0 reads −h², not 0), the step is redone 2^-24
 * smaller and the change is added to the error. `im` is left as given.
 */
function derivativeAlong(
  program: ComplexProgram,
  x: Float64Array,
  given: Float64Array,
  step: number,
  maxStep: number,
): { d: number; error: number; underflow?: string } {
  let im = given;
  let h = step;
  program.run(x, im);
  if (program.lowIm() < -1022) {
    // The smallest 25 bits above the normal range (the truncation check below takes a step 2^24
    // times smaller), as far as the largest step allows.
    const grow = Math.min(Math.ceil(-997 - program.lowIm()), Math.floor(Math.log2(maxStep / h)));
    if (grow > 0) {
      h *= 2 ** grow;
      im = im.map((v) => v * 2 ** grow);
      program.run(x, im);
    }
    if (program.lowIm() < LOST)
      return {
        d: Number.NaN,
        error: Number.NaN,
        underflow: `an intermediate's imaginary part underflows (${Number.isFinite(program.lowIm()) ? `to 2^${Math.round(program.lowIm())}` : "to 0, its value too"} at a step of ${h.toExponential(1)}, the largest for this point): its derivative is too small for the step`,
      };
  }
  const d = program.output.im[0]! / h;
  if (h > maxStep) {
    // The floor is no step far below a subnormal coordinate (sqrt(x) at 4.3e-318 read 2.13e201
    // for 2.41e201): its O(h²) term shows against a step 16 times larger, and counts; and where
    // the step is not below the coordinate at all, a reading that moves with it is none.
    const error = errorOf(d, program, h);
    program.run(
      x,
      im.map((v) => v * 16),
    );
    const moved = Math.abs(program.output.im[0]! / (16 * h) - d);
    if (h * 16 > maxStep * 2 ** 40 && moved > error)
      return {
        d: Number.NaN,
        error: Number.NaN,
        underflow: `the smallest step, ${h.toExponential(1)}, is not below the coordinate, and the derivative moves with it (${d} at h, ${program.output.im[0]! / (16 * h)} at 16h)`,
      };
    return { d, error: error + moved };
  }
  if (!(program.largestIm() > LARGE_IM) && !(Math.abs(d) < h))
    return { d, error: errorOf(d, program, h) };
  const shrink = 2 ** -24;
  // Below the floor a smaller step resolves nothing (it would underflow: 0/0), and the O(h²)
  // term of so small a step is below every subnormal: the first reading stands.
  if (h * shrink < STEP_FLOOR) return { d, error: errorOf(d, program, h) };
  const small = im.map((v) => v * shrink);
  program.run(x, small);
  // A smaller step that underflows checks nothing (it read 0 for 1e147·e^-x at 705).
  if (program.lowIm() < LOST)
    return {
      d: Number.NaN,
      error: Number.NaN,
      underflow: `an intermediate's imaginary part underflows at the step 2^24 times smaller that checks the truncation of the step ${h.toExponential(1)}`,
    };
  const d2 = program.output.im[0]! / (h * shrink);
  return { d: d2, error: errorOf(d2, program, h * shrink) + Math.abs(d - d2) };
}

/**
 * Which call measured each program's custom op sensitivities last (`prepareCustom` keeps those of
 * one point, and a cached program serves every caller).
 */
const measuredBy = new WeakMap<ComplexProgram, object>();

function measure(program: ComplexProgram, x: Float64Array, by: object): void {
  program.prepareCustom(x);
  measuredBy.set(program, by);
}

/**
 * Why the complex step gives up on a value that is not finite: its complex evaluation's, which
 * may be NaN where the real f(x) is finite (sigmoid(exp(x)) at 710: exp's ∞ meets 0 in complex
 * arithmetic).
 */
const valueNotFinite = (value: number): string =>
  `complex step does not apply: f(x) in complex arithmetic is ${value} (an intermediate is not finite)`;

/**
 * ∇f(x) by the complex step: one complex evaluation per coordinate.
 * Returns `{ ok: false, reason }` when it does not apply (kink, domain edge, a derivative or
 * error that is not finite). `besideBreakpoints`: a piecewise op on its breakpoint leaves out only
 * the coordinates whose step reaches it (`notAnalytic`); along the others the function is
 * analytic (mean(relu(x)·x²) with one x[k] at 0: every coordinate but k). With `coordinates`,
 * only those are estimated (the others are left 0, with error 0).
 *
 * @example
 * ```ts
 * const r = complexStepGradient(parse("sin(x^2)"), new Map([["x", { offset: 0, shape: [] }]]), Float64Array.of(3));
 * r.ok && r.gradient[0]; // -5.466781571308061 (6·cos 9 to the last digit)
 * ```
 */
export function complexStepGradient(
  expr: Expr,
  layout: Layout,
  x: Float64Array,
  besideBreakpoints = false,
  coordinates?: readonly number[],
): ComplexStepResult {
  const program = cachedComplex(expr, layout);
  if (program.output.shape.length !== 0)
    throw new GradtrioError("NON_SCALAR", "complex step: the output must be a scalar");
  const n = x.length;
  const im = new Float64Array(n);
  program.run(x, im);
  const value = program.output.re[0]!;
  // With real arguments only, what remains along a step is no breakpoint (a domain edge, …).
  const at = besideBreakpoints ? program.kinkAlongStep() : program.kink();
  if (at !== null) return { ok: false, reason: `complex step does not apply: ${at}` };
  if (!Number.isFinite(value)) return { ok: false, reason: valueNotFinite(value) };
  if (program.customElements > 0) measure(program, x, {});
  const gradient = new Float64Array(n);
  const error = new Float64Array(n);
  let unreliable: string | undefined;
  const across: number[] = [];
  const count = coordinates?.length ?? n;
  for (let c = 0; c < count; c++) {
    const k = coordinates === undefined ? c : coordinates[c]!;
    const h = stepFor(x[k]!);
    im[k] = h;
    const { d, error: e, underflow } = derivativeAlong(program, x, im, h, maxStepFor(x[k]!));
    im[k] = 0;
    if (underflow !== undefined)
      return {
        ok: false,
        reason: `complex step does not apply along coordinate ${k}: ${underflow}`,
      };
    const kink = besideBreakpoints ? program.kinkAlongStep() : program.kink();
    if (kink !== null && besideBreakpoints) {
      across.push(k);
      gradient[k] = Number.NaN;
      error[k] = Number.POSITIVE_INFINITY;
      continue;
    }
    if (kink !== null) return { ok: false, reason: `complex step does not apply: ${kink}` };
    gradient[k] = d;
    error[k] = e;
    unreliable ??= program.unreliable() ?? undefined;
    // (−2)^y has a real value at y = 2 but none at 2 + ih: no derivative from this evaluation.
    if (!Number.isFinite(d) || !Number.isFinite(error[k]!))
      return {
        ok: false,
        reason: `complex step does not apply: its derivative along coordinate ${k} is ${d}`,
      };
  }
  return {
    ok: true,
    value,
    gradient,
    error,
    evaluations: count + 1,
    ...(unreliable === undefined ? {} : { unreliable }),
    ...(across.length === 0 ? {} : { notAnalytic: across }),
  };
}

/**
 * Custom op elements per direction beyond which the directional derivative leaves the complex
 * step: measuring their sensitivities takes an evaluation each, Richardson a dozen per direction.
 */
const MAX_CUSTOM_ELEMENTS = 256;

/** uᵀ∇f(x) by the complex step, or why not (`costly`: declined for its cost alone). */
export type DirectionalStep =
  | { ok: true; value: number; derivative: number; error: number; unreliable?: string }
  | { ok: false; reason: string; costly?: true };

/**
 * uᵀ∇f(x) along directions u at one point x, each by one complex evaluation at x + ih·u (forward
 * mode, in effect). One program serves every direction, and the custom ops' sensitivities
 * ∂f/∂(element), which their partials' error bound needs and which depend on x alone, are measured
 * once (an evaluation per element), by the first direction that runs: each direction then gives
 * the numbers a fresh measurement would. `directions`: how many the caller will take; past
 * MAX_CUSTOM_ELEMENTS custom op elements per direction the measurement costs more than Richardson
 * along each, and a direction is declined as `costly` until it is made (`whatever`: take the
 * complex step whatever it costs).
 *
 * @example
 * ```ts
 * const layout = new Map([["x", { offset: 0, shape: [2] }]]);
 * const along = complexStepAlong(parse("sum(x^2)"), layout, Float64Array.of(1, 2));
 * along(Float64Array.of(1, 0)); // { ok: true, derivative: 2, … }
 * along(Float64Array.of(0, 1)); // { ok: true, derivative: 4, … }
 * ```
 */
export function complexStepAlong(
  expr: Expr,
  layout: Layout,
  x: Float64Array,
  directions = 1,
): (u: Float64Array, whatever?: boolean) => DirectionalStep {
  const program = cachedComplex(expr, layout);
  if (program.output.shape.length !== 0)
    throw new GradtrioError("NON_SCALAR", "complex step: the output must be a scalar");
  const me = {};
  // Nothing to measure without custom ops; else this call's measurement, while no other replaced it.
  const measured = () => program.customElements === 0 || measuredBy.get(program) === me;
  const affordable = program.customElements <= MAX_CUSTOM_ELEMENTS * directions;
  // One buffer for every direction's h·u (10^6 elements: 8 MB of fresh pages a direction).
  let im: Float64Array | undefined;
  return (u, whatever = false) => {
    let umax = 0;
    let xmin = Number.POSITIVE_INFINITY;
    for (let k = 0; k < u.length; k++) {
      umax = Math.max(umax, Math.abs(u[k]!));
      if (u[k] !== 0) xmin = Math.min(xmin, Math.abs(x[k]!) || 1);
    }
    if (umax === 0) return { ok: true, value: Number.NaN, derivative: 0, error: 0 };
    if (!measured() && !affordable && !whatever)
      return {
        ok: false,
        costly: true,
        reason: `complex step not taken: ${program.customElements} custom op elements for ${directions} direction${directions === 1 ? "" : "s"} (bounding their partials' error takes an evaluation each, once for all directions: past ${MAX_CUSTOM_ELEMENTS} per direction Richardson costs less)`,
      };
    if (!measured()) measure(program, x, me);
    const h = stepFor(Math.min(1, xmin)) / umax;
    const maxStep = maxStepFor(Math.min(1, xmin)) / umax;
    if (im?.length !== u.length) im = new Float64Array(u.length);
    for (let k = 0; k < u.length; k++) im[k] = h * u[k]!;
    const { d, error, underflow } = derivativeAlong(program, x, im, h, maxStep);
    if (underflow !== undefined)
      return { ok: false, reason: `complex step does not apply along u: ${underflow}` };
    const kink = program.kink();
    if (kink !== null) return { ok: false, reason: `complex step does not apply: ${kink}` };
    const value = program.output.re[0]!;
    if (!Number.isFinite(value)) return { ok: false, reason: valueNotFinite(value) };
    if (!Number.isFinite(d) || !Number.isFinite(error))
      return { ok: false, reason: `complex step does not apply: its derivative along u is ${d}` };
    const unreliable = program.unreliable();
    return {
      ok: true,
      value,
      derivative: d,
      error,
      ...(unreliable === null ? {} : { unreliable }),
    };
  };
}
