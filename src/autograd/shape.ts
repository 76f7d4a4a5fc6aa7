/**
 * Shapes and NumPy broadcasting as the engine's kernels walk them (row plans, strides), with
 * PyTorch's shape errors; the index maps every leg shares are in src/expr/broadcast.ts.
 */
import { GradtrioError, isIntegerIn } from "../errors.ts";

export type Shape = readonly number[];

export function numelOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

// One definition for every leg (src/expr/broadcast.ts).
export { sameShape } from "../expr/broadcast.ts";

export function showShape(s: Shape): string {
  return `[${s.join(", ")}]`;
}

/** Row-major strides of a contiguous tensor. */
export function stridesOf(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d]!;
  }
  return st;
}

/** NumPy rule: align right; each pair of sizes must be equal or one of them 1. */
export function broadcastShapes(a: Shape, b: Shape, what = "broadcast"): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = i < r - a.length ? 1 : a[i - (r - a.length)]!;
    const db = i < r - b.length ? 1 : b[i - (r - b.length)]!;
    if (da !== db && da !== 1 && db !== 1)
      throw new GradtrioError(
        "SHAPE",
        `${what}: shapes ${showShape(a)} and ${showShape(b)} are not broadcastable (size ${da} vs ${db} at dimension ${i})`,
      );
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Whether `from` broadcasts to exactly `to` (used by expand and by the engine's checks). */
export function broadcastsTo(from: Shape, to: Shape): boolean {
  if (from.length > to.length) return false;
  const k = to.length - from.length;
  for (let i = 0; i < from.length; i++) if (from[i] !== 1 && from[i] !== to[i + k]) return false;
  return true;
}

/**
 * How an input of shape `inShape` is read when broadcast to `outShape`, one output row (the last
 * dimension) at a time: row `r` starts at `offsets[r]` and steps by `stride` (0 when broadcast).
 */
export interface RowPlan {
  readonly offsets: Int32Array;
  readonly inner: number;
  readonly stride: number;
}

export function rowPlan(inShape: Shape, outShape: Shape): RowPlan {
  const r = outShape.length;
  if (r === 0) return { offsets: Int32Array.of(0), inner: 1, stride: 1 };
  const pad = r - inShape.length;
  const inStrides = stridesOf(inShape);
  const bs = new Array<number>(r);
  for (let d = 0; d < r; d++) {
    const size = d < pad ? 1 : inShape[d - pad]!;
    bs[d] = size === 1 ? 0 : inStrides[d - pad]!;
  }
  const inner = outShape[r - 1]!;
  const total = numelOf(outShape);
  const outer = inner === 0 ? 0 : total / inner;
  const offsets = new Int32Array(outer);
  // An odometer over the leading r-1 dimensions, carrying the input offset along.
  const idx = new Array<number>(r - 1).fill(0);
  let off = 0;
  for (let row = 0; row < outer; row++) {
    offsets[row] = off;
    for (let d = r - 2; d >= 0; d--) {
      idx[d]++;
      off += bs[d]!;
      if (idx[d]! < outShape[d]!) break;
      off -= bs[d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return { offsets, inner, stride: bs[r - 1]! };
}

/** Normalises a possibly negative dimension index, PyTorch style. */
export function normDim(dim: number, ndim: number, what: string): number {
  const lo = ndim === 0 ? -1 : -ndim;
  const hi = ndim === 0 ? 0 : ndim - 1;
  if (!isIntegerIn(dim, lo, hi))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `${what}: dimension out of range (expected to be in range of [${lo}, ${hi}], but got ${dim})`,
    );
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}
