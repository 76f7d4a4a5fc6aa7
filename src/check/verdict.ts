/**
 * The vote. Each comparison holds one quantity (a gradient element, or a directional derivative
 * in fast mode) as computed by up to three legs, with the error each leg's value may carry.
 * Two values agree when their difference is within the sum of their error bounds (plus the
 * user's rtol/atol). Two agreeing legs outvote the third.
 */
export type LegName = "symbolic" | "numeric" | "autograd";
export const LEGS: readonly LegName[] = ["symbolic", "numeric", "autograd"];

export interface Tolerance {
  /** Relative slack added to every comparison (on top of the error estimates). */
  readonly rtol: number;
  /** Absolute slack added to every comparison. */
  readonly atol: number;
}

/**
 * The default slack on top of the estimates is tiny: the error estimates carry the comparison.
 * rtol 1e-12 absorbs the last few ulps that first-order rounding bounds can miss.
 */
export const DEFAULT_TOLERANCE: Tolerance = { rtol: 1e-12, atol: 0 };

/**
 * How many times the finite-difference error estimate a difference may reach. The estimate is
 * honest (true error ≤ estimate) in ≥ 99% of points; 4× keeps false alarms rare while a planted
 * 1e-6 relative fault still stands 100× or more above a typical Richardson estimate.
 */
export const NUMERIC_SAFETY = 4;

export interface Comparison {
  /** What is compared, for people: "x", "x[2]", "A[1][0]", "uᵀ∇f". */
  readonly label: string;
  readonly symbolic: number | null;
  readonly autograd: number | null;
  readonly numeric: number | null;
  /** The finite-difference error estimate of `numeric`. */
  readonly numericError: number;
  /**
   * First-order rounding bound of each exact leg's value, from the expression's structure: the
   * arithmetic autograd does (src/check/rounding.ts).
   */
  readonly rounding: number;
  /**
   * The symbolic leg's own bound for evaluating its CAS formula, which may be arranged to cancel
   * where the expression does not (`x*(x-1)-x+1` for (1-x)²). The symbolic leg's bound is the
   * larger of the two.
   */
  readonly symbolicRounding?: number;
  /** Autograd's own bound when it computes in another precision (float32), instead of `rounding`. */
  readonly autogradRounding?: number;
  /**
   * The part of `autogradRounding` that float32's underflow adds: an agreement that needs it
   * cannot tell a fault from float32's range.
   */
  readonly autogradUnderflow?: number;
}

/** A comparison whose fields a caller fills in place: one element at a time, reusing one object. */
export type ComparisonProbe = { -readonly [K in keyof Comparison]: Comparison[K] };

/** An empty probe (no label, no leg values, zero error and rounding). */
export function comparisonProbe(): ComparisonProbe {
  return { label: "", symbolic: null, numeric: null, autograd: null, numericError: 0, rounding: 0 };
}

export interface Judgement {
  readonly verdict: "agree" | "disagree";
  readonly blame: LegName | null;
  readonly reason: string | null;
  /** The labels of every comparison that failed, in order. */
  readonly failing: readonly string[];
  /**
   * The reference legs outvoted by the two others, when no other failure contradicts autograd:
   * `[blame]` for one reference, both when the CAS is outvoted in one element and the finite
   * differences in another (then `blame` is null, yet autograd is confirmed in every element).
   */
  readonly outvoted: readonly ("symbolic" | "numeric")[];
  /** The comparison that failed worst (largest difference over tolerance), if any failed. */
  readonly worst: {
    label: string;
    pair: [LegName, LegName];
    difference: number;
    tolerance: number;
  } | null;
}

/** Error bound of one leg's value in a comparison. */
function bound(c: Comparison, leg: LegName): number {
  if (leg === "numeric") return NUMERIC_SAFETY * c.numericError;
  if (leg === "symbolic" && c.symbolicRounding !== undefined)
    return Math.max(c.rounding, c.symbolicRounding);
  if (leg === "autograd" && c.autogradRounding !== undefined) return c.autogradRounding;
  return c.rounding;
}

/**
 * The larger finite magnitude of two values: the scale of a relative tolerance or of a rounding
 * bound. A NaN or ±Infinity from one leg must neither widen nor poison the other's tolerance.
 */
export function finiteMagnitude(u: number, v = 0): number {
  const a = Number.isFinite(u) ? Math.abs(u) : 0;
  const b = Number.isFinite(v) ? Math.abs(v) : 0;
  return Math.max(a, b);
}

/** The tolerance of the pair (p, q) at `c`: their error bounds plus the user's slack. */
export function pairTolerance(c: Comparison, p: LegName, q: LegName, tol: Tolerance): number {
  return bound(c, p) + bound(c, q) + tol.rtol * finiteMagnitude(c[p]!, c[q]!) + tol.atol;
}

/**
 * Whether legs p and q agree at `c`: both values finite, their difference within the pair's
 * tolerance. A NaN or ±Infinity agrees with nothing, not even an equal infinity: a finite
 * gradient is outvoted by it or outvotes it, and a singularity is a rule of its own (check.ts).
 */
export function pairAgrees(c: Comparison, p: LegName, q: LegName, tol: Tolerance): boolean {
  const u = c[p]!;
  const v = c[q]!;
  return Number.isFinite(u) && Number.isFinite(v) && Math.abs(u - v) <= pairTolerance(c, p, q, tol);
}

/**
 * Whether every pair of the legs present in `c` agrees. Then `judge` finds nothing at `c`; and
 * since every tolerance grows with `c.rounding` and `c.symbolicRounding`, a comparison that
 * passes with rounding 0 passes with any rounding bounds, so the checker only computes bounds
 * where this fails.
 */
export function allPairsAgree(c: Comparison, tol: Tolerance): boolean {
  const s = c.symbolic !== null;
  const n = c.numeric !== null;
  const a = c.autograd !== null;
  return (
    (!s || !n || pairAgrees(c, "symbolic", "numeric", tol)) &&
    (!s || !a || pairAgrees(c, "symbolic", "autograd", tol)) &&
    (!n || !a || pairAgrees(c, "numeric", "autograd", tol))
  );
}

interface PairResult {
  pair: [LegName, LegName];
  ok: boolean;
  difference: number;
  tolerance: number;
}

function pairs(c: Comparison, tol: Tolerance): PairResult[] {
  const present = LEGS.filter((l) => c[l] !== null);
  const out: PairResult[] = [];
  for (let i = 0; i < present.length; i++)
    for (let j = i + 1; j < present.length; j++) {
      const p = present[i]!;
      const q = present[j]!;
      const difference = Math.abs(c[p]! - c[q]!);
      const tolerance = pairTolerance(c, p, q, tol);
      out.push({ pair: [p, q], ok: pairAgrees(c, p, q, tol), difference, tolerance });
    }
  return out;
}

type Outcome = { ok: true } | { ok: false; blame: LegName | null; why: string; worst: PairResult };

/** 12 significant digits, trailing zeros of the mantissa dropped (7.06508319182e-10 keeps its 0). */
export function fmt(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const [m, e] = x.toPrecision(12).split("e") as [string, string | undefined];
  const mantissa = m.includes(".") ? m.replace(/\.?0+$/, "") : m;
  return e === undefined ? mantissa : `${mantissa}e${e}`;
}

/** Why a reference leg that the two others outvote is wrong at `c`, for people. */
function outvotedCause(c: Comparison, leg: "symbolic" | "numeric"): string {
  const v = c[leg]!;
  const a = c.autograd!;
  const which = leg === "symbolic" ? "the CAS" : "the finite differences";
  const notYours = `a defect of ${which}, not of the code under test`;
  if (!Number.isFinite(v)) return `not finite where the function and its gradient are: ${notYours}`;
  if (
    v !== 0 &&
    Math.sign(v) === -Math.sign(a) &&
    Math.abs(v + a) <= pairTolerance(c, leg, "autograd", DEFAULT_TOLERANCE) + 1e-9 * Math.abs(a)
  )
    return `the opposite sign: ${notYours}`;
  if (leg === "numeric")
    return `off by more than ${NUMERIC_SAFETY}× its own error estimate (± ${c.numericError.toExponential(1)}): the finite differences are wrong here, or a custom op's forward is not the function its formula and backward rule differentiate`;
  return notYours;
}

function judgeOne(c: Comparison, tol: Tolerance): Outcome {
  const ps = pairs(c, tol);
  const failed = ps.filter((p) => !p.ok);
  if (failed.length === 0) return { ok: true };
  const worst = failed.reduce((a, b) =>
    b.difference / b.tolerance > a.difference / a.tolerance ? b : a,
  );
  if (ps.length === 1) {
    const [p, q] = worst.pair;
    return {
      ok: false,
      blame: null,
      worst,
      why: `${p} and ${q} differ at ${c.label}: ${fmt(c[p]!)} vs ${fmt(c[q]!)} (tolerance ${worst.tolerance.toExponential(1)}); with only two legs there is no majority`,
    };
  }
  // Three legs: the odd one out is the leg in every failed pair while the other pair agrees.
  for (const leg of LEGS) {
    const others = LEGS.filter((l) => l !== leg) as [LegName, LegName];
    const othersAgree = ps.some(
      (p) => p.ok && p.pair.includes(others[0]) && p.pair.includes(others[1]),
    );
    const legFails = failed.every((p) => p.pair.includes(leg));
    if (!othersAgree || !legFails) continue;
    if (failed.length === 1 && leg === "numeric") return { ok: true }; // exact legs agree tightly
    if (failed.length === 1) {
      // The odd leg agrees with the numeric leg but not with the other exact leg: numeric is too
      // imprecise to tell which exact leg is right.
      const other = others.find((o) => o !== "numeric")!;
      if (others.includes("numeric"))
        return {
          ok: false,
          blame: null,
          worst,
          why: `${leg} and ${other} differ at ${c.label}: ${fmt(c[leg]!)} vs ${fmt(c[other]!)}, and the numeric estimate ${fmt(c.numeric!)} ± ${c.numericError.toExponential(1)} cannot tell which is right`,
        };
    }
    const why = `${leg} gives ${fmt(c[leg]!)} at ${c.label} where ${others[0]} gives ${fmt(c[others[0]]!)} and ${others[1]} gives ${fmt(c[others[1]]!)}`;
    return {
      ok: false,
      blame: leg,
      worst,
      why: leg === "autograd" ? why : `${leg} is outvoted: ${why} — ${outvotedCause(c, leg)}`,
    };
  }
  return {
    ok: false,
    blame: null,
    worst,
    why: `all three legs differ at ${c.label}: symbolic ${fmt(c.symbolic!)}, numeric ${fmt(c.numeric!)}, autograd ${fmt(c.autograd!)}`,
  };
}

/**
 * Judges every comparison. Disagreement anywhere makes the verdict `disagree`; the blame is the
 * one leg L outvoted in every failed three-leg comparison, provided every failed two-leg
 * comparison involves L; else null.
 *
 * @example
 * judge([{ label: "x", symbolic: 6, numeric: 6.000000000001, numericError: 1e-11,
 *          autograd: 6.5, rounding: 1e-15 }]).blame // "autograd"
 */
export function judge(
  comparisons: readonly Comparison[],
  tol: Tolerance = DEFAULT_TOLERANCE,
): Judgement {
  type Failure = Outcome & { ok: false; label: string; threeLegs: boolean };
  const failures: Failure[] = [];
  for (const c of comparisons) {
    const o = judgeOne(c, tol);
    // One literal, not `{ ...o, label, threeLegs }`: V8 adds keys to a spread object slowly.
    if (!o.ok)
      failures.push({
        ok: false,
        blame: o.blame,
        why: o.why,
        worst: o.worst,
        label: c.label,
        threeLegs: c.symbolic !== null && c.numeric !== null && c.autograd !== null,
      });
  }
  if (failures.length === 0)
    return { verdict: "agree", blame: null, reason: null, failing: [], outvoted: [], worst: null };
  const byRatio = (a: Failure, b: Failure): Failure =>
    b.worst.difference / b.worst.tolerance > a.worst.difference / a.worst.tolerance ? b : a;
  // The three-leg failures must outvote one and the same leg L; a two-leg failure has no
  // majority of its own but is consistent with L when L is one of its pair (fast mode: the
  // elements compare symbolic with autograd only, uᵀ∇f compares all three).
  const three = failures.filter((f) => f.threeLegs);
  const blamed = new Set(three.map((f) => f.blame));
  const candidate = three.length > 0 && blamed.size === 1 ? [...blamed][0]! : null;
  const blame =
    candidate !== null && failures.every((f) => f.threeLegs || f.worst.pair.includes(candidate))
      ? candidate
      : null;
  const worst = failures.reduce(byRatio);
  // Each failure outvotes a reference leg, not always the same one: autograd is confirmed in
  // every element all the same, and the reason names each outvoted reference.
  const references = (["symbolic", "numeric"] as const).filter((l) => blamed.has(l));
  const outvoted =
    blame === "symbolic" || blame === "numeric"
      ? [blame]
      : blame === null && failures.length === three.length && references.length === blamed.size
        ? references
        : [];
  // When a leg is blamed, the reason is the comparison that outvotes it, not a two-leg one.
  const shown = blame !== null && !worst.threeLegs ? three.reduce(byRatio) : worst;
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more element(s))` : "";
  const reason =
    outvoted.length > 1
      ? outvoted.map((l) => three.filter((f) => f.blame === l).reduce(byRatio).why).join("; ") +
        (failures.length > 2 ? ` (and ${failures.length - 2} more element(s))` : "")
      : shown.why + more;
  return {
    verdict: "disagree",
    blame,
    reason,
    failing: failures.map((f) => f.label),
    outvoted,
    worst: {
      label: worst.label,
      pair: worst.worst.pair,
      difference: worst.worst.difference,
      tolerance: worst.worst.tolerance,
    },
  };
}
