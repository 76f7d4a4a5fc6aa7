/**
 * `dtype: "float32"` for check(): the autograd leg (the code under test, as PyTorch runs it by
 * default) and the reported value are computed in float32, at the point rounded to float32; the
 * symbolic and numeric legs stay float64 references at that same point. Autograd's tolerance is
 * its float64 rounding bound scaled to float32's unit roundoff, plus a few float32 ulps.
 */
import { DTYPES, type DType } from "../autograd/float32.ts";
import { GradtrioError } from "../errors.ts";
import type { Value } from "../expr/point.ts";
import { type Comparison, finiteMagnitude } from "./verdict.ts";

/** float32's unit roundoff over float64's: 2^-24 / 2^-53. */
export const FLOAT32_SCALE = 2 ** 29;
const EPS32 = 2 ** -23;

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

/** Autograd's error bound in float32, from its float64 rounding bound and its value. */
export function float32Bound(rounding: number, autograd: number | null): number {
  return FLOAT32_SCALE * rounding + 8 * EPS32 * finiteMagnitude(autograd ?? 0);
}

/** The comparison with autograd's float32 bound (from its float64 rounding bound). */
export function withFloat32Bound(c: Comparison): Comparison {
  return { ...c, autogradRounding: float32Bound(c.rounding, c.autograd) };
}

/** The report's note with `dtype: "float32"`. */
export const FLOAT32_NOTE =
  "float32: autograd and the value in float32 at the point rounded to float32; symbolic and numeric are float64 references there";

/** Why a function finite in float64 is not in float32 (`in`: which output element, if any). */
export function float32Range(value: number, value64: number, inElement = ""): string {
  return `in float32 the function is ${value}${inElement} at the point (float64: ${value64}): float32 rounding or range breaks it here (1 - 1e-8 rounds to 1; exp overflows above 88.7)`;
}
