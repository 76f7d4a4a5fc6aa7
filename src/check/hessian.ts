/**
 * `order: 2`: the Hessian of a scalar output three ways — the CAS's second derivatives, finite
 * differences of the gradient with an error estimate, autograd's double backward (`createGraph`)
 * — as comparisons that join the gradient's in one vote.
 */
import { autogradLeg } from "../autograd/leg.ts";
import type { Expr } from "../expr/ast.ts";
import type { Value } from "../expr/point.ts";
import { type EntryKink, numericHessian } from "../numeric/jacobian.ts";
import { symbolicHessian } from "../symbolic/hessian.ts";
import { runLeg } from "./check.ts";
import { inputLabels } from "./jacobian.ts";
import { type MatrixLegs, matrixComparisons, matrixReport, wrtIndices } from "./matrix.ts";
import type { MatrixReport } from "./report.ts";
import type { Comparison, LegName, Tolerance } from "./verdict.ts";

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
 * The Hessian's comparisons for the vote. Autograd's rounding bound is a first-order scale, not
 * an analysis: 64 ulps of the largest entry in the row (a second derivative sums the chain rule's
 * terms twice over); the symbolic leg adds the running-error bound of its own CAS formulas.
 */
export function hessianComparisons(h: HessianLegs, tol: Tolerance): Comparison[] {
  const inputs = h.report.inputs;
  const exact = h.legs.autograd ?? h.legs.symbolic;
  return matrixComparisons(
    h.legs,
    (i, j) => hessianEntry(inputs[i]!, inputs[j]!),
    tol,
    (rows) => {
      const out = new Map<number, Float64Array>();
      for (const i of rows) {
        let big = 0;
        for (const leg of [h.legs.autograd, h.legs.symbolic])
          for (const v of leg?.[i] ?? []) if (Number.isFinite(v)) big = Math.max(big, Math.abs(v));
        out.set(i, new Float64Array(exact?.[i]?.length ?? 0).fill(64 * EPS * big));
      }
      return out;
    },
    h.symbolicBounds,
  );
}
