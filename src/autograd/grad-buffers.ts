/**
 * Gradient buffers of a plain backward (no `createGraph`) that the engine owns: nothing else
 * references them (not the caller's gradient, not a `.grad`, not another node's gradient), so a
 * rule's fast path may write its result into the incoming gradient's storage instead of a new
 * array. The protocol: a fast path makes its result with `freshGrad` (the engine then owns it if
 * the rule returns it once), and asks `outputFor(g, n)` for its output array, which is g's own
 * storage when the engine lent g for this rule (`lend`) and a new array otherwise.
 */
import type { Shape } from "./shape.ts";
import { Tensor } from "./tensor.ts";

/** Tensors made by fast paths during the rule now running. */
const fresh = new Set<Tensor>();
/** The incoming gradient the running rule may overwrite, or null. */
let lent: Tensor | null = null;

/** A gradient tensor over storage nothing else references (made by a rule's fast path). */
export function freshGrad(data: Float64Array, shape: Shape): Tensor {
  const t = new Tensor(data, shape);
  fresh.add(t);
  return t;
}

/** Where a fast path writes `n` results computed elementwise from `g`: g's storage if lent. */
export function outputFor(g: Tensor, n: number): Float64Array {
  return g === lent && g.data.length === n ? g.data : new Float64Array(n);
}

/** The engine lends `g` (an owned gradient) to the next rule, or nothing (null). */
export function lend(g: Tensor | null): void {
  lent = g;
}

/** Whether `t` was made by a fast path of the rule that just ran. */
export function wasFresh(t: Tensor): boolean {
  return fresh.has(t);
}

/** Whether the rule that just ran made any tensor with `freshGrad` (most rules make none). */
export function anyFresh(): boolean {
  return fresh.size > 0;
}

/** Forgets the fresh tensors and the lent gradient (after each rule). */
export function endRule(): void {
  if (fresh.size > 0) fresh.clear();
  lent = null;
}
