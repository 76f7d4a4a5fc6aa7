/**
 * The backward engine. It finds the nodes reachable from the outputs, orders them topologically
 * (Kahn's algorithm over dependency counts, with an explicit stack: a million-deep chain does not
 * overflow), sums the incoming gradients per node and runs each node's rule exactly once.
 * Rules run with grad mode off unless `createGraph`, so gradients are plain tensors by default
 * and differentiable tensors (Hessians, double backward) on request.
 */
import { mapPacked } from "../arrays.ts";
import { checkOptionNames, GradtrioError } from "../errors.ts";
import { round32 } from "./float32.ts";
import { add, reshape } from "./functions.ts";
import { anyFresh, beginRule, endRule, spreadShapes, wasFresh, wholeGrad } from "./grad-buffers.ts";
import { isRecordingOrigins, setGradEnabled, setRecordingOrigins } from "./grad-mode.ts";
import { CAPTURE, edgeOf, type Node, RUN, SKIP } from "./node.ts";
import { type Shape, sameShape, showShape } from "./shape.ts";
import { type NestedNumbers, Tensor, type TensorLike, tensor } from "./tensor.ts";

export interface BackwardOptions {
  /** Keep the saved tensors so the graph can be differentiated again (default: `createGraph`). */
  readonly retainGraph?: boolean;
  /** Record the backward pass itself, so the gradients can be differentiated (default false). */
  readonly createGraph?: boolean;
}

export interface GradOptions extends BackwardOptions {
  /** The vector in the vector–Jacobian product, one per output; required for non-scalar outputs. */
  readonly gradOutputs?: readonly (TensorLike | NestedNumbers | null | undefined)[] | TensorLike;
  /** Return null for an input the outputs do not depend on, instead of throwing. */
  readonly allowUnused?: boolean;
}

let epochCounter = 0;

/** What a pass delivers to: leaves' `.grad` (backward) or the gradients of given inputs (grad). */
type Targets = readonly (Node | null)[] | null;

function seedFor(out: Tensor, given: unknown, i: number): Tensor {
  if (given === undefined || given === null) {
    if (out.numel !== 1)
      throw new GradtrioError("AUTOGRAD", "grad can be implicitly created only for scalar outputs");
    const one = new Tensor(Float64Array.of(1), out.shape);
    one._f32 = out._f32; // the seed has the output's dtype
    return one;
  }
  let g: Tensor;
  if (given instanceof Tensor) g = given;
  else if (typeof given === "number" || Array.isArray(given)) g = tensor(given as NestedNumbers);
  else
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `gradient ${i}: expected a Tensor, a number or nested arrays of numbers`,
    );
  if (!sameShape(g.shape, out.shape))
    throw new GradtrioError(
      "SHAPE",
      `Mismatch in shape: grad_output[${i}] has a shape of ${showShape(g.shape)} and output[${i}] has a shape of ${showShape(out.shape)}.`,
    );
  const d = g.data;
  for (let k = 0; k < d.length; k++)
    if (!Number.isFinite(d[k]!))
      throw new GradtrioError(
        "NON_FINITE",
        `gradient ${i}: element ${k} is ${d[k]}; the gradient passed to backward must be finite`,
      );
  return g;
}

function rootOf(out: unknown, i: number): Node {
  if (!(out instanceof Tensor))
    throw new GradtrioError("INVALID_ARGUMENT", `output ${i} is not a Tensor`);
  const n = edgeOf(out);
  if (n === null)
    throw new GradtrioError(
      "AUTOGRAD",
      `element ${i} of tensors does not require grad and does not have a grad_fn`,
    );
  return n;
}

/**
 * Backpropagates from `out` and accumulates the gradient into every reachable leaf's `.grad`
 * (and into `.grad` of non-leaves that called `retainGrad()`).
 *
 * @example
 * const x = tensor([1, 2, 3], { requiresGrad: true });
 * backward(x.pow(2).mean()); // x.grad = [2/3, 4/3, 2]
 */
export function backward(
  out: Tensor,
  gradient?: TensorLike | NestedNumbers,
  options?: BackwardOptions | null,
): void {
  const root = rootOf(out, 0);
  const seed = seedFor(out, gradient, 0);
  // null options are no options (as undefined), for callers in plain JavaScript.
  const opts = options ?? {};
  checkOptionNames(opts, ["retainGraph", "createGraph"], "backward");
  const createGraph = opts.createGraph === true;
  const retainGraph = opts.retainGraph ?? createGraph;
  // The caller's own gradient tensor must not become a leaf's .grad (it would be mutated later).
  const shared = new Set<Tensor>(seed === gradient ? [seed] : []);
  run([root], [seed], retainGraph, createGraph, null, shared);
}

/**
 * The gradients of `outputs` with respect to `inputs` (PyTorch's `torch.autograd.grad`), without
 * touching any `.grad`. With `createGraph` the results are themselves differentiable.
 *
 * @example
 * const x = tensor(3, { requiresGrad: true });
 * const [dx] = grad(x.pow(2).sin(), [x], { createGraph: true });
 * const [d2x] = grad(dx!, [x]); // the second derivative
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  options?: GradOptions | null,
): (Tensor | null)[] {
  const opts = options ?? {};
  checkOptionNames(opts, ["retainGraph", "createGraph", "gradOutputs", "allowUnused"], "grad");
  const outs: readonly Tensor[] = Array.isArray(outputs) ? outputs : [outputs as Tensor];
  const ins: readonly Tensor[] = Array.isArray(inputs) ? inputs : [inputs as Tensor];
  const createGraph = opts.createGraph === true;
  const retainGraph = opts.retainGraph ?? createGraph;
  const go = opts.gradOutputs;
  const given: readonly unknown[] = go === undefined ? [] : Array.isArray(go) ? go : [go];
  if (given.length > 0 && given.length !== outs.length)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `grad: ${given.length} gradOutputs for ${outs.length} output(s)`,
    );
  const targets = mapPacked(ins, (t, i) => {
    if (!(t instanceof Tensor))
      throw new GradtrioError("INVALID_ARGUMENT", `grad: input ${i} is not a Tensor`);
    const n = edgeOf(t);
    if (n === null)
      throw new GradtrioError(
        "AUTOGRAD",
        "One of the differentiated Tensors does not require grad",
      );
    return n;
  });
  const roots = mapPacked(outs, rootOf);
  const seeds = mapPacked(outs, (o, i) => seedFor(o, given[i], i));
  const result = run(roots, seeds, retainGraph, createGraph, targets, new Set(seeds))!;
  if (opts.allowUnused !== true && result.some((r) => r === null))
    throw new GradtrioError(
      "AUTOGRAD",
      "One of the differentiated Tensors appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior.",
    );
  return result;
}

function run(
  roots: readonly Node[],
  seeds: readonly Tensor[],
  retainGraph: boolean,
  createGraph: boolean,
  targets: Targets,
  shared: Set<Tensor>,
): (Tensor | null)[] | null {
  const epoch = ++epochCounter;
  const all = targets === null;
  // 1. Discover the reachable nodes and count each one's incoming edges.
  const stack: Node[] = [];
  for (const r of roots)
    if (r.epoch !== epoch) {
      r.epoch = epoch;
      r.deps = 0;
      r.acc = null;
      stack.push(r);
    }
  while (stack.length > 0) {
    const nx = stack.pop()!.next;
    for (let i = 0; i < nx.length; i++) {
      const c = nx[i];
      if (c == null) continue;
      if (c.epoch !== epoch) {
        c.epoch = epoch;
        c.deps = 0;
        c.acc = null;
        stack.push(c);
      }
      c.deps++;
    }
  }
  // 2. A topological order: a node comes after every node that sends it a gradient.
  const order: Node[] = [];
  for (const r of roots)
    if (r.deps === 0) {
      r.deps = -1;
      stack.push(r);
    }
  while (stack.length > 0) {
    const n = stack.pop()!;
    order.push(n);
    const nx = n.next;
    for (let i = 0; i < nx.length; i++) {
      const c = nx[i];
      if (c != null && --c.deps === 0) stack.push(c);
    }
  }
  // 3. Which nodes run: all for backward(); for grad(), those from which a target is reachable.
  if (all) for (const n of order) n.mark = RUN;
  else {
    for (const n of order) n.mark = SKIP;
    for (const t of targets) if (t !== null) t.mark = CAPTURE;
    for (let k = order.length - 1; k >= 0; k--) {
      const n = order[k]!;
      const nx = n.next;
      for (let i = 0; i < nx.length; i++)
        if (nx[i] != null && nx[i]!.mark !== SKIP) {
          n.mark = RUN;
          break;
        }
    }
  }
  // Gradients only this pass references (made by the rules' fast paths or by accumulation), so
  // a rule may overwrite its incoming one and a second gradient may be added into one in place.
  // Empty with createGraph: every gradient is then a recorded tensor.
  const owned = new Set<Tensor>();
  // Nodes whose gradient is a spread one (grad-buffers.ts), with the shape it stands for.
  let spreadAt: Map<Node, Shape> | null = null;
  const previous = setGradEnabled(createGraph);
  // Without createGraph the gradients are constants (no graph, and the rules and .grad
  // accumulation write in place), so they record no origin either: a trace reads them as numbers.
  const previousOrigins = setRecordingOrigins(createGraph && isRecordingOrigins());
  try {
    for (let i = 0; i < roots.length; i++) {
      const r = roots[i]!;
      r.acc = r.acc === null ? seeds[i]! : add(r.acc, seeds[i]!);
    }
    for (const n of order) {
      let g = n.acc;
      if (g === null || n.mark === SKIP) continue;
      const whole = spreadAt === null ? undefined : spreadAt.get(n);
      if (whole !== undefined && !takesSpread(n, all, targets)) {
        g = wholeGrad(g, whole);
        owned.add(g);
        n.acc = g;
      }
      if (n.rule === null) {
        if (all) store(n.variable!, g, createGraph, shared);
        continue;
      }
      if (n.mark !== RUN) continue;
      // g leaves `owned` (what the rule returns is owned only if it made it: collectOwned); the
      // rule may overwrite g when the engine owned it and nothing reads it afterwards.
      const mine = owned.size > 0 && owned.delete(g);
      let lent: Tensor | null = null;
      if (all && n.retained !== null) store(n.retained, g, createGraph, shared);
      else if (mine && (all || !isTarget(n, targets))) lent = g;
      let grads: readonly (Tensor | null)[];
      let spreads: (Shape | undefined)[] | null = null;
      try {
        beginRule(lent);
        grads = n.apply(g);
        if (!createGraph && anyFresh()) collectOwned(grads, owned);
        if (!createGraph) spreads = spreadShapes(grads);
      } finally {
        endRule();
      }
      if (!retainGraph) n.release();
      const nx = n.next;
      for (let i = 0; i < nx.length; i++) {
        const c = nx[i];
        let gi = grads[i];
        if (c == null || gi == null) continue;
        const si = spreads === null ? undefined : spreads[i];
        if (c.acc === null) {
          c.acc = gi;
          if (si !== undefined) (spreadAt ??= new Map()).set(c, si);
          continue;
        }
        // A second gradient: spread ones are written out first.
        if (si !== undefined) {
          gi = wholeGrad(gi, si);
          owned.add(gi);
        }
        const cs = spreadAt === null ? undefined : spreadAt.get(c);
        if (cs !== undefined) {
          spreadAt!.delete(c);
          c.acc = wholeGrad(c.acc, cs);
          owned.add(c.acc);
        }
        if (owned.has(c.acc) && accumulateInPlace(c.acc, gi)) owned.delete(gi);
        else {
          c.acc = add(c.acc, gi);
          if (!createGraph) owned.add(c.acc);
        }
      }
      // This node's gradient is no longer needed (unless it is a target, read below).
      if (all || !isTarget(n, targets)) n.acc = null;
    }
    if (all) return null;
    return mapPacked(targets, (t) => (t === null ? null : t.acc));
  } finally {
    setGradEnabled(previous);
    setRecordingOrigins(previousOrigins);
    for (const n of order) n.acc = null;
  }
}

/**
 * Whether node `n` is given its spread gradient as it is: a rule that takes one, over float64
 * saved tensors (a 0-d float64 g would not promote a float32 product to float64 as the full one
 * does), whose gradient no one reads afterwards (a retained `.grad`, a grad() target).
 */
function takesSpread(n: Node, all: boolean, targets: Targets): boolean {
  if (n.rule === null || n.rule.takesSpread !== true || n.mark !== RUN) return false;
  if (n.a?._f32 || n.out?._f32) return false;
  return all ? n.retained === null : !isTarget(n, targets!);
}

/** Adds to `owned` each gradient a rule made fresh and returned once (not to two inputs). */
function collectOwned(grads: readonly (Tensor | null)[], owned: Set<Tensor>): void {
  for (let i = 0; i < grads.length; i++) {
    const gi = grads[i];
    if (gi == null || !wasFresh(gi)) continue;
    let once = true;
    for (let j = 0; j < grads.length; j++) if (j !== i && grads[j] === gi) once = false;
    if (once) owned.add(gi);
  }
}

/** `acc += g` in place (an owned float64 gradient, no graph); false when it needs add(). */
function accumulateInPlace(acc: Tensor, g: Tensor): boolean {
  if (acc._f32 || g._f32 || !sameShape(acc.shape, g.shape)) return false;
  const d = acc.data;
  const s = g.data;
  for (let i = 0; i < d.length; i++) d[i] += s[i]!;
  return true;
}

function isTarget(n: Node, targets: readonly (Node | null)[]): boolean {
  for (const t of targets) if (t === n) return true;
  return false;
}

/** Accumulates `g` into `t.grad` (PyTorch's AccumulateGrad): in place when it can, never aliasing. */
function store(t: Tensor, g: Tensor, createGraph: boolean, shared: Set<Tensor>): void {
  const current = t._grad;
  if (current === null) {
    // A gradient tensor may reach two leaves (a + b passes it to both) or be the caller's own.
    let mine = g;
    if (g._f32 !== t._f32 && !createGraph) {
      // .grad has the leaf's dtype (a rule may have promoted a float32 gradient to float64).
      mine = new Tensor(g.data.slice(), g.shape);
      if (t._f32) round32(mine.data);
      mine._f32 = t._f32;
    } else if (shared.has(g)) {
      mine = createGraph ? reshape(g, g.shape) : new Tensor(g.data.slice(), g.shape);
      mine._f32 = g._f32;
    }
    shared.add(mine);
    t._grad = mine;
  } else if (!createGraph && !current.requiresGrad) {
    const d = current.data;
    const s = g.data;
    if (current._f32) for (let i = 0; i < d.length; i++) d[i] = Math.fround(d[i]! + s[i]!);
    else for (let i = 0; i < d.length; i++) d[i] += s[i]!;
  } else t._grad = add(current, g);
}
