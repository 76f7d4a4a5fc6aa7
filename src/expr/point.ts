/**
 * Points: the values of the variables, as the user writes them (`3`, `[1,2,3]`, `[[1,2],[3,4]]`)
 * and as the legs use them (`Value`: row-major `Float64Array` plus a shape).
 */

import { GradtrioError } from "../errors.ts";
import { checkNdim } from "./shapes.ts";

export type NestedArray = number | NestedArray[];
export type Point = Record<string, NestedArray>;

export interface Value {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Values of this many elements or more are held in a SharedArrayBuffer. */
const SHARED_MIN = 1 << 16;

/** Validates a nested array (rectangular, finite numbers) and flattens it row-major. */
export function toValue(v: unknown, name = "value"): Value {
  // A finite number (every fuzz case's variables): a scalar, no walk.
  if (typeof v === "number" && Number.isFinite(v)) return { shape: [], data: Float64Array.of(v) };
  const shape: number[] = [];
  let probe: unknown = v;
  while (Array.isArray(probe)) {
    if (probe.length === 0)
      throw new GradtrioError("SHAPE", `${name}: empty arrays are not allowed`);
    shape.push(probe.length);
    probe = probe[0];
  }
  // The walk below recurses once per dimension: cap the rank before it starts.
  checkNdim(shape.length, name);
  const size = shape.reduce((a, b) => a * b, 1);
  // Large values in shared memory: fast mode's numeric leg gets them on its worker thread
  // without a copy (numeric/leg-thread.ts).
  // (Not on a page opened from a file, where SharedArrayBuffer is not defined: `gradtrio teach`.)
  const data =
    size >= SHARED_MIN && typeof SharedArrayBuffer === "function"
      ? new Float64Array(new SharedArrayBuffer(8 * size))
      : new Float64Array(size);
  // The path to an element (`[1][2]`) is only written for an error message.
  const idx: number[] = [];
  const path = (): string => idx.map((i) => `[${i}]`).join("");
  const leaf = (node: unknown, k: number): void => {
    if (typeof node !== "number")
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `${name}${path()}: expected a number, got ${describe(node)}`,
      );
    if (!Number.isFinite(node))
      throw new GradtrioError("NON_FINITE", `${name}${path()}: ${node} is not a finite number`);
    data[k] = node;
  };
  let k = 0;
  const walk = (node: unknown, depth: number): void => {
    if (!Array.isArray(node) || node.length !== shape[depth])
      throw new GradtrioError(
        "SHAPE",
        `${name}${path()}: not a rectangular array (expected ${shape[depth]} elements at depth ${depth})`,
      );
    const last = depth === shape.length - 1;
    idx.push(0);
    for (let i = 0; i < node.length; i++) {
      idx[depth] = i;
      const x: unknown = node[i];
      // The common case (a finite number) stores it without a call.
      if (last && typeof x === "number" && Number.isFinite(x)) data[k++] = x;
      else if (last) leaf(x, k++);
      else walk(x, depth + 1);
    }
    idx.pop();
  };
  if (shape.length === 0) leaf(v, 0);
  else walk(v, 0);
  return { shape, data };
}

function describe(x: unknown): string {
  if (Array.isArray(x)) return "an array";
  if (x === null) return "null";
  return typeof x === "string" ? JSON.stringify(x) : typeof x;
}

/** Back to nested arrays (a number for a scalar). */
export function fromValue(v: Value): NestedArray {
  const { shape, data } = v;
  if (shape.length === 0) return data[0]!;
  let k = 0;
  const build = (depth: number): NestedArray[] => {
    // Allocated at its length: pushing 10^6 gradients grew the array, copying it, ~20 times.
    const out: NestedArray[] = new Array(shape[depth]!);
    for (let i = 0; i < out.length; i++)
      out[i] = depth === shape.length - 1 ? data[k++]! : build(depth + 1);
    return out;
  };
  return build(0);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Validates every variable of a point. Keys keep their order (it is the flattening order). */
export function toValues(point: Point): Map<string, Value> {
  const out = new Map<string, Value>();
  if (typeof point !== "object" || point === null || Array.isArray(point))
    throw new GradtrioError("INVALID_ARGUMENT", "the point must be an object of NAME: value");
  for (const name of Object.keys(point)) out.set(name, toValue(point[name], name));
  return out;
}

/** `x`, `x[2]`, `A[1][0]`: the label of element k (row-major) of a variable of `shape`. */
export function elementLabel(name: string, shape: readonly number[], k: number): string {
  if (shape.length === 0) return name;
  const idx: number[] = [];
  let r = k;
  for (let i = shape.length - 1; i >= 0; i--) {
    idx.unshift(r % shape[i]!);
    r = Math.floor(r / shape[i]!);
  }
  return name + idx.map((i) => `[${i}]`).join("");
}
