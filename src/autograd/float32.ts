/**
 * float32: tensors made with `{ dtype: "float32" }` keep float64 storage whose every element is a
 * float32 value (`Math.fround` after each op), so the kernels stay one implementation and the
 * results are those of float32 arithmetic, correctly rounded per op. Promotion follows PyTorch:
 * plain numbers take the tensor's dtype; a 0-d tensor does not promote a tensor with dimensions;
 * otherwise float32 with float64 is float64. Composite kernels that PyTorch evaluates as several
 * float32 steps (sigmoid: 1/(1+exp(-x))) round each step, so `sigmoid(17)` is exactly 1 in
 * float32 as in PyTorch.
 */
import { Tensor, type TensorLike } from "./tensor.ts";

/** The dtypes of gradtrio's tensors. The default is float64. */
export type DType = "float64" | "float32";

export const DTYPES: readonly DType[] = ["float64", "float32"];

/** Rounds every element to float32, in place. */
export function round32(d: Float64Array): void {
  for (let i = 0; i < d.length; i++) d[i] = Math.fround(d[i]!);
}

/** Whether an op on these operands computes in float32 (PyTorch's type promotion). */
export function promote32(operands: readonly TensorLike[]): boolean {
  let f32 = false;
  let f64 = false;
  let f32Dims = false;
  let f64Dims = false;
  for (const o of operands) {
    if (!(o instanceof Tensor)) continue; // a plain number takes the tensors' dtype
    const dims = o.shape.length > 0;
    if (o._f32) {
      f32 = true;
      f32Dims ||= dims;
    } else {
      f64 = true;
      f64Dims ||= dims;
    }
  }
  if (!f32) return false;
  if (!f64) return true;
  // Mixed: tensors with dimensions outrank 0-d ones.
  return f32Dims && !f64Dims;
}

/** Unary kernels that PyTorch computes in several float32 steps (the others round once). */
export const FLOAT32_KERNELS: Readonly<Record<string, (x: Float64Array, o: Float64Array) => void>> =
  {
    sigmoid(x, o) {
      const f = Math.fround;
      for (let i = 0; i < o.length; i++) o[i] = f(1 / f(1 + f(Math.exp(-x[i]!))));
    },
  };
