/**
 * Shape helpers for the numeric leg's evaluators: NumPy broadcasting (as index maps computed once at
 * compile time) and torch.matmul's 1-D/2-D result shapes.
 */
import { GradtrioError } from "../errors.ts";
import type { Expr } from "../expr/ast.ts";

export type Shape = readonly number[];

export function sizeOfShape(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

function shapeError(message: string, e: Expr | undefined): GradtrioError {
  return new GradtrioError("SHAPE", message, e?.pos === undefined ? {} : { pos: e.pos });
}

/** NumPy broadcasting of several shapes (trailing dimensions equal or 1), or a SHAPE error. */
export function broadcastAll(shapes: readonly Shape[], op: string, e?: Expr): Shape {
  let out: Shape = shapes[0]!;
  for (let k = 1; k < shapes.length; k++) {
    const a = out;
    const b = shapes[k]!;
    const n = Math.max(a.length, b.length);
    const next: number[] = new Array(n);
    for (let j = 1; j <= n; j++) {
      const da = j <= a.length ? a[a.length - j]! : 1;
      const db = j <= b.length ? b[b.length - j]! : 1;
      if (da !== db && da !== 1 && db !== 1)
        throw shapeError(
          `cannot broadcast shapes ${formatShape(a)} and ${formatShape(b)} in ${op}`,
          e,
        );
      next[n - j] = da === 1 ? db : da;
    }
    out = next;
  }
  return out;
}

/**
 * For each element of a tensor of shape `out`, the row-major index of the element of `arg` that
 * broadcasting reads.
 */
export function broadcastIndex(arg: Shape, out: Shape): Int32Array {
  const size = sizeOfShape(out);
  const idx = new Int32Array(size);
  const nd = out.length;
  const off = nd - arg.length;
  // Stride of each output dimension within `arg` (0 where arg is 1 or absent).
  const strides = new Array<number>(nd).fill(0);
  let s = 1;
  for (let d = arg.length - 1; d >= 0; d--) {
    strides[d + off] = arg[d] === 1 ? 0 : s;
    s *= arg[d]!;
  }
  const counter = new Array<number>(nd).fill(0);
  let pos = 0;
  for (let k = 0; k < size; k++) {
    idx[k] = pos;
    for (let d = nd - 1; d >= 0; d--) {
      counter[d]!++;
      pos += strides[d]!;
      if (counter[d]! < out[d]!) break;
      pos -= strides[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

/** torch.matmul's result shape for 1-D and 2-D operands, or a SHAPE error. */
export function matmulShape(a: Shape, b: Shape, e?: Expr): Shape {
  const both = `${formatShape(a)} and ${formatShape(b)}`;
  if (a.length < 1 || a.length > 2 || b.length < 1 || b.length > 2)
    throw shapeError(`matmul takes 1-D or 2-D operands; got shapes ${both}`, e);
  const inner = a[a.length - 1]!;
  if (inner !== b[0]!)
    throw shapeError(`matmul: inner dimensions differ (${inner} vs ${b[0]}) for shapes ${both}`, e);
  return [...(a.length === 2 ? [a[0]!] : []), ...(b.length === 2 ? [b[1]!] : [])];
}

/** Dimensions of a matmul as (m, k, n): A is m×k, B is k×n (vectors as 1×k and k×1). */
export function matmulDims(a: Shape, b: Shape): { m: number; k: number; n: number } {
  return {
    m: a.length === 2 ? a[0]! : 1,
    k: a[a.length - 1]!,
    n: b.length === 2 ? b[1]! : 1,
  };
}
