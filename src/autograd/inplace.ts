/**
 * In-place ops (`add_ sub_ mul_ div_ zero_ fill_`) with PyTorch's rules: an in-place op on a leaf
 * that requires grad is an error outside `noGrad`; every in-place op bumps the tensor's version,
 * and backward refuses a saved tensor whose version moved since the op saved it.
 *
 * Where a graph is recorded, the op runs out of place on a copy of the old value (which the new
 * node keeps as its input), and the tensor takes the result and the new node: `y.mul_(2)` turns
 * y's grad_fn into `MulBackward0`, as in PyTorch.
 */
import { GradtrioError } from "../errors.ts";
import * as F from "./functions.ts";
import { isGradEnabled } from "./grad-mode.ts";
import { type GradRule, record, SAVE_NONE, versionOf } from "./node.ts";
import { numelOf, sameShape, showShape } from "./shape.ts";
import { Tensor, type TensorLike } from "./tensor.ts";

const LEAF_IN_PLACE =
  "a leaf Variable that requires grad is being used in an in-place operation. (Change it inside noGrad(() => …), as PyTorch's torch.no_grad(), or use the out-of-place op.)";

/** The version counter of a tensor's storage (shared with tensors made by `detach()`). */
export function versionCounter(t: Tensor): { v: number } {
  if (t._vc === null) t._vc = { v: 0 };
  return t._vc;
}

/**
 * Replaces `t`'s value by `compute(old value)` in place and returns `t`. `others` are the other
 * tensor operands (a graph is recorded when grad mode is on and any operand requires grad).
 */
function inPlace(
  t: Tensor,
  others: readonly TensorLike[],
  compute: (self: Tensor) => Tensor,
): Tensor {
  if (!(t instanceof Tensor))
    throw new GradtrioError("INVALID_ARGUMENT", "an in-place op needs a Tensor");
  const grad = isGradEnabled();
  if (grad && t._gradFn === null && t._requiresGrad)
    throw new GradtrioError("AUTOGRAD", LEAF_IN_PLACE);
  const graph =
    grad && (t.requiresGrad || others.some((o) => o instanceof Tensor && o.requiresGrad));
  let self = t;
  if (graph) {
    // The old value, as the new node's input: it stands for t in the graph so far.
    self = new Tensor(t.data.slice(), t.shape);
    self._f32 = t._f32;
    self._gradFn = t._gradFn;
    self._op = t._op;
    self._arg0 = t._arg0;
    self._arg1 = t._arg1;
    self._args = t._args;
  }
  const r = compute(self);
  if (!sameShape(r.shape, t.shape))
    throw new GradtrioError(
      "SHAPE",
      `output with shape ${showShape(t.shape)} doesn't match the broadcast shape ${showShape(r.shape)}`,
    );
  t.data.set(r.data);
  versionCounter(t).v++;
  if (graph) {
    t._gradFn = r._gradFn;
    t._op = r._op;
    t._arg0 = r._arg0;
    t._arg1 = r._arg1;
    t._args = r._args;
    // The node saw r as its output: t holds that value now (and changing t again is caught).
    if (r._gradFn !== null && r._gradFn.out === r) {
      r._gradFn.out = t;
      r._gradFn.vo = versionOf(t);
    }
  }
  return t;
}

/** `t += other` (broadcast to t's shape). */
export const add_ = (t: Tensor, other: TensorLike): Tensor =>
  inPlace(t, [other], (s) => F.add(s, other));
/** `t -= other` */
export const sub_ = (t: Tensor, other: TensorLike): Tensor =>
  inPlace(t, [other], (s) => F.sub(s, other));
/** `t *= other` */
export const mul_ = (t: Tensor, other: TensorLike): Tensor =>
  inPlace(t, [other], (s) => F.mul(s, other));
/** `t /= other` */
export const div_ = (t: Tensor, other: TensorLike): Tensor =>
  inPlace(t, [other], (s) => F.div(s, other));

// zero_ and fill_ forget the old value: the gradient to it is zero.
const fillRule = (gradFn: string): GradRule => ({
  gradFn,
  saves: SAVE_NONE,
  backward: (n) => [n.needs(0) ? new Tensor(new Float64Array(numelOf(n.shapeA)), n.shapeA) : null],
});
const ZERO = fillRule("ZeroBackward0");
const FILL = fillRule("FillBackward0");

function filled(self: Tensor, value: number, rule: GradRule): Tensor {
  const out = new Tensor(
    new Float64Array(self.numel).fill(self._f32 ? Math.fround(value) : value),
    self.shape,
  );
  out._f32 = self._f32;
  return record(out, rule, self, null, 0, 0, null);
}

/** Sets every element to 0 (`x.grad.zero_()`). */
export const zero_ = (t: Tensor): Tensor => inPlace(t, [], (s) => filled(s, 0, ZERO));

/** Sets every element to `value`. */
export function fill_(t: Tensor, value: number): Tensor {
  if (typeof value !== "number")
    throw new GradtrioError("INVALID_ARGUMENT", "fill_: expected a number");
  return inPlace(t, [], (s) => filled(s, value, FILL));
}
