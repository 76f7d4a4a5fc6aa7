/**
 * Gradient buffers of a plain backward (no `createGraph`) that the engine owns: nothing else
 * references them (not the caller's gradient, not a `.grad`, not another node's gradient), so a
 * rule's fast path may write its result into the incoming gradient's storage instead of a new
 * array. The protocol: a fast path makes its result with `freshGrad` (the engine then owns it if
 * the rule returns it once), and asks `outputFor(g, n)` for its output array, which is g's own
 * storage when the engine lent g for this rule (`beginRule`) and a new array otherwise.
 *
 * The gradient of sum and mean is one number at every element: a plain float64 backward sends it
 * as that one number (`spreadGrad`), which rules declaring `takesSpread` use as such (no array of
 * 10^6 copies to fill and read); the engine writes it out (`wholeGrad`) for any other use.
 */
import { numelOf, type Shape } from "./shape.ts";
import { scalarTensor, Tensor } from "./tensor.ts";

/** Tensors made by fast paths during the rule now running. */
const fresh = new Set<Tensor>();
/** One-element gradients made by the rule now running, with the shape each stands for. */
const spreads = new Map<Tensor, Shape>();
/** The incoming gradient the running rule may overwrite, or null. */
let lent: Tensor | null = null;
/** Whether the engine is running a rule (a rule called any other way gets plain tensors). */
let running = false;

/** A gradient tensor over storage nothing else references (made by a rule's fast path). */
export function freshGrad(data: Float64Array, shape: Shape): Tensor {
  const t = new Tensor(data, shape);
  if (running) fresh.add(t);
  return t;
}

/** Where a fast path writes `n` results computed elementwise from `g`: g's storage if lent. */
export function outputFor(g: Tensor, n: number): Float64Array {
  return g === lent && g.data.length === n ? g.data : new Float64Array(n);
}

/** The engine runs a rule next, lending it `g` (an owned gradient) or nothing (null). */
export function beginRule(g: Tensor | null): void {
  lent = g;
  running = true;
}

/** Whether `t` was made by a fast path of the rule that just ran. */
export function wasFresh(t: Tensor): boolean {
  return fresh.has(t);
}

/** Whether the rule that just ran made any tensor with `freshGrad` (most rules make none). */
export function anyFresh(): boolean {
  return fresh.size > 0;
}

/**
 * The gradient `value` at every element of `shape` (more than one element), as one 0-d tensor:
 * the engine delivers it written out unless the receiving rule `takesSpread`.
 */
export function spreadGrad(value: number, shape: Shape): Tensor {
  if (!running) return wholeGrad(scalarTensor(value), shape);
  const t = scalarTensor(value);
  spreads.set(t, shape);
  return t;
}

/** The shapes the gradients the rule just ran returned stand for (undefined: as they are), or null for none. */
export function spreadShapes(grads: readonly (Tensor | null)[]): (Shape | undefined)[] | null {
  if (spreads.size === 0) return null;
  return grads.map((g) => (g === null ? undefined : spreads.get(g)));
}

/** A spread gradient written out over `shape`: a new array, nothing else references it. */
export function wholeGrad(g: Tensor, shape: Shape): Tensor {
  return new Tensor(new Float64Array(numelOf(shape)).fill(g.data[0]!), shape);
}

/** Forgets the fresh tensors, the spread ones and the lent gradient (after each rule). */
export function endRule(): void {
  if (fresh.size > 0) fresh.clear();
  if (spreads.size > 0) spreads.clear();
  lent = null;
  running = false;
}
