/**
 * Graph nodes (`grad_fn`): one per op output that requires grad, plus one `AccumulateGrad` per
 * leaf. A node holds its backward rule, the edges to its inputs' nodes and the tensors its rule
 * saved; the engine (engine.ts) walks them and frees what they saved.
 */
import { mapPacked } from "../arrays.ts";
import { GradtrioError } from "../errors.ts";
import { isGradEnabled } from "./grad-mode.ts";
import type { Shape } from "./shape.ts";
import type { Tensor } from "./tensor.ts";

/** A backward rule and the name PyTorch gives its node. */
export interface GradRule {
  readonly gradFn: string;
  /** Which tensors the rule reads: SAVE_A | SAVE_B | SAVE_OUT | SAVE_RULE_DATA (bits). */
  readonly saves: number;
  /** The vector–Jacobian product, one entry per input (null where not needed), written with Tensor ops. */
  readonly backward: (n: Node, g: Tensor) => readonly (Tensor | null)[];
  /**
   * Whether, with float64 saved tensors, `backward` also takes a 0-d g standing for that value at
   * every element of the output (a spread gradient, grad-buffers.ts) and still returns
   * gradients of the inputs' full shapes.
   */
  readonly takesSpread?: boolean;
}

export const SAVE_NONE = 0;
export const SAVE_A = 1;
export const SAVE_B = 2;
export const SAVE_OUT = 4;
/** The rule reads tensors kept in `ruleData` (ops with more than two inputs, custom ops). */
export const SAVE_RULE_DATA = 8;

/** Engine marks: skip a node, only capture its gradient (a grad() target), or run its rule. */
export const SKIP = 0;
export const CAPTURE = 1;
export const RUN = 2;

/** A `grad_fn`: `name`, `nextFunctions` as in PyTorch. */
export class Node {
  readonly rule: GradRule | null;
  /** The input edges: each input's node, or null for an input that does not require grad. */
  readonly next: (Node | null)[];
  /** Saved tensors (released after backward unless retainGraph). */
  a: Tensor | null = null;
  b: Tensor | null = null;
  out: Tensor | null = null;
  /** The versions of a, b and out when they were saved (in-place ops bump a tensor's version). */
  va = 0;
  vb = 0;
  vo = 0;
  /** The versions of the tensors in `ruleData` when saved (SAVE_RULE_DATA rules), in its order. */
  vx: number[] | null = null;
  /** Input shapes (broadcast gradients are summed back to them). */
  readonly shapeA: Shape;
  readonly shapeB: Shape;
  /** The op's numeric parameters (a pow exponent, clamp bounds, dims). */
  readonly param0: number;
  readonly param1: number;
  /** Anything else the rule needs (a custom op's inputs, clamp's tensor bounds). */
  ruleData: unknown;
  /** The leaf this node accumulates into (AccumulateGrad only). */
  readonly variable: Tensor | null;
  /** A non-leaf tensor whose `.grad` backward fills (set by `retainGrad()`). */
  retained: Tensor | null = null;
  freed = false;
  // Engine scratch space, reset after each pass.
  epoch = 0;
  deps = 0;
  acc: Tensor | null = null;
  mark = 0;

  constructor(
    rule: GradRule | null,
    next: (Node | null)[],
    shapeA: Shape,
    shapeB: Shape,
    param0: number,
    param1: number,
    ruleData: unknown,
    variable: Tensor | null,
  ) {
    this.rule = rule;
    this.next = next;
    this.shapeA = shapeA;
    this.shapeB = shapeB;
    this.param0 = param0;
    this.param1 = param1;
    this.ruleData = ruleData;
    this.variable = variable;
  }

  /** PyTorch's node name: `PowBackward0`, `AccumulateGrad`, … */
  get name(): string {
    return this.rule === null ? "AccumulateGrad" : this.rule.gradFn;
  }

  /** `[node | null, 0]` per input, as PyTorch's `grad_fn.next_functions`. */
  get nextFunctions(): [Node | null, 0][] {
    return this.next.map((n) => [n, 0]);
  }

  /** Whether the rule must produce a gradient for input `i`. */
  needs(i: number): boolean {
    return this.next[i] != null;
  }

  /** Runs the rule; throws PyTorch's error when the saved tensors were already freed. */
  apply(g: Tensor): readonly (Tensor | null)[] {
    if (this.freed)
      throw new GradtrioError(
        "AUTOGRAD",
        "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or grad(). Specify retainGraph: true if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.",
      );
    checkSavedVersions(this);
    return this.rule!.backward(this, g);
  }

  /** Drops the saved tensors so their memory can go (PyTorch frees saved variables likewise). */
  release(): void {
    if (this.rule === null || this.rule.saves === SAVE_NONE) return;
    this.a = null;
    this.b = null;
    this.out = null;
    if (this.rule.saves & SAVE_RULE_DATA) this.ruleData = null;
    this.freed = true;
  }

  toString(): string {
    return `<${this.name}>`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `<${this.name}>`;
  }
}

export function versionOf(t: Tensor): number {
  return t._vc === null ? 0 : t._vc.v;
}

/** `[torch.DoubleTensor [3]]`, as PyTorch names a tensor in its autograd errors. */
function describe(t: Tensor): string {
  return `[torch.${t._f32 ? "Float" : "Double"}Tensor [${t.shape.join(", ")}]]`;
}

/** Throws PyTorch's error when a tensor the node saved was changed in place after it was saved. */
export function checkSavedVersions(n: Node): void {
  // No allocation on the common path: a tensor never changed in place has no counter.
  if (n.a !== null && n.a._vc !== null && n.a._vc.v !== n.va) throw versionError(n, n.a, n.va);
  if (n.b !== null && n.b._vc !== null && n.b._vc.v !== n.vb) throw versionError(n, n.b, n.vb);
  if (n.out !== null && n.out._vc !== null && n.out._vc.v !== n.vo)
    throw versionError(n, n.out, n.vo);
  if (n.vx !== null && Array.isArray(n.ruleData))
    savedTensors(n.ruleData).forEach((t, i) => {
      if (versionOf(t) !== n.vx![i]) throw versionError(n, t, n.vx![i]!);
    });
}

/** The tensors among a rule's `ruleData` values (custom ops' inputs, clamp's tensor bounds). */
function savedTensors(ruleData: readonly unknown[]): Tensor[] {
  return ruleData.filter(
    (e): e is Tensor => typeof e === "object" && e !== null && "_vc" in e && "_gradFn" in e,
  );
}

function versionError(n: Node, t: Tensor, saved: number): GradtrioError {
  const which = t._gradFn === null ? "" : `, which is output 0 of ${t._gradFn.name},`;
  return new GradtrioError(
    "AUTOGRAD",
    `one of the variables needed for gradient computation has been modified by an inplace operation: ${describe(t)}${which} is at version ${versionOf(t)}; expected version ${saved} instead. Hint: ${n.name} saved it for backward; change it in place only after backward(), or use the out-of-place op.`,
  );
}

/** The `AccumulateGrad` node of a leaf that requires grad, made once and cached on the leaf. */
export function accumulatorOf(t: Tensor): Node {
  let n = t._accNode;
  if (n === null) {
    n = new Node(null, [], t.shape, t.shape, 0, 0, null, t);
    t._accNode = n;
  }
  return n;
}

/** The node a gradient for `t` flows into, or null when `t` does not require grad. */
export function edgeOf(t: Tensor): Node | null {
  if (t._gradFn !== null) return t._gradFn;
  return t._requiresGrad ? accumulatorOf(t) : null;
}

/**
 * Attaches, when grad mode is on and an input requires grad, the graph node of a freshly
 * computed op output. Up to two tensor inputs; ops with more pass them all in `rest`.
 */
export function record(
  out: Tensor,
  rule: GradRule,
  a: Tensor,
  b: Tensor | null,
  param0: number,
  param1: number,
  ruleData: unknown,
  rest?: readonly Tensor[],
): Tensor {
  if (!isGradEnabled()) return out;
  let next: (Node | null)[];
  if (rest !== undefined) {
    next = mapPacked(rest, edgeOf);
    if (next.every((e) => e === null)) return out;
  } else {
    const ea = edgeOf(a);
    if (b === null) {
      if (ea === null) return out;
      next = [ea];
    } else {
      const eb = edgeOf(b);
      if (ea === null && eb === null) return out;
      next = [ea, eb];
    }
  }
  const n = new Node(
    rule,
    next,
    a.shape,
    b === null ? a.shape : b.shape,
    param0,
    param1,
    ruleData,
    null,
  );
  const s = rule.saves;
  if (s & SAVE_A) {
    n.a = a;
    if (a._vc !== null) n.va = a._vc.v;
  }
  if (s & SAVE_B && b !== null) {
    n.b = b;
    if (b._vc !== null) n.vb = b._vc.v;
  }
  if (s & SAVE_OUT) n.out = out;
  if (s & SAVE_RULE_DATA && Array.isArray(ruleData))
    n.vx = mapPacked(savedTensors(ruleData), (t) => (t._vc === null ? 0 : t._vc.v));
  out._gradFn = n;
  return out;
}
