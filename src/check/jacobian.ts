/**
 * The check of a non-scalar output: its Jacobian three ways (symbolic from the gradient's CAS
 * templates, numeric by forward-mode columns, autograd by one backward pass per output element)
 * and one verdict over every entry.
 */
import { autogradJacobian } from "../autograd/leg.ts";
import { call, variable } from "../expr/ast.ts";
import { elementLabel, fromValue, type Point, sizeOf, type Value } from "../expr/point.ts";
import { numericJacobian } from "../numeric/jacobian.ts";
import { symbolicJacobian } from "../symbolic/jacobian.ts";
import { type CheckInput, type InconclusiveRule, reasons, runLeg } from "./check.ts";
import { FLOAT32_NOTE, FLOAT32_TINY, float32Range, float32Underflow } from "./dtype.ts";
import { forwardFault } from "./forward-fault.ts";
import { breakpointReason, convention, kinkReason } from "./kinks.ts";
import { type MatrixLegs, matrixComparisons, matrixReport, wrtIndices } from "./matrix.ts";
import { asideNote, symbolicAside } from "./op-formulas.ts";
import { referenceOutvoted } from "./outcome.ts";
import type { LegReport, Report } from "./report.ts";
import { type FlatOp, type Overflow, roundingAnalysis } from "./rounding.ts";
import { judge, LEGS, type LegName } from "./verdict.ts";

/** The seed's variable name in the rounding analysis of one row: no user's name can take it. */
const SEED = "seed·";

/** Every input element's label, the variables flattened in the point's order (`x[0]`, `A[1][0]`). */
export function inputLabels(values: ReadonlyMap<string, Value>): string[] {
  const out: string[] = [];
  for (const [name, v] of values)
    for (let k = 0; k < v.data.length; k++) out.push(elementLabel(name, v.shape, k));
  return out;
}

/** How the vote and the report name a Jacobian entry. */
export const jacobianEntry = (output: string, input: string) => `∂${output}/∂${input}`;

const allFinite = (rows: readonly Float64Array[]) => rows.every((r) => r.every(Number.isFinite));

/**
 * The three-way check of `expr`'s Jacobian at the point (output of shape `shape`, not scalar),
 * its columns those of the variables `wrt`; with `f32`, autograd and the value in float32.
 *
 * @example
 * // check() calls it for a non-scalar output:
 * check("x^2", { at: { x: [1, 2] }, dtype: "float32" }).jacobian!.autograd; // [[2, 0], [0, 4]]
 */
export function checkJacobian(input: CheckInput, at: Point): Report {
  const { expr, text, values, shape, tol, wrt, f32 } = input;
  // Every leg's columns are those of `wrt` only.
  const numeric = runLeg(() => numericJacobian(expr, values, wrt));
  const autograd = runLeg(() =>
    autogradJacobian(expr, values, f32 ? { dtype: "float32", wrt } : { wrt }),
  );
  const symbolic = runLeg(() => symbolicJacobian(expr, values, wrt));
  const legs: Record<LegName, LegReport> = {
    symbolic: symbolic.report,
    numeric: numeric.report,
    autograd: autograd.report,
  };
  const sym = symbolic.result;
  if (sym !== null && sym.status !== "ok")
    legs.symbolic = { status: sym.status, reason: sym.reason, ms: legs.symbolic.ms };
  const keep = wrtIndices(values, wrt);
  const rows: MatrixLegs = {
    symbolic: sym?.status === "ok" ? sym.rows : null,
    numeric: numeric.result?.rows ?? null,
    autograd: autograd.result?.rows ?? null,
    numericError: numeric.result?.errors ?? null,
  };
  const value64 = numeric.result?.value ?? null;
  const flatValue = f32
    ? (autograd.result?.value ?? value64)
    : (value64 ?? autograd.result?.value ?? null);
  const all = inputLabels(values);
  const inputs = keep.map((j) => all[j]!);
  const outputs = Array.from({ length: sizeOf(shape) }, (_, i) => elementLabel("out", shape, i));
  const notes: string[] = [];
  if (sym?.status === "ok")
    notes.push(
      sym.structure === "elementwise"
        ? "symbolic: the expression is elementwise, so its Jacobian is diagonal (a column for a broadcast input): one pass of the templates gives every entry"
        : "symbolic: one vector–Jacobian product of the CAS templates per output element",
    );
  if (numeric.result !== null) notes.push(`numeric: ${numeric.result.method}`);
  if (f32) notes.push(FLOAT32_NOTE);
  const base = {
    expr: text,
    at,
    value: flatValue === null ? null : fromValue({ shape, data: flatValue }),
    gradients: {},
    jacobian: matrixReport(rows, inputs, outputs),
    legs,
    method: numeric.result === null ? null : "richardson",
    notes,
    latex: {},
    directional: null,
    failing: [],
  };
  const inconclusive = (rule: InconclusiveRule, reason: string): Report => ({
    ...base,
    verdict: "inconclusive",
    blame: null,
    reason,
    rule,
  });
  // A custom op's forward NaN or throwing inside its domain convicts the code under test (as check's).
  const broken =
    flatValue === null || flatValue.some(Number.isNaN) ? forwardFault(expr, values) : null;
  if (broken !== null) return { ...base, verdict: "disagree", blame: "autograd", reason: broken };
  if (flatValue === null) return inconclusive("no value", reasons.noValue(legs));
  if (f32 && !flatValue.every(Number.isFinite) && value64?.every(Number.isFinite)) {
    const k = flatValue.findIndex((v) => !Number.isFinite(v));
    return inconclusive(
      "float32 range",
      float32Range(flatValue[k]!, value64[k]!, ` in ${outputs[k]}`),
    );
  }
  if (!flatValue.every(Number.isFinite))
    return inconclusive(
      "not finite",
      `the function is not finite at the point: ${roundingAnalysis(expr, values).outsideDomain ?? "outside the domain or beyond float64"}`,
    );
  // A breakpoint alone is no kink (abs(x)·x is smooth at 0): one-sided derivatives decide.
  const breakpoint = sym?.status === "kink" ? sym.reason : (numeric.result?.breakpoint ?? null);
  const kinks = numeric.result?.kinks ?? [];
  if (kinks.length > 0)
    return inconclusive(
      "kink",
      kinkReason(
        kinks.map((k) => ({ ...k, label: jacobianEntry(outputs[k.row]!, inputs[k.coordinate]!) })),
        (k) => autograd.result?.rows[k.row]?.[k.coordinate] ?? null,
        breakpoint,
        "the function",
        convention(expr),
      ),
    );
  // A custom op whose formula is not its forward: the CAS has no vote (as in `check`).
  const label = (i: number, j: number) => jacobianEntry(outputs[i]!, inputs[j]!);
  const aside = symbolicAside(
    rows.symbolic !== null,
    expr,
    values,
    tol,
    () => rows.numeric === null || matrixComparisons(rows, label, tol, () => new Map()).length > 0,
    legs,
  );
  const voting = aside === null ? rows : { ...rows, symbolic: null };
  const present = LEGS.filter((l) => voting[l] !== null);
  const nonFinite = present.filter((l) => !allFinite(voting[l]!));
  if (nonFinite.includes("autograd") || nonFinite.length >= 2) {
    // As in `check`: an intermediate that overflows, or ±∞ past 2^±511, is no singularity.
    const a = roundingAnalysis(expr, values, undefined, { float32: f32 });
    if (a.overflow !== null)
      return inconclusive("overflow", reasons.overflow(a.overflow, null, nonFinite));
    if (nonFinite.length >= 2)
      return inconclusive(
        "singularity",
        a.extreme !== null &&
          a.outsideDomain === null &&
          nonFinite.every((l) => !voting[l]!.some((r) => r.some(Number.isNaN)))
          ? reasons.gradientOverflow(nonFinite, a.extreme, "Jacobian")
          : reasons.singularity(nonFinite, "Jacobian"),
      );
  }
  const missing = reasons.missing(legs, present).join("; ");
  if (present.length < 2) return inconclusive("too few legs", reasons.tooFewLegs(present, missing));

  let outsideDomain: string | null = null;
  let extreme: number | null = null;
  let overflow: Overflow | null = null;
  // Row i's rounding bound is that of the gradient of the scalar sum(out·eᵢ).
  const seeded = call("sum", [call("mul", [expr, variable(SEED)])]);
  // With `tiny`: the bounds with float32's underflow (what it adds to autograd's float32 bound).
  // With `flat`: a flat custom op's windows counted at their cap (`check`'s `withinFlat`).
  let flat: FlatOp | null = null;
  const rounding = (rowsWanted: readonly number[], tiny?: number, countFlat = false) => {
    const out = new Map<number, Float64Array>();
    for (const i of rowsWanted) {
      const seed = new Float64Array(sizeOf(shape));
      seed[i] = 1;
      const point = new Map(values).set(SEED, { shape, data: seed });
      const a = roundingAnalysis(seeded, point, undefined, {
        float32: f32,
        flat: countFlat,
        ...(tiny === undefined ? {} : { tiny }),
      });
      outsideDomain ??= a.outsideDomain;
      extreme ??= a.extreme;
      overflow ??= a.overflow;
      flat ??= a.flat;
      const row = new Float64Array(all.length);
      let o = 0;
      for (const [name, v] of values) {
        const b = a.bounds?.get(name);
        if (b !== undefined) row.set(b, o);
        o += v.data.length;
      }
      out.set(
        i,
        Float64Array.from(keep, (j) => row[j]!),
      );
    }
    return out;
  };
  const comparisons = matrixComparisons(
    voting,
    label,
    tol,
    rounding,
    undefined,
    f32 ? (rowsWanted) => rounding(rowsWanted, FLOAT32_TINY) : undefined,
  );
  const j = judge(comparisons, tol);
  if (j.verdict === "disagree" && outsideDomain !== null)
    return inconclusive("outside the domain", `outside the domain: ${outsideDomain}`);
  if (j.verdict === "disagree" && extreme !== null)
    return inconclusive("extreme magnitude", reasons.illConditioned(extreme));
  if (j.verdict === "disagree" && overflow !== null && !referenceOutvoted(j))
    return inconclusive("extreme magnitude", reasons.overflow(overflow, null, [], j.reason));
  if (j.verdict === "disagree" && breakpoint !== null)
    return inconclusive(
      "smooth breakpoint",
      breakpointReason(breakpoint, j.reason, convention(expr)),
    );
  if (j.verdict === "disagree" && flat !== null) {
    // A flat custom op's unmeasured rounding may account for it: ill-conditioned, as in `check`.
    const wide = matrixComparisons(
      voting,
      label,
      tol,
      (rowsWanted) => rounding(rowsWanted, undefined, true),
      undefined,
      f32 ? (rowsWanted) => rounding(rowsWanted, FLOAT32_TINY, true) : undefined,
    );
    if (judge(wide, tol).verdict === "agree")
      return inconclusive("ill-conditioned", reasons.flat(flat as FlatOp, wide, j.failing));
  }
  const underflow = f32 && j.verdict === "agree" ? float32Underflow(comparisons, tol) : null;
  if (underflow !== null) return inconclusive("float32 underflow", underflow);
  return {
    ...base,
    verdict: j.verdict,
    blame: j.blame,
    reason:
      j.reason === null
        ? present.length === 2
          ? reasons.twoLegs(present, missing)
          : null
        : `${j.reason}${asideNote(aside)}`,
    failing: j.failing,
    outvoted: j.outvoted,
  };
}
