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
 * `unreliable`. Probes that see f change by a part of itself, as no smooth f or rounding does (a
 * pole within the steps), start the tableau again from the largest step that resolves f.
 */
import { GradtrioError, isIntegerIn } from "../errors.ts";
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
 * `RichardsonOptions` with every default filled in, as the extrapolation reads them: one V8 map
 * for all callers' options (their literals, `{}` and spread copies each had one of their own, and
 * the code reading them deopted as each new one came).
 */
interface Settings {
  readonly stencil: Stencil;
  readonly firstStep: number;
  readonly maxSteps: number;
  readonly noise: boolean;
}

function settings(stencil: Stencil, firstStep: number, maxSteps: number, noise: boolean): Settings {
  return { stencil, firstStep, maxSteps, noise };
}

/** A difference quotient at step h and the rounding error it carries. */
interface Quotient {
  readonly d: number;
  readonly rounding: number;
  readonly gp: number;
  readonly gm: number;
  /** The stencil point where f is not finite, if any. */
  readonly bad: "+h" | "-h" | undefined;
}

/** A `Quotient` that `quotientInto` overwrites: one per extrapolation, not one per step. */
class QuotientSlot implements Quotient {
  d = 0;
  rounding = 0;
  gp = 0;
  gm = 0;
  bad: "+h" | "-h" | undefined = undefined;
}

/** Most columns of the tableau: higher orders only amplify rounding. */
const MAX_ORDER = 8;
/** The spacings (h*·2^-k) at which `verify` probes the kept entry. */
const VERIFY_SPACINGS = [8, 16, 24] as const;

/**
 * The scratch space of one extrapolation, so that its steps allocate nothing: the quotient just
 * taken, two rows of the tableau, each row's plain quotient and rounding (for the convergence
 * test), the central stencils of the sequence being built, and `verify`'s three probes.
 */
class Workspace {
  readonly q = new QuotientSlot();
  prev = new Float64Array(MAX_ORDER + 1);
  cur = new Float64Array(MAX_ORDER + 1);
  plainD = new Float64Array(64);
  plainRounding = new Float64Array(64);
  /** (h, g(h), g(−h)) per row. */
  samples = new Float64Array(3 * 64);
  readonly probeD = new Float64Array(VERIFY_SPACINGS.length);
  readonly probeRounding = new Float64Array(VERIFY_SPACINGS.length);
  readonly probeNoise = new Float64Array(VERIFY_SPACINGS.length);
  readonly probeBad: ("+h" | "-h" | undefined)[] = VERIFY_SPACINGS.map(() => undefined);

  /** Room for row `row` (rows stop at maxSteps, which a caller may set high). */
  reserve(row: number): void {
    if (row < this.plainD.length) return;
    const grow = (a: Float64Array, size: number) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    const rows = 2 * this.plainD.length;
    this.plainD = grow(this.plainD, rows);
    this.plainRounding = grow(this.plainRounding, rows);
    this.samples = grow(this.samples, 3 * rows);
  }
}

/**
 * The workspace no extrapolation is using: the code is single-threaded, but f may itself
 * extrapolate (a user's op calling `richardson`); such a nested call gets a workspace of its own.
 */
let idle: Workspace | null = new Workspace();

/** No samples: one-sided stencils, sequences whose samples are not kept, no finite stencil. */
export const NO_SAMPLES = new Float64Array(0);

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
  q: QuotientSlot,
  scale = line.scale,
): Measured {
  // The finite |third differences| in the order of the spacings (at most three).
  let found = 0;
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  let size = Math.abs(line.g0);
  for (let k = 30; k <= 40; k += 5) {
    const third = probe(line, stencil, scale * 2 ** -k, q);
    if (Number.isFinite(third)) {
      const t = Math.abs(third);
      if (found === 0) t0 = t;
      else if (found === 1) t1 = t;
      else t2 = t;
      found++;
    }
    size = Math.max(size, Math.abs(stencil === "backward" ? q.gm : q.gp));
  }
  // Signal shrinks with δ (by 2^30 from 2^-30 to 2^-40 where f is smooth, 2^20 at a kink);
  // noise does not.
  const settled = found === 3 && t0 > 1e3 * t2;
  // The median of the three (the middle one, or the larger of two).
  const mid =
    found === 3
      ? Math.max(Math.min(t0, t1), Math.min(Math.max(t0, t1), t2))
      : found === 2
        ? Math.max(t0, t1)
        : t0;
  return { noise: found === 0 ? 0 : noiseOfThird(mid), size, settled };
}

/** The measured noise of f next to x (see `measuredNoise`). */
interface Measured {
  readonly noise: number;
  /** The largest |f| met by the probes. */
  readonly size: number;
  /** The probes' third differences shrank as signal does. */
  readonly settled: boolean;
}

/** Noise (≈ 3σ) from a third difference |Δ³| of values carrying independent noise σ (variance 20σ²). */
const noiseOfThird = (third: number): number => (3 * Math.abs(third)) / Math.sqrt(20);

/**
 * f next to x at spacing δ, 3 evaluations: the difference quotient at step δ (left in `q`) and
 * the third difference g(2δ) − 3g(δ) + 3g(0) − g(−δ) (one-sided stencils, all on the stencil's
 * side: g(3s) − 3g(2s) + 3g(s) − g(0), as the other side may be outside the domain), returned.
 */
function probe(line: Line, stencil: Stencil, d: number, q: QuotientSlot): number {
  quotientInto(line, stencil, d, q);
  if (stencil === "central") return line.at(2 * d) - 3 * q.gp + 3 * line.g0 - q.gm;
  const s = stencil === "backward" ? -d : d;
  const g1 = stencil === "backward" ? q.gm : q.gp;
  return line.at(3 * s) - 3 * line.at(2 * s) + 3 * g1 - line.g0;
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
  if (maxSteps !== undefined && !isIntegerIn(maxSteps, 2, Number.POSITIVE_INFINITY))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `${where}: maxSteps must be an integer ≥ 2 (one extrapolation needs two steps), got ${maxSteps}`,
    );
}

export interface LineEstimate extends Estimate {
  /**
   * The central stencils evaluated, largest step first, flat: (h, g(h), g(−h)) per step (empty
   * for one-sided stencils).
   */
  readonly samples: Float64Array;
}

/** The difference quotient at step h, in a `Quotient` of its own (`difference.ts`'s plain methods). */
export function quotient(line: Line, stencil: Stencil, h: number): Quotient {
  return quotientInto(line, stencil, h, new QuotientSlot());
}

/** `quotient`, written into `q` (returned). */
function quotientInto(line: Line, stencil: Stencil, h: number, q: QuotientSlot): QuotientSlot {
  const noise = NOISE * EPS;
  const g0 = line.g0;
  if (stencil === "central") {
    const gp = line.at(h);
    const gm = line.at(-h);
    const span = line.realized(h) - line.realized(-h);
    // D = (g(h) − g(−h)) / 2h; rounding ≈ η(|g(h)| + |g(−h)| + |x_i·D|) / 2h: f's own rounding,
    // and the rounding of its intermediates, which scales with x_i·f' rather than with f.
    const d = (gp - gm) / span;
    q.d = d;
    q.rounding =
      (noise * (Math.abs(gp) + Math.abs(gm)) + 2 * EPS * line.scale * Math.abs(d)) / Math.abs(span);
    q.gp = gp;
    q.gm = gm;
    q.bad = !Number.isFinite(gp) ? "+h" : !Number.isFinite(gm) ? "-h" : undefined;
    return q;
  }
  const s = stencil === "forward" ? h : -h;
  const g = line.at(s);
  const span = line.realized(s);
  // D = (g(±h) − g(0)) / ±h; rounding ≈ η(|g(±h)| + |g(0)| + |x_i·D|) / h.
  const d = (g - g0) / span;
  q.d = d;
  q.rounding =
    (noise * (Math.abs(g) + Math.abs(g0)) + 2 * EPS * line.scale * Math.abs(d)) / Math.abs(span);
  q.gp = stencil === "forward" ? g : g0;
  q.gm = stencil === "forward" ? g0 : g;
  q.bad = Number.isFinite(g) ? undefined : stencil === "forward" ? "+h" : "-h";
  return q;
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
 * returns a NaN derivative with `nonFinite` set when it never is. `withSamples` false leaves
 * `samples` empty, for a caller that does not look for kinks.
 */
export function extrapolateLine(
  line: Line,
  opts: RichardsonOptions = {},
  withSamples = true,
): LineEstimate {
  const ws = idle ?? new Workspace();
  idle = null;
  try {
    const s = settings(
      opts.stencil ?? "central",
      opts.firstStep ?? 0.25,
      opts.maxSteps ?? 40,
      opts.noise !== false,
    );
    return extrapolate(line, s, ws, withSamples);
  } finally {
    // Not in use any more (a nested call's own workspace serves the next call as well).
    idle = ws;
  }
}

function extrapolate(
  line: Line,
  opts: Settings,
  ws: Workspace,
  withSamples: boolean,
): LineEstimate {
  const stencil = opts.stencil;
  if (!opts.noise)
    return finish(
      line,
      sequences(line, opts, { noise: 0, size: 0, settled: true }, ws, withSamples),
    );
  let measured = measuredNoise(line, stencil, ws.q);
  let est = sequences(line, opts, measured, ws, withSamples);
  let restarted = false;
  for (let pass = 0; ; pass++) {
    if (!Number.isFinite(est.derivative) || est.unreliable !== undefined) return finish(line, est);
    const v = verify(line, stencil, est, measured.noise, ws);
    if (v.diverged !== null) return finish(line, { ...est, unreliable: v.diverged });
    const across = acrossZero(line, stencil, est, ws.q);
    if (across !== null) return finish(line, { ...est, unreliable: across });
    // f changes by a large part of itself within the probes far below the kept step (a pole
    // within the steps: 1/(x − 1e-9) at 2e-9, whose quotients at steps past the pole read
    // ≈ 1/h² and agree with each other): once more from a first step that resolves f.
    if (v.unresolved !== null) {
      const start = restarted ? null : resolvedSpacing(line, stencil, est.step, v, ws.q);
      if (start === null) return finish(line, { ...est, unreliable: v.unresolved });
      restarted = true;
      measured = measuredNoise(line, stencil, ws.q, start);
      const from = settings(stencil, start / line.scale, opts.maxSteps, opts.noise);
      est = sequences(line, from, measured, ws, withSamples);
      continue;
    }
    // f is noisier at the kept step's scale than the tableau assumed (a float64 staircase:
    // 650 + 343·sin(x⁹) rounds x⁹'s changes to ulps of 650, steps too coarse for the probes at
    // 2^-30…2^-40 of the scale): once more with that noise.
    const floor = Math.max(measured.noise, NOISE * EPS * Math.abs(line.g0));
    const rounding = v.noise / (stencil === "central" ? 2 * est.step : est.step);
    if (pass > 0 || !(v.noise > 2 * floor && rounding > est.error / 8)) return finish(line, est);
    const noisier = { noise: v.noise, size: measured.size, settled: measured.settled };
    est = sequences(line, opts, noisier, ws, withSamples);
  }
}

/**
 * A coordinate far smaller than the kept step (x = 1e-11, h* = 0.125): every step spans 0, where f
 * may have a pole (π/x) whose quotients the tableau takes for a derivative, consistently down to
 * `verify`'s probes. The central quotient at |x|/2 stays on x's side of 0: where it moves away
 * from the estimate beyond both their errors, the estimate is not f's derivative at x. Null
 * otherwise (or for a direction, or x = 0).
 */
function acrossZero(line: Line, stencil: Stencil, est: Sequence, q: QuotientSlot): string | null {
  const x = line.origin;
  if (stencil !== "central" || x === undefined || x === 0) return null;
  if (!(Math.abs(x) < est.step * 2 ** -20)) return null;
  const near = quotientInto(line, stencil, Math.abs(x) / 2, q);
  // A subnormal x: its half may not move it (0/0), and then it tells nothing.
  if (!Number.isFinite(near.d)) return null;
  if (Math.abs(near.d - est.derivative) <= 4 * (near.rounding + est.error)) return null;
  return `the steps (${est.step.toExponential(1)}) span 0 from x = ${x.toExponential(3)}, and at a step of |x|/2 the derivative reads ${near.d.toPrecision(6)}, not ${est.derivative.toPrecision(6)}: f changes near 0 faster than the steps resolve (a pole?)`;
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
  ws: Workspace,
): Verified {
  const { q, probeD, probeRounding, probeNoise, probeBad } = ws;
  let size = Math.abs(line.g0);
  for (let j = 0; j < VERIFY_SPACINGS.length; j++) {
    const third = probe(line, stencil, est.step * 2 ** -VERIFY_SPACINGS[j]!, q);
    probeNoise[j] = Number.isFinite(third) ? noiseOfThird(third) : 0;
    probeD[j] = q.d;
    probeRounding[j] = q.rounding;
    probeBad[j] = q.bad;
    if (j > 0) size = Math.max(size, Math.abs(q.gp), Math.abs(q.gm));
  }
  // A third difference that is a large part of f is signal, not rounding (f varies at that
  // spacing: a kink, or a pole the larger steps span): no part of the noise.
  const large = UNRESOLVED * size;
  const t1 = probeNoise[1]!;
  const t2 = probeNoise[2]!;
  const noise = Math.max(t1 > large ? 0 : t1, t2 > large ? 0 : t2);
  const signal = t1 > large || t2 > large;
  // From 2^-16 to 2^-24 of the step signal shrinks like δ³ (2^-24 times), a kink's like δ (2^-8),
  // and rounding noise stays far below |f|. Third differences as large as a part of f at both
  // spacings are none of these: f changes faster than the smallest probe resolves (a pole within
  // it). So does a value that is not finite there.
  const last = VERIFY_SPACINGS.length - 1;
  const bad = probeBad[last - 1] ?? probeBad[last];
  const unresolved =
    bad !== undefined
      ? `f is not finite within a step ${est.step * 2 ** -VERIFY_SPACINGS[last]!} of x (at ${bad} of a probe below the kept step ${est.step}): a pole or an edge inside the steps`
      : probeNoise[last]! > UNRESOLVED * size && probeNoise[last]! > probeNoise[last - 1]! * 2 ** -4
        ? `f changes by ${(probeNoise[last]! / size).toExponential(1)} of itself at a spacing of ${(est.step * 2 ** -VERIFY_SPACINGS[last]!).toExponential(1)}, far below the kept step ${est.step.toExponential(1)}: it varies faster than the steps resolve (a pole within them?)`
        : signal && movesAway(est, stencil, last, Math.max(floor, noise), ws)
          ? `f varies at a spacing of ${(est.step * 2 ** -VERIFY_SPACINGS[last]!).toExponential(1)} far below the kept step ${est.step.toExponential(1)}, and the difference quotient there moves away from the estimate ${est.derivative} (${probeD[last]!}): the steps span a pole?`
          : null;
  if (unresolved !== null) return { noise, diverged: null, unresolved, third: probeNoise[last]! };
  // The quotients at the two larger spacings.
  for (let j = 0; j < 2; j++) {
    if (probeBad[j] !== undefined) continue;
    const k = VERIFY_SPACINGS[j]!;
    const n = Math.max(floor, noise, j === 0 ? probeNoise[0]! : 0);
    if (movesAway(est, stencil, j, n, ws))
      return {
        noise,
        diverged: `the difference quotient at a step 2^${k} times smaller moves away from the estimate ${est.derivative} ± ${est.error.toExponential(1)} (${probeD[j]!} ± ${roundingOf(est, stencil, j, n, ws).toExponential(1)})`,
        unresolved: null,
        third: 0,
      };
  }
  return { noise, diverged: null, unresolved: null, third: 0 };
}

/** The rounding of `verify`'s probe j: its own, or f's noise `n` over its step. */
function roundingOf(est: Sequence, stencil: Stencil, j: number, n: number, ws: Workspace): number {
  const d = est.step * 2 ** -VERIFY_SPACINGS[j]!;
  return Math.max(ws.probeRounding[j]!, n / (stencil === "central" ? 2 * d : d));
}

/** Whether `verify`'s probe j moves away from the estimate beyond both (noise `n`). */
function movesAway(est: Sequence, stencil: Stencil, j: number, n: number, ws: Workspace): boolean {
  const allowed = Math.abs(est.plain - est.derivative) + est.error;
  return (
    Math.abs(ws.probeD[j]! - est.derivative) > 2 * allowed + 4 * roundingOf(est, stencil, j, n, ws)
  );
}

/** What `verify` found below the kept step. */
interface Verified {
  /** The noise of f its probes measured (third differences at 2^-16, 2^-24 of the step). */
  readonly noise: number;
  /** Why a probe's quotient moves away from the estimate, or null. */
  readonly diverged: string | null;
  /** Why the probes do not resolve f at all (checked first), or null. */
  readonly unresolved: string | null;
  /** With `unresolved`: the noise-like third difference at the smallest probe. */
  readonly third: number;
}

/**
 * The largest spacing below the smallest `verify` probe (step·2^-24), in steps of 4, at which f is
 * resolved: its third difference there is a small part of |f|, or has shrunk as signal does
 * (64× per step; 32× allowed) from the spacing before. Null where none is, down to 2^-60 of the
 * line's scale (or where a step no longer moves x).
 */
function resolvedSpacing(
  line: Line,
  stencil: Stencil,
  step: number,
  v: Verified,
  q: QuotientSlot,
): number | null {
  let before = v.third;
  for (let d = step * 2 ** -(VERIFY_SPACINGS[VERIFY_SPACINGS.length - 1]! + 2); ; d /= 4) {
    if (d < line.scale * 2 ** -60 || line.realized(d) === 0) return null;
    const third = probe(line, stencil, d, q);
    if (q.bad !== undefined || !Number.isFinite(third)) continue;
    const t = noiseOfThird(third);
    const size = Math.max(Math.abs(line.g0), Math.abs(q.gp), Math.abs(q.gm));
    if (t <= UNRESOLVED * size || t <= before / 32) return d;
    before = t;
  }
}

/** Two sequences that certify themselves and agree within their estimates. */
function agree(p: Sequence, q: Sequence): boolean {
  return (
    p.unreliable === undefined &&
    q.unreliable === undefined &&
    Math.abs(p.derivative - q.derivative) <= p.error + q.error
  );
}

/** The better of p and q, with the first sequence's (`a`'s) samples and first non-finite point. */
function pick(p: Sequence, q: Sequence, a: Sequence): Sequence {
  const best = q.error < p.error ? q : p;
  return {
    ...best,
    samples: a.samples,
    ...(a.nonFinite === undefined ? {} : { nonFinite: a.nonFinite }),
  };
}

/**
 * Two interleaved step sequences h₀·2^-k and h₀·2^-(k+½) that must agree within their estimates;
 * when they do not, a third (h₀·2^-(k+¼)) sides with one of them, or the result is unreliable.
 */
function sequences(
  line: Line,
  opts: Settings,
  measured: Measured,
  ws: Workspace,
  withSamples: boolean,
): Sequence {
  const noise = measured.noise;
  const first = opts.firstStep;
  // Only the first sequence's samples are kept (for kink detection).
  const a = tableau(line, opts, first, noise, ws, withSamples);
  if (!Number.isFinite(a.derivative)) return a;
  if (noise > UNRESOLVED * measured.size && !measured.settled)
    return {
      ...a,
      unreliable: `f is not resolved by float64 here: it moves by ${noise.toExponential(1)} (of ${measured.size.toExponential(1)}) at every spacing down to ${(line.scale * 2 ** -40).toExponential(1)}, as noise or faster than any step`,
    };
  const b = tableau(line, opts, first * Math.SQRT1_2, noise, ws, false);
  if (!Number.isFinite(b.derivative)) return a;
  if (agree(a, b)) return pick(a, b, a);
  // One sequence aliased (its steps hit a period: sin at x + 4π): a third decides.
  const c = tableau(line, opts, first * 2 ** -0.25, noise, ws, false);
  if (Number.isFinite(c.derivative)) {
    if (agree(a, c) && !agree(b, c)) return pick(a, c, a);
    if (agree(b, c) && !agree(a, c)) return pick(b, c, a);
  }
  // Neither can be trusted over the other: cover both, and say so.
  const best = pick(a, b, a);
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

/** A sequence that found no finite estimate. */
function failed(
  line: Line,
  stencil: Stencil,
  h: number,
  samples: Float64Array,
  nonFinite: NonFinite | undefined,
): Sequence {
  return {
    derivative: Number.NaN,
    plain: Number.NaN,
    error: Number.POSITIVE_INFINITY,
    step: h,
    stencil,
    evaluations: line.evaluations,
    samples,
    ...(nonFinite === undefined ? {} : { nonFinite }),
  };
}

/**
 * One Richardson sequence from h₀ = firstStep·scale, its rows in `ws`; its central stencils are
 * returned as `samples` when `keepSamples` (else none).
 */
function tableau(
  line: Line,
  opts: Settings,
  firstStep: number,
  noise: number,
  ws: Workspace,
  keepSamples: boolean,
): Sequence {
  const stencil = opts.stencil;
  const maxSteps = opts.maxSteps;
  const power = stencil === "central" ? 2 : 1;
  const start = line.scale * firstStep;
  const q = ws.q;
  if (!Number.isFinite(line.g0))
    return failed(line, stencil, 0, NO_SAMPLES, {
      coordinate: line.coordinate,
      step: 0,
      where: `f(x) = ${line.g0} at the point itself`,
    });

  // Halve the first step until every stencil point is finite (a log near 0, exp overflow).
  let h = start;
  let first: NonFinite | undefined;
  quotientInto(line, stencil, h, q);
  for (let shrink = 0; q.bad !== undefined; shrink++) {
    first ??= nonFiniteAt(line, h, q.bad, q.bad === "+h" ? q.gp : q.gm);
    if (shrink >= 36) return failed(line, stencil, h, NO_SAMPLES, first);
    h /= 2;
    quotientInto(line, stencil, h, q);
  }

  // Row r's entries T[r][0…] go to `cur`, the previous row's are in `prev` (prevLength of them).
  let prev = ws.prev;
  let cur = ws.cur;
  let prevLength = 0;
  // The entry with the smallest error estimate so far, and the step and row it came from.
  let bestD = q.d;
  let bestError = Number.POSITIVE_INFINITY;
  let bestH = h;
  let bestRow = 0;
  // Rows evaluated: each one's plain quotient and rounding (ws.plainD, ws.plainRounding), for the
  // convergence test below.
  let rows = 0;
  let past = 0;
  for (let row = 0; row < maxSteps; row++) {
    if (row > 0) {
      h /= RATIO;
      quotientInto(line, stencil, h, q);
      if (q.bad !== undefined) {
        first ??= nonFiniteAt(line, h, q.bad, q.bad === "+h" ? q.gp : q.gm);
        break;
      }
    }
    ws.reserve(row);
    if (stencil === "central" && keepSamples) {
      ws.samples[3 * row] = h;
      ws.samples[3 * row + 1] = q.gp;
      ws.samples[3 * row + 2] = q.gm;
    }
    const rounding = Math.max(q.rounding, noise / (power === 2 ? 2 * h : h));
    ws.plainD[row] = q.d;
    ws.plainRounding[row] = rounding;
    rows = row + 1;
    // Every entry from this step on carries at least this much rounding: none can do better.
    // Two more plain quotients still feed the convergence test (a best entry just before the
    // stop would otherwise go untested).
    if (past > 0 || rounding > bestError) {
      if (++past >= 3) break;
      continue;
    }
    cur[0] = q.d;
    let amp = 1;
    const order = Math.min(row, MAX_ORDER);
    for (let k = 1; k <= order; k++) {
      const fac = RATIO ** (power * k);
      // T[r][k] = T[r][k−1] + (T[r][k−1] − T[r−1][k−1]) / (ratio^(p·k) − 1)
      const t = cur[k - 1]! + (cur[k - 1]! - prev[k - 1]!) / (fac - 1);
      cur[k] = t;
      // Sum of |weights| of the extrapolation: how much it amplifies rounding.
      amp *= (fac + 1) / (fac - 1);
      // Its distance to the entries it came from, and to the same order one step larger
      // (two garbage estimates from too-large steps rarely agree three ways).
      const same = k < prevLength ? Math.abs(t - prev[k]!) : 0;
      const trunc = Math.max(Math.abs(t - cur[k - 1]!), Math.abs(t - prev[k - 1]!), same);
      const err = SAFE * trunc + amp * rounding + 2 * EPS * Math.abs(t);
      if (err < bestError) {
        bestD = t;
        bestError = err;
        bestH = h;
        bestRow = row;
      }
    }
    // This row is the next one's previous row.
    const swap = prev;
    prev = cur;
    cur = swap;
    prevLength = order + 1;
  }
  const samples = stencil === "central" && keepSamples ? ws.samples.slice(0, 3 * rows) : NO_SAMPLES;
  if (bestError === Number.POSITIVE_INFINITY) return failed(line, stencil, h, samples, first);
  const diverged = divergence(ws, rows, bestD, bestError, bestRow);
  const kept: Sequence = {
    derivative: bestD,
    plain: ws.plainD[bestRow]!,
    error: bestError,
    step: bestH,
    stencil,
    evaluations: line.evaluations,
    samples,
  };
  if (first === undefined && diverged === null) return kept;
  return {
    ...kept,
    ...(first === undefined ? {} : { nonFinite: first }),
    ...(diverged === null ? {} : { unreliable: diverged }),
  };
}

/**
 * The convergence test of a kept entry (value d, error, from row `row` of `rows`): where the
 * steps resolve f, a plain quotient at a smaller step is no farther from the limit than the one
 * at the kept step, up to its rounding. A quotient that moves away means the kept entry came from
 * steps that do not resolve f (entries that agree by accident, or f varying below every step
 * tried): it is not certified.
 */
function divergence(
  ws: Workspace,
  rows: number,
  d: number,
  error: number,
  row: number,
): string | null {
  const allowed = Math.abs(ws.plainD[row]! - d) + error;
  for (let r = row + 1; r < rows; r++) {
    const p = ws.plainD[r]!;
    if (Math.abs(p - d) > 2 * allowed + 4 * ws.plainRounding[r]!)
      return `a difference quotient at a smaller step moves away from the estimate ${d} ± ${error.toExponential(1)} (${p}, ${r - row} halvings further)`;
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
    false,
  );
  return estimate;
}
