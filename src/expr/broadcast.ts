/**
 * NumPy broadcasting for every leg, in one place: index maps computed once (which element of an
 * argument each output element reads), `expandTo` and its adjoint `sumTo`, and the shape rules of shapes.ts
 * turned into SHAPE errors.
 */
import { GradtrioError } from "../errors.ts";
import { sizeOf } from "./point.ts";
import {
  broadcastShapes,
  matmulShape as exprMatmulShape,
  formatShape,
  type Shape,
} from "./shapes.ts";

export type { Shape };
export { formatShape };

/** Equal shapes (same rank, same sizes). */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sizeOfShape(shape: Shape): number {
  return sizeOf(shape);
}

/** NumPy broadcasting of several shapes (trailing dimensions equal or 1), or a SHAPE error. */
export function broadcastAll(shapes: readonly Shape[], op: string): Shape {
  let out: Shape = shapes[0]!;
  for (let k = 1; k < shapes.length; k++) {
    const next = broadcastShapes(out, shapes[k]!);
    if (next === undefined)
      throw new GradtrioError(
        "SHAPE",
        `cannot broadcast shapes ${formatShape(out)} and ${formatShape(shapes[k]!)} in ${op}`,
      );
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

/** `data` (of shape `from`) broadcast to `shape`: `data` itself when the shapes are equal. */
export function expandTo(data: Float64Array, from: Shape, shape: Shape): Float64Array {
  if (sameShape(from, shape)) return data;
  const idx = broadcastIndex(from, shape);
  const out = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = data[idx[i]!]!;
  return out;
}

/** Sums `g` (over `shape`) down to `target`: the adjoint of broadcasting (`g` if equal). */
export function sumTo(g: Float64Array, shape: Shape, target: Shape): Float64Array {
  if (sameShape(shape, target)) return g;
  const out = new Float64Array(sizeOfShape(target));
  if (out.length === 1) {
    let s = 0;
    for (let i = 0; i < g.length; i++) s += g[i]!;
    out[0] = s;
    return out;
  }
  const rank = shape.length;
  const pad = rank - target.length;
  // Stride of each dimension of `shape` within `target` (0 where target is 1 or absent).
  const strides = new Array<number>(rank).fill(0);
  for (let d = target.length - 1, s = 1; d >= 0; d--) {
    strides[d + pad] = target[d] === 1 ? 0 : s;
    s *= target[d]!;
  }
  const counter = new Array<number>(rank).fill(0);
  let pos = 0;
  for (let i = 0; i < g.length; i++) {
    out[pos]! += g[i]!;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      pos += strides[d]!;
      if (counter[d]! < shape[d]!) break;
      pos -= strides[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  return out;
}

/** torch.matmul's result shape for 1-D and 2-D operands, or a SHAPE error. */
export function matmulShape(a: Shape, b: Shape): Shape {
  const r = exprMatmulShape(a, b);
  if (typeof r === "string") throw new GradtrioError("SHAPE", r);
  return r;
}

/** Dimensions of a matmul as (m, k, n): A is m×k, B is k×n (vectors as 1×k and k×1). */
export function matmulDims(a: Shape, b: Shape): { m: number; k: number; n: number } {
  return {
    m: a.length === 2 ? a[0]! : 1,
    k: a[a.length - 1]!,
    n: b.length === 2 ? b[1]! : 1,
  };
}
