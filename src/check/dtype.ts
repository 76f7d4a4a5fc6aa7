/**
 * `dtype: "float32"` for check(): the autograd leg (the code under test, as PyTorch runs it by
 * default) and the reported value are computed in float32, at the point rounded to float32; the
 * symbolic and numeric legs stay float64 references at that same point. Autograd's tolerance is
 * its float64 rounding bound scaled to float32's unit roundoff, plus a few float32 ulps, plus
 * what float32's underflow adds (`FLOAT32_TINY` per rounding, carried through what follows).
 */
import { DTYPES, type DType } from "../autograd/float32.ts";
import { GradtrioError } from "../errors.ts";
import type { Value } from "../expr/point.ts";
import { type Comparison, finiteMagnitude, fmt, judge, type Tolerance } from "./verdict.ts";

/** float32's unit roundoff over float64's: 2^-24 / 2^-53. */
export const FLOAT32_SCALE = 2 ** 29;
const EPS32 = 2 ** -23;
/** A float32 rounding's absolute error below its normal range: half its smallest subnormal. */
export const FLOAT32_TINY = 2 ** -150;

export function validateDtype(dtype: unknown): DType {
  if (dtype === undefined) return "float64";
  if (!DTYPES.includes(dtype as DType))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `dtype must be "float64" or "float32", got ${JSON.stringify(dtype)}`,
    );
  return dtype as DType;
}

/** The point rounded to float32 (as `torch.tensor(6.7)` stores it), for every leg. */
export function toFloat32(values: Map<string, Value>): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const [name, v] of values)
    out.set(name, { shape: v.shape, data: v.data.map((x) => Math.fround(x)) });
  return out;
}

/**
 * Autograd's error bound in float32, from its float64 rounding bound, its value and `underflow`:
 * the rounding analysis's bound with `tiny: FLOAT32_TINY` (0 where the analysis did not run).
 */
function float32Bound(rounding: number, autograd: number | null, underflow = 0): number {
  return FLOAT32_SCALE * rounding + 8 * EPS32 * finiteMagnitude(autograd ?? 0) + underflow;
}

/**
 * The comparison with autograd's float32 bound (from its float64 rounding bound and `underflow`,
 * what float32's underflow adds).
 */
export function withFloat32Bound(c: Comparison, underflow = 0): Comparison {
  const autogradRounding = float32Bound(c.rounding, c.autograd, underflow);
  return underflow > 0
    ? { ...c, autogradRounding, autogradUnderflow: underflow }
    : { ...c, autogradRounding };
}

/**
 * On an agreement of float32 comparisons, why the check cannot judge: the first element that
 * agrees only within what float32's underflow adds to autograd's bound (null: none).
 */
export function float32Underflow(
  comparisons: readonly Comparison[],
  tol: Tolerance,
): string | null {
  const c = comparisons.find(
    (c) =>
      c.autogradUnderflow !== undefined &&
      judge([{ ...c, autogradRounding: float32Bound(c.rounding, c.autograd) }], tol).verdict !==
        "agree",
  );
  if (c === undefined) return null;
  const [leg, value] = c.symbolic !== null ? ["symbolic", c.symbolic] : ["numeric", c.numeric!];
  return `the gradient underflows float32 at ${c.label}: ${leg} gives ${fmt(value)}, autograd in float32 ${fmt(c.autograd!)}; intermediates below float32's normal range (smallest normal 1.2e-38, smallest subnormal 1.4e-45) may move it by ±${c.autogradUnderflow!.toExponential(1)}: float32 cannot resolve the derivative there, so the legs cannot be compared`;
}

/** The report's note with `dtype: "float32"`. */
export const FLOAT32_NOTE =
  "float32: autograd and the value in float32 at the point rounded to float32; symbolic and numeric are float64 references there";

/** Why a function finite in float64 is not in float32 (`in`: which output element, if any). */
export function float32Range(value: number, value64: number, inElement = ""): string {
  return `in float32 the function is ${value}${inElement} at the point (float64: ${value64}): float32 rounding or range breaks it here (1 - 1e-8 rounds to 1; exp overflows above 88.7)`;
}
