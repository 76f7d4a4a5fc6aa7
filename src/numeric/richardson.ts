/**
 * Richardson extrapolation of difference quotients over a geometric sequence of steps
 * h, h/2, h/4, … (a Neville tableau, as in Ridders' method, numdifftools and
 * FiniteDifferences.jl). Each tableau entry gets an error estimate: the larger of its distances to
 * the two entries it was built from (truncation), times a safety factor, plus the rounding error of
 * f amplified by the step and by the extrapolation weights. The entry with the smallest estimate is
 * kept (a step-size search over the whole sequence); the sequence stops only once the rounding of
 * a single quotient exceeds the best estimate, since no smaller step can beat it then.
 *
 * A function that varies faster than the first steps can resolve (sin(x) at x = 700 from
 * h = 175) gives aliased entries that may agree with each other by accident: such an estimate is
 * not a bound. So every estimate comes from two independent sequences whose steps interleave
 * (h₀·2^-k and h₀·2^-(k+½)); accidental agreement does not repeat at other steps. When the two
 * disagree beyond their estimates a third (h₀·2^-(k+¼)) sides with one of them, or the result is
 * marked `unreliable`. The kept estimate is then probed far below its step (`verify`): noise
 * there that the tableau did not assume re-runs it, and a quotient that moves away marks it
 * `unreliable`.
 */
import { GradtrioError } from "../errors.ts";
import { checkIndex, checkPoint, coordinateLine, type Line } from "./line.ts";
import type { Estimate, NonFinite, ScalarFn, Stencil } from "./types.ts";

const EPS = Number.EPSILON;
/** Assumed relative noise of one evaluation of f, in units of eps. */
export const NOISE = 8;
/** Factor on the tableau differences: they measure the error of the lower-order neighbour. */
const SAFE = 2;
const RATIO = 2;

export interface RichardsonOptions {
  /** central (error in h², h⁴, …) or one-sided (error in h, h², …). Default central. */
  readonly stencil?: Stencil;
  /** First (largest) step, relative to max(1, |x_i|). Default 1/4. */
  readonly firstStep?: number;
  /** Most tableau rows (steps) of each sequence. Default 40 (the rounding stop comes first). */
  readonly maxSteps?: number;
  /** f(x) when already known. */
  readonly f0?: number;
  /** Measure the noise of f next to x (3 more evaluations); default true. */
  readonly noise?: boolean;
}

/**
 * The rounding noise of f next to x, measured: at a spacing δ the third difference
 * f(x+2δ) − 3f(x+δ) + 3f(x) − f(x−δ) (one-sided stencils: f(x±3δ) − 3f(x±2δ) + 3f(x±δ) − f(x))
 * is noise (variance 20σ²) plus δ³f''', which shrinks 8× per halving of δ while the noise does
 * not. The median over δ = 2^-30, 2^-35, 2^-40 of the scale (spacings far below any step the
 * tableau needs) keeps a function that varies faster than a single δ from passing its signal off
 * as noise. Catches noise far above eps·|f| (log(1−p) for p near 1 amplifies it by 1/(1−p)).
 * One sample per spacing: a floor under the modelled rounding, never the only term.
 */
function measuredNoise(
  line: Line,
  stencil: Stencil,
): { noise: number; size: number; settled: boolean } {
  const thirds: number[] = [];
  let size = Math.abs(line.g0);
  for (const k of [30, 35, 40]) {
    const { q, third } = probe(line, stencil, line.scale * 2 ** -k);
    if (Number.isFinite(third)) thirds.push(Math.abs(third));
    size = Math.max(size, Math.abs(stencil === "backward" ? q.gm : q.gp));
  }
  // Signal shrinks with δ (by 2^30 from 2^-30 to 2^-40 where f is smooth, 2^20 at a kink);
  // noise does not.
  const settled = thirds.length === 3 && thirds[0]! > 1e3 * thirds[2]!;
  thirds.sort((a, b) => a - b);
  // The median of the three (the middle one, or the larger of two).
  const mid = thirds[Math.min(1, thirds.length - 1)];
  return { noise: mid === undefined ? 0 : noiseOfThird(mid), size, settled };
}

/** Noise (≈ 3σ) from a third difference |Δ³| of values carrying independent noise σ (variance 20σ²). */
const noiseOfThird = (third: number): number => (3 * Math.abs(third)) / Math.sqrt(20);

/**
 * f next to x at spacing δ, 3 evaluations: the difference quotient at step δ and the third
 * difference g(2δ) − 3g(δ) + 3g(0) − g(−δ) (one-sided stencils, all on the stencil's side:
 * g(3s) − 3g(2s) + 3g(s) − g(0), as the other side may be outside the domain).
 */
function probe(line: Line, stencil: Stencil, d: number): { q: Quotient; third: number } {
  const q = quotient(line, stencil, d);
  if (stencil === "central") return { q, third: line.at(2 * d) - 3 * q.gp + 3 * line.g0 - q.gm };
  const s = stencil === "backward" ? -d : d;
  const g1 = stencil === "backward" ? q.gm : q.gp;
  return { q, third: line.at(3 * s) - 3 * line.at(2 * s) + 3 * g1 - line.g0 };
}

/**
 * Noise above this fraction of |f| at every spacing down to 2^-40 of the scale: f varies below
 * what float64 resolves (or is noise), and no difference quotient can certify a derivative.
 */
const UNRESOLVED = 1e-5;

const STENCILS: readonly Stencil[] = ["central", "forward", "backward"];

/** Throws INVALID_ARGUMENT for a stencil that is not one of the three. */
function checkStencil(stencil: unknown, where: string): void {
  if (!STENCILS.includes(stencil as Stencil))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `${where}: unknown stencil '${String(stencil)}' (${STENCILS.join(", ")})`,
    );
}

/** Throws INVALID_ARGUMENT for options no tableau can be built from. */
function checkRichardsonOptions(opts: RichardsonOptions, where: string): void {
  if (opts.stencil !== undefined) checkStencil(opts.stencil, where);
  const { firstStep, maxSteps } = opts;
  if (firstStep !== undefined && !(Number.isFinite(firstStep) && firstStep > 0))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `${where}: firstStep must be a finite number > 0, got ${firstStep}`,
    );
  if (maxSteps !== undefined && !(Number.isInteger(maxSteps) && maxSteps >= 2))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `${where}: maxSteps must be an integer ≥ 2 (one extrapolation needs two steps), got ${maxSteps}`,
    );
}

/** One stencil evaluation kept for kink detection. */
export interface Sample {
  readonly h: number;
  readonly gp: number;
  readonly gm: number;
}

export interface LineEstimate extends Estimate {
  /** The central stencils evaluated, largest step first (empty for one-sided stencils). */
  readonly samples: readonly Sample[];
}

/** A difference quotient at step h and the rounding error it carries. */
interface Quotient {
  readonly d: number;
  readonly rounding: number;
  readonly gp: number;
  readonly gm: number;
  readonly bad?: string;
}

export function quotient(line: Line, stencil: Stencil, h: number): Quotient {
  const noise = NOISE * EPS;
  const g0 = line.g0;
  if (stencil === "central") {
    const gp = line.at(h);
    const gm = line.at(-h);
    const span = line.realized(h) - line.realized(-h);
    const bad = !Number.isFinite(gp) ? `+h` : !Number.isFinite(gm) ? `-h` : undefined;
    // D = (g(h) − g(−h)) / 2h; rounding ≈ η(|g(h)| + |g(−h)| + |x_i·D|) / 2h: f's own rounding,
    // and the rounding of its intermediates, which scales with x_i·f' rather than with f.
    const d = (gp - gm) / span;
    return {
      d,
      rounding:
        (noise * (Math.abs(gp) + Math.abs(gm)) + 2 * EPS * line.scale * Math.abs(d)) /
        Math.abs(span),
      gp,
      gm,
      ...(bad === undefined ? {} : { bad }),
    };
  }
  const s = stencil === "forward" ? h : -h;
  const g = line.at(s);
  const span = line.realized(s);
  // D = (g(±h) − g(0)) / ±h; rounding ≈ η(|g(±h)| + |g(0)| + |x_i·D|) / h.
  const d = (g - g0) / span;
  return {
    d,
    rounding:
      (noise * (Math.abs(g) + Math.abs(g0)) + 2 * EPS * line.scale * Math.abs(d)) / Math.abs(span),
    gp: stencil === "forward" ? g : g0,
    gm: stencil === "forward" ? g0 : g,
    ...(Number.isFinite(g) ? {} : { bad: stencil === "forward" ? "+h" : "-h" }),
  };
}

export function nonFiniteAt(line: Line, h: number, side: string, value: number): NonFinite {
  const sign = side === "+h" ? "+" : "−";
  const where =
    line.coordinate >= 0
      ? `f(x ${sign} h·e_${line.coordinate}) = ${value} with h = ${h}`
      : `f(x ${sign} h·u) = ${value} with h = ${h}`;
  return { coordinate: line.coordinate, step: h, where };
}

/**
 * Richardson extrapolation along a line; the workhorse behind `richardson`, `gradient` and
 * `directionalDerivative`. Shrinks the first step until the stencil is finite (domain edges);
 * returns a NaN derivative with `nonFinite` set when it never is.
 */
export function extrapolateLine(line: Line, opts: RichardsonOptions = {}): LineEstimate {
  const stencil = opts.stencil ?? "central";
  if (opts.noise === false)
    return finish(line, sequences(line, opts, { noise: 0, size: 0, settled: true }));
  const measured = measuredNoise(line, stencil);
  let est = sequences(line, opts, measured);
  for (let pass = 0; ; pass++) {
    if (!Number.isFinite(est.derivative) || est.unreliable !== undefined) return finish(line, est);
    const v = verify(line, stencil, est, measured.noise);
    if (v.diverged !== null) return finish(line, { ...est, unreliable: v.diverged });
    // f is noisier at the kept step's scale than the tableau assumed (a float64 staircase:
    // 650 + 343·sin(x⁹) rounds x⁹'s changes to ulps of 650, steps too coarse for the probes at
    // 2^-30…2^-40 of the scale): once more with that noise.
    const floor = Math.max(measured.noise, NOISE * EPS * Math.abs(line.g0));
    const rounding = v.noise / (stencil === "central" ? 2 * est.step : est.step);
    if (pass > 0 || !(v.noise > 2 * floor && rounding > est.error / 8)) return finish(line, est);
    est = sequences(line, opts, { ...measured, noise: v.noise });
  }
}

/** A tableau's kept entry with the plain quotient at its step (for the convergence tests). */
interface Sequence extends LineEstimate {
  readonly plain: number;
}

function finish(line: Line, { plain: _, ...est }: Sequence): LineEstimate {
  return { ...est, evaluations: line.evaluations };
}

/**
 * The kept entry checked far below its step h*, at δ = h*·2^-8, 2^-16, 2^-24 (3 evaluations
 * each): the third differences there measure f's noise at the scale of the steps (no signal is
 * left in them: it shrinks like δ³), and a quotient at h*·2^-8 or 2^-16 that moves away from the
 * estimate beyond its rounding means the tableau never resolved f (aliased entries that agree by
 * accident: 2^(a^b) towers whose values pass 10⁷⁰ at large steps).
 */
function verify(
  line: Line,
  stencil: Stencil,
  est: Sequence,
  floor: number,
): { noise: number; diverged: string | null } {
  const probes = [8, 16, 24].map((k) => ({ k, ...probe(line, stencil, est.step * 2 ** -k) }));
  const noises = probes.map((p) => (Number.isFinite(p.third) ? noiseOfThird(p.third) : 0));
  const noise = Math.max(noises[1]!, noises[2]!);
  const allowed = Math.abs(est.plain - est.derivative) + est.error;
  for (const [j, { k, q }] of probes.slice(0, 2).entries()) {
    if (q.bad !== undefined) continue;
    const d = est.step * 2 ** -k;
    const n = Math.max(floor, noise, j === 0 ? noises[0]! : 0);
    const rounding = Math.max(q.rounding, n / (stencil === "central" ? 2 * d : d));
    if (Math.abs(q.d - est.derivative) > 2 * allowed + 4 * rounding)
      return {
        noise,
        diverged: `the difference quotient at a step 2^${k} times smaller moves away from the estimate ${est.derivative} ± ${est.error.toExponential(1)} (${q.d} ± ${rounding.toExponential(1)})`,
      };
  }
  return { noise, diverged: null };
}

/**
 * Two interleaved step sequences h₀·2^-k and h₀·2^-(k+½) that must agree within their estimates;
 * when they do not, a third (h₀·2^-(k+¼)) sides with one of them, or the result is unreliable.
 */
function sequences(
  line: Line,
  opts: RichardsonOptions,
  measured: { noise: number; size: number; settled: boolean },
): Sequence {
  const noise = measured.noise;
  const first = opts.firstStep ?? 0.25;
  const a = tableau(line, opts, first, noise);
  if (!Number.isFinite(a.derivative)) return a;
  if (noise > UNRESOLVED * measured.size && !measured.settled)
    return {
      ...a,
      unreliable: `f is not resolved by float64 here: it moves by ${noise.toExponential(1)} (of ${measured.size.toExponential(1)}) at every spacing down to ${(line.scale * 2 ** -40).toExponential(1)}, as noise or faster than any step`,
    };
  const b = tableau(line, opts, first * Math.SQRT1_2, noise);
  if (!Number.isFinite(b.derivative)) return a;
  // Two sequences that certify themselves and agree within their estimates.
  const agree = (p: Sequence, q: Sequence) =>
    p.unreliable === undefined &&
    q.unreliable === undefined &&
    Math.abs(p.derivative - q.derivative) <= p.error + q.error;
  // The better of two that agree, with the first sequence's samples and first non-finite point.
  const pick = (p: Sequence, q: Sequence): Sequence => {
    const best = q.error < p.error ? q : p;
    return {
      ...best,
      samples: a.samples,
      ...(a.nonFinite === undefined ? {} : { nonFinite: a.nonFinite }),
    };
  };
  if (agree(a, b)) return pick(a, b);
  // One sequence aliased (its steps hit a period: sin at x + 4π): a third decides.
  const c = tableau(line, opts, first * 2 ** -0.25, noise);
  if (Number.isFinite(c.derivative)) {
    if (agree(a, c) && !agree(b, c)) return pick(a, c);
    if (agree(b, c) && !agree(a, c)) return pick(b, c);
  }
  // Neither can be trusted over the other: cover both, and say so.
  const best = pick(a, b);
  const why =
    a.unreliable ??
    b.unreliable ??
    `independent step sequences disagree: ${a.derivative} ± ${a.error.toExponential(1)} (from h = ${a.step}) vs ${b.derivative} ± ${b.error.toExponential(1)} (from h = ${b.step})`;
  return {
    ...best,
    error: Math.max(a.error, b.error, Math.abs(a.derivative - b.derivative) + best.error),
    unreliable: why,
  };
}

/** Most columns of the tableau: higher orders only amplify rounding. */
const MAX_ORDER = 8;

/** One Richardson sequence from h₀ = firstStep·scale. */
function tableau(line: Line, opts: RichardsonOptions, firstStep: number, noise: number): Sequence {
  const stencil = opts.stencil ?? "central";
  const maxSteps = opts.maxSteps ?? 40;
  const power = stencil === "central" ? 2 : 1;
  const start = line.scale * firstStep;
  const samples: Sample[] = [];
  const fail = (nonFinite: NonFinite | undefined, h: number): Sequence => ({
    derivative: Number.NaN,
    plain: Number.NaN,
    error: Number.POSITIVE_INFINITY,
    step: h,
    stencil,
    evaluations: line.evaluations,
    samples,
    ...(nonFinite === undefined ? {} : { nonFinite }),
  });
  if (!Number.isFinite(line.g0))
    return fail(
      { coordinate: line.coordinate, step: 0, where: `f(x) = ${line.g0} at the point itself` },
      0,
    );

  // Halve the first step until every stencil point is finite (a log near 0, exp overflow).
  let h = start;
  let first: NonFinite | undefined;
  let q = quotient(line, stencil, h);
  for (let shrink = 0; q.bad !== undefined; shrink++) {
    first ??= nonFiniteAt(line, h, q.bad, q.bad === "+h" ? q.gp : q.gm);
    if (shrink >= 36) return fail(first, h);
    h /= 2;
    q = quotient(line, stencil, h);
  }

  let prev: number[] = [];
  let best = { d: q.d, error: Number.POSITIVE_INFINITY, h, row: 0 };
  // Each row's plain quotient and its rounding, for the convergence test below.
  const plain: { d: number; rounding: number }[] = [];
  let past = 0;
  for (let row = 0; row < maxSteps; row++) {
    if (row > 0) {
      h /= RATIO;
      q = quotient(line, stencil, h);
      if (q.bad !== undefined) {
        first ??= nonFiniteAt(line, h, q.bad, q.bad === "+h" ? q.gp : q.gm);
        break;
      }
    }
    if (stencil === "central") samples.push({ h, gp: q.gp, gm: q.gm });
    const rounding = Math.max(q.rounding, noise / (power === 2 ? 2 * h : h));
    plain.push({ d: q.d, rounding });
    // Every entry from this step on carries at least this much rounding: none can do better.
    // Two more plain quotients still feed the convergence test (a best entry just before the
    // stop would otherwise go untested).
    if (past > 0 || rounding > best.error) {
      if (++past >= 3) break;
      continue;
    }
    const cur = [q.d];
    let amp = 1;
    for (let k = 1; k <= Math.min(row, MAX_ORDER); k++) {
      const fac = RATIO ** (power * k);
      // T[r][k] = T[r][k−1] + (T[r][k−1] − T[r−1][k−1]) / (ratio^(p·k) − 1)
      const t = cur[k - 1]! + (cur[k - 1]! - prev[k - 1]!) / (fac - 1);
      cur.push(t);
      // Sum of |weights| of the extrapolation: how much it amplifies rounding.
      amp *= (fac + 1) / (fac - 1);
      // Its distance to the entries it came from, and to the same order one step larger
      // (two garbage estimates from too-large steps rarely agree three ways).
      const same = k < prev.length ? Math.abs(t - prev[k]!) : 0;
      const trunc = Math.max(Math.abs(t - cur[k - 1]!), Math.abs(t - prev[k - 1]!), same);
      const err = SAFE * trunc + amp * rounding + 2 * EPS * Math.abs(t);
      if (err < best.error) best = { d: t, error: err, h, row };
    }
    prev = cur;
  }
  if (best.error === Number.POSITIVE_INFINITY) return fail(first, h);
  const diverged = divergence(plain, best);
  return {
    derivative: best.d,
    plain: plain[best.row]!.d,
    error: best.error,
    step: best.h,
    stencil,
    evaluations: line.evaluations,
    samples,
    ...(first === undefined ? {} : { nonFinite: first }),
    ...(diverged === null ? {} : { unreliable: diverged }),
  };
}

/**
 * The convergence test of a kept entry: where the steps resolve f, a plain quotient at a smaller
 * step is no farther from the limit than the one at the kept step, up to its rounding. A quotient
 * that moves away means the kept entry came from steps that do not resolve f (entries that agree
 * by accident, or f varying below every step tried): it is not certified.
 */
function divergence(
  plain: readonly { d: number; rounding: number }[],
  best: { d: number; error: number; row: number },
): string | null {
  const at = plain[best.row];
  if (at === undefined) return null;
  const allowed = Math.abs(at.d - best.d) + best.error;
  for (let r = best.row + 1; r < plain.length; r++) {
    const p = plain[r]!;
    if (Math.abs(p.d - best.d) > 2 * allowed + 4 * p.rounding)
      return `a difference quotient at a smaller step moves away from the estimate ${best.d} ± ${best.error.toExponential(1)} (${p.d}, ${r - best.row} halvings further)`;
  }
  return null;
}

/**
 * Derivative of f along coordinate i by Richardson extrapolation, with an error estimate.
 *
 * @example
 * ```ts
 * const r = richardson((x) => Math.sin(x[0]! ** 2), Float64Array.of(3), 0);
 * r.derivative; // ≈ 6·cos(9) = -5.466781571308061, r.error ≈ 1e-13
 * ```
 */
export function richardson(
  f: ScalarFn,
  x: Float64Array,
  i: number,
  opts: RichardsonOptions = {},
): Estimate {
  checkPoint(x, "richardson");
  checkIndex(x, i, "richardson");
  checkRichardsonOptions(opts, "richardson");
  const { samples: _, ...estimate } = extrapolateLine(
    coordinateLine(f, x, i, x.slice(), opts.f0),
    opts,
  );
  return estimate;
}
