/**
 * `order: 2`: the Hessian of a scalar output three ways — the CAS's second derivatives, finite
 * differences of the gradient with an error estimate, autograd's double backward (`createGraph`)
 * — as comparisons that join the gradient's in one vote.
 */
import { nudged } from "../autograd/functions.ts";
import { autogradLeg } from "../autograd/leg.ts";
import type { Expr } from "../expr/ast.ts";
import type { Value } from "../expr/point.ts";
import { type EntryKink, numericHessian } from "../numeric/jacobian.ts";
import { symbolicHessian } from "../symbolic/hessian.ts";
import { runLeg } from "./check.ts";
import { inputLabels } from "./jacobian.ts";
import { type MatrixLegs, matrixComparisons, matrixReport, wrtIndices } from "./matrix.ts";
import type { MatrixReport } from "./report.ts";
import { allPairsAgree, type Comparison, type LegName, type Tolerance } from "./verdict.ts";

const EPS = Number.EPSILON;

/** How the vote and the report name a Hessian entry. */
export const hessianEntry = (a: string, b: string) => `∂²f/∂${a}∂${b}`;

export interface HessianLegs {
  readonly legs: MatrixLegs;
  readonly report: MatrixReport;
  /** Why a leg has no Hessian, per leg that has none. */
  readonly missing: Partial<Record<LegName, string>>;
  /** The symbolic leg's own rounding bound of each entry. */
  readonly symbolicBounds?: readonly Float64Array[];
  /**
   * How far autograd's Hessian moves, per entry, when the point moves by a few ulps (its rounding
   * noise, `roundingNoise`), computed on first call; null off float64, on a breakpoint or
   * without autograd's Hessian.
   */
  readonly noise: (() => readonly Float64Array[]) | null;
  /** Entries whose one-sided derivatives differ, labelled, with autograd's value there. */
  readonly kinks: readonly (EntryKink & { readonly autograd: number | null })[];
  readonly notes: string[];
}

/**
 * The three Hessians of `expr` at the point over the elements of the variables `wrt` (the
 * others are constants to every leg; autograd's in float32 with `f32`).
 *
 * @example
 * hessianLegs(parse("x^3"), toValues({ x: 2 })).legs.autograd; // [[12]]
 */
export function hessianLegs(
  expr: Expr,
  values: Map<string, Value>,
  wrt: readonly string[] = [...values.keys()],
  f32 = false,
): HessianLegs {
  const keep = wrtIndices(values, wrt);
  const every = keep.length === inputCount(values);
  const symbolic = runLeg(() => symbolicHessian(expr, values, wrt));
  const numeric = runLeg(() => numericHessian(expr, values, every ? undefined : keep));
  const dtype = f32 ? "float32" : "float64";
  const autograd = runLeg(() => autogradLeg(expr, values, { hessian: true, dtype, wrt }).hessian!);
  const sym = symbolic.result;
  const missing: Partial<Record<LegName, string>> = {};
  if (symbolic.report.reason !== null) missing.symbolic = symbolic.report.reason;
  else if (sym !== null && sym.status !== "ok") missing.symbolic = sym.reason;
  if (numeric.report.reason !== null) missing.numeric = numeric.report.reason;
  if (autograd.report.reason !== null) missing.autograd = autograd.report.reason;
  const legs: MatrixLegs = {
    symbolic: sym?.status === "ok" ? sym.rows : null,
    numeric: numeric.result?.rows ?? null,
    autograd: autograd.result,
    numericError: numeric.result?.errors ?? null,
  };
  const all = inputLabels(values);
  const inputs = keep.map((j) => all[j]!);
  // On a breakpoint a few ulps may change the branch (a jump, not noise); in float32 they vanish.
  const probed = autograd.result !== null && !f32 && numeric.result?.breakpoint === undefined;
  let noise: readonly Float64Array[] | undefined;
  const notes: string[] = [];
  if (sym?.status === "ok")
    notes.push(
      `symbolic Hessian: ${sym.derived} second derivative(s) by the CAS, the others structurally 0`,
    );
  if (numeric.result !== null) notes.push(`numeric Hessian: ${numeric.result.method}`);
  return {
    legs,
    report: matrixReport(legs, inputs, null),
    missing,
    ...(sym?.status === "ok" ? { symbolicBounds: sym.bounds } : {}),
    noise: probed ? () => (noise ??= roundingNoise(expr, values, wrt, autograd.result!)) : null,
    kinks: (numeric.result?.kinks ?? []).map((k) => ({
      ...k,
      label: hessianEntry(inputs[k.row]!, inputs[k.coordinate]!),
      autograd: autograd.result?.[k.row]?.[k.coordinate] ?? null,
    })),
    notes,
  };
}

/** How many input elements the point has. */
function inputCount(values: ReadonlyMap<string, Value>): number {
  let n = 0;
  for (const v of values.values()) n += v.data.length;
  return n;
}

/**
 * The probes of `roundingNoise`: ulps (relative steps of eps) by which each moves the point, and
 * by which it moves every intermediate result (as a rounding would).
 */
const PROBES = [
  { point: 1, results: 1 },
  { point: -3, results: -2 },
  { point: 8, results: 2 },
  { point: -21, results: -1 },
];

/**
 * How far autograd's Hessian moves, per entry, under a few probes that each move every input
 * element x to x·(1 + m·eps) and every intermediate result by a few ulps the same way (m from
 * PROBES, its sign alternating over the elements and results): the largest move over the probes.
 * The exact Hessian moves by |∂H/∂x|·m·eps·|x| under the first, nothing at the digits compared;
 * what moves is the rounding of the double backward's arithmetic: the terms 1/x and −x/x² of
 * x/x's derivative (reshuffled by moving x), 1 − tanh² at tanh ≈ −1 (by moving tanh's result,
 * which a move of the point cannot: tanh is flat there). That is the noise its result carries
 * at the point itself, measured where no analysis of the double backward is at hand. A wrong
 * rule is as wrong a few ulps away: it does not move. Non-finite entries are skipped.
 */
function roundingNoise(
  expr: Expr,
  values: Map<string, Value>,
  wrt: readonly string[],
  at: readonly Float64Array[],
): Float64Array[] {
  const spread = at.map((r) => new Float64Array(r.length));
  PROBES.forEach(({ point, results }, p) => {
    const moved = new Map<string, Value>();
    let k = 0;
    for (const [name, v] of values)
      moved.set(name, {
        shape: v.shape,
        data: v.data.map((x) => x * (1 + ((k++ + p) % 2 === 0 ? point : -point) * EPS)),
      });
    const nudge = (r: number) => ((r + p) % 2 === 0 ? results : -results);
    let rows: Float64Array[];
    try {
      rows = nudged(nudge, () => autogradLeg(expr, moved, { hessian: true, wrt }).hessian!);
    } catch {
      return; // a probe outside the domain tells nothing
    }
    for (let i = 0; i < rows.length; i++)
      for (let j = 0; j < rows[i]!.length; j++) {
        const d = Math.abs(rows[i]![j]! - at[i]![j]!);
        if (Number.isFinite(d)) spread[i]![j] = Math.max(spread[i]![j]!, d);
      }
  });
  return spread;
}

/**
 * How many times its measured rounding noise (`roundingNoise`) autograd's Hessian entry may be
 * off: the noise at the point is one draw of what the probes sample a few times.
 */
const NOISE_SAFETY = 4;

/**
 * The Hessian's comparisons for the vote. Autograd's rounding bound: 64 ulps of the largest entry
 * in the row (a second derivative sums the chain rule's terms twice over), plus, where some pair
 * of legs differs by more than that, NOISE_SAFETY times the rounding noise of its double backward
 * measured a few ulps around the point (`roundingNoise`: cancellation in the double backward,
 * which the row's scale does not show); the symbolic leg adds the running-error bound of its own
 * CAS formulas.
 */
export function hessianComparisons(h: HessianLegs, tol: Tolerance): Comparison[] {
  const inputs = h.report.inputs;
  const exact = h.legs.autograd ?? h.legs.symbolic;
  const scaled = (rows: readonly number[]) => {
    const out = new Map<number, Float64Array>();
    for (const i of rows) {
      let big = 0;
      for (const leg of [h.legs.autograd, h.legs.symbolic])
        for (const v of leg?.[i] ?? []) if (Number.isFinite(v)) big = Math.max(big, Math.abs(v));
      out.set(i, new Float64Array(exact?.[i]?.length ?? 0).fill(64 * EPS * big));
    }
    return out;
  };
  const label = (i: number, j: number) => hessianEntry(inputs[i]!, inputs[j]!);
  const first = matrixComparisons(h.legs, label, tol, scaled, h.symbolicBounds);
  if (h.noise === null || first.every((c) => allPairsAgree(c, tol))) return first;
  const noise = h.noise();
  return matrixComparisons(
    h.legs,
    label,
    tol,
    (rows) => {
      const out = scaled(rows);
      for (const [i, r] of out)
        for (let j = 0; j < r.length; j++) r[j] = r[j]! + NOISE_SAFETY * noise[i]![j]!;
      return out;
    },
    h.symbolicBounds,
  );
}
