/** Test helper: a float32 matrix against PyTorch's float64 one. */
import { expect } from "vitest";

/**
 * Every entry a float32 value, within 2e-5 of the largest entry of PyTorch's float64 matrix
 * (float32's 6e-8 grown by the chain rule; bce's 1 − p cancels to 8e-6).
 */
export function expectFloat32Close(got: number[][], want: number[][]): void {
  const big = Math.max(...want.flat().map(Math.abs), Number.MIN_VALUE);
  want.forEach((row, i) => {
    row.forEach((v, j) => {
      const a = got[i]![j]!;
      expect(Math.fround(a), `[${i}][${j}] is float32`).toBe(a);
      expect(Math.abs(a - v), `[${i}][${j}]`).toBeLessThanOrEqual(2e-5 * big);
    });
  });
}
