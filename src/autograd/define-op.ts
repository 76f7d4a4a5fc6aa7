/**
 * Custom ops: the user's forward and backward rule, on plain numbers (elementwise, lifted to
 * tensors with broadcasting) or on tensors (a shape rule and a vector–Jacobian product, as a
 * torch.autograd.Function), each a graph node named after the op and registered so expressions
 * can call the op by name too.
 */

import { mapPacked } from "../arrays.ts";
import { describeValue, GradtrioError, type OpPhase, opThrew } from "../errors.ts";
import { laterOpsAllowed } from "../expr/op-formula.ts";
import {
  type CustomOpDefinition,
  isTensorOp,
  type OpDefinition,
  registerCustomOp,
  type TensorOpDefinition,
} from "../expr/ops.ts";
import { tensorOpShape } from "../expr/shapes.ts";
import { checkedTensorForward, tensorOpBackward } from "../expr/tensor-op.ts";
import { promote32, round32 } from "./float32.ts";
import { sumTo } from "./functions.ts";
import { isRecordingOrigins } from "./grad-mode.ts";
import { type GradRule, record, SAVE_OUT, SAVE_RULE_DATA } from "./node.ts";
import { broadcastData } from "./ops.ts";
import { broadcastShapes, numelOf, type Shape, sameShape } from "./shape.ts";
import { scalarTensor, Tensor, type TensorLike } from "./tensor.ts";

/** A custom op as a function over tensors (and numbers), carrying its definition. */
export interface TensorOpFunction<D extends OpDefinition = OpDefinition> {
  (...args: TensorLike[]): Tensor;
  readonly definition: D;
  readonly opName: string;
}

/**
 * Defines a custom op from a forward and a hand-written backward rule (one vector–Jacobian
 * product per argument), validates and registers it, and returns it as a function over tensors.
 * Elementwise on numbers, or, with a shape rule `shape`, on tensors (see `TensorOpDefinition`).
 * `formula` (the op in the expression language) lets the symbolic leg check it.
 *
 * @example
 * const mySquare = defineOp({
 *   name: "mySquare",
 *   arity: 1,
 *   forward: (x) => x * x,
 *   backward: ({ args: [x], grad }) => [2 * x! * grad],
 *   formula: (x) => `(${x})^2`,
 * });
 * const y = mySquare(tensor(3, { requiresGrad: true })); // grad_fn=<MySquareBackward>
 */
export function defineOp(def: TensorOpDefinition): TensorOpFunction<TensorOpDefinition>;
export function defineOp(def: CustomOpDefinition): TensorOpFunction<CustomOpDefinition>;
export function defineOp(def: OpDefinition): TensorOpFunction {
  const registered = registerCustomOp(def, laterOpsAllowed);
  const fn = (...args: TensorLike[]): Tensor => applyCustomOp(registered, args);
  Object.defineProperty(fn, "definition", { value: registered, enumerable: true });
  Object.defineProperty(fn, "opName", { value: registered.name, enumerable: true });
  Object.defineProperty(fn, "name", { value: registered.name });
  return fn as TensorOpFunction;
}

const rules = new WeakMap<OpDefinition, GradRule>();

/** `mySquare` → `MySquareBackward`, as PyTorch names custom Functions' nodes. */
export function gradFnNameOf(opName: string): string {
  return opName.charAt(0).toUpperCase() + opName.slice(1) + "Backward";
}

/**
 * Applies a (registered) custom op to tensors or numbers: elementwise with broadcasting, or a
 * tensor op at the shape its rule gives.
 */
export function applyCustomOp(def: OpDefinition, args: readonly TensorLike[]): Tensor {
  const name = def.name;
  if (args.length !== def.arity)
    throw new GradtrioError("ARITY", `${name} takes ${def.arity} argument(s), got ${args.length}`);
  const inputs = mapPacked(args, (a, i) => {
    if (a instanceof Tensor) return a;
    if (typeof a === "number") return scalarTensor(a);
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `${name}: argument ${i + 1} must be a Tensor or a number, got ${a === null ? "null" : typeof a}`,
    );
  });
  if (isTensorOp(def)) return applyTensorOp(def, args, inputs);
  let shape: Shape = inputs[0]!.shape;
  for (let k = 1; k < inputs.length; k++) shape = broadcastShapes(shape, inputs[k]!.shape, name);
  const datas = mapPacked(inputs, (t) => broadcastData(t, shape));
  const n = numelOf(shape);
  const o = new Float64Array(n);
  const f = def.forward;
  const xs = new Array<number>(def.arity);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < xs.length; k++) xs[k] = datas[k]![i]!;
    const v = userCall(name, "forward", () => f(...xs));
    if (typeof v !== "number")
      throw new GradtrioError(
        "DEFINE_OP",
        `${name}: forward returned ${describeValue(v)} for (${xs.join(", ")}), expected a number`,
        { op: name, phase: "forward" },
      );
    o[i] = v;
  }
  const out = new Tensor(o, shape);
  if (promote32(args)) {
    round32(o);
    out._f32 = true;
  }
  if (isRecordingOrigins()) out.origin = { op: name, args: [...args] };
  return record(out, gradRuleOf(def), inputs[0]!, inputs[1] ?? null, 0, 0, inputs, inputs);
}

function applyTensorOp(
  def: TensorOpDefinition,
  args: readonly TensorLike[],
  inputs: Tensor[],
): Tensor {
  const shapes = inputs.map((t) => t.shape);
  const shape = tensorOpShape(def, shapes);
  const datas = inputs.map((t) => t.data);
  const out = new Tensor(checkedTensorForward(def, datas, shapes, shape), shape);
  if (promote32(args)) {
    round32(out.data);
    out._f32 = true;
  }
  if (isRecordingOrigins()) out.origin = { op: def.name, args: [...args] };
  return record(out, tensorRuleOf(def), inputs[0]!, inputs[1] ?? null, 0, 0, inputs, inputs);
}

/** The graph node of a tensor op: its backward is the user's vector–Jacobian product. */
function tensorRuleOf(def: TensorOpDefinition): GradRule {
  let rule = rules.get(def);
  if (rule !== undefined) return rule;
  const noDouble = noDoubleBackward(def.name);
  rule = {
    gradFn: gradFnNameOf(def.name),
    saves: SAVE_RULE_DATA | SAVE_OUT,
    backward: (node, g) => {
      const inputs = node.ruleData as Tensor[];
      const out = node.out!;
      const grads = tensorOpBackward(
        def,
        inputs.map((t) => t.data),
        inputs.map((t) => t.shape),
        out.data,
        out.shape,
        g.data,
      );
      return inputs.map((t, k) => {
        if (!node.needs(k)) return null;
        const raw = new Tensor(grads[k]!, t.shape);
        if (g._f32) {
          round32(raw.data);
          raw._f32 = true;
        }
        return record(raw, noDouble, g, null, 0, 0, null, [g, ...inputs]);
      });
    },
  };
  rules.set(def, rule);
  return rule;
}

/** A gradient that is plain numbers, not a graph: differentiating it again must fail loudly. */
function noDoubleBackward(name: string): GradRule {
  return {
    gradFn: `${gradFnNameOf(name)}Backward`,
    saves: 0,
    backward: () => {
      throw new GradtrioError(
        "AUTOGRAD",
        `${name}: cannot differentiate its gradient again: a defineOp backward rule works on plain numbers, so second derivatives through '${name}' are not available`,
      );
    },
  };
}

function gradRuleOf(def: CustomOpDefinition): GradRule {
  let rule = rules.get(def);
  if (rule !== undefined) return rule;
  const name = def.name;
  const gradFn = gradFnNameOf(name);
  const noDouble = noDoubleBackward(name);
  rule = {
    gradFn,
    saves: SAVE_RULE_DATA | SAVE_OUT,
    // vjp per element: the user's backward({ args, out, grad }) returns one number per argument
    backward: (node, g) => {
      const inputs = node.ruleData as Tensor[];
      const out = node.out!;
      const shape = out.shape;
      const datas = mapPacked(inputs, (t) => broadcastData(t, shape));
      const len = out.numel;
      const grads = mapPacked(inputs, () => new Float64Array(len));
      const od = out.data;
      const gd = g.data;
      for (let i = 0; i < len; i++) {
        const args = mapPacked(datas, (d) => d[i]!);
        const r: unknown = userCall(name, "backward", () =>
          def.backward({ args, out: od[i]!, grad: gd[i]! }),
        );
        if (!Array.isArray(r) || r.length !== def.arity)
          throw new GradtrioError(
            "DEFINE_OP",
            `${name}: backward returned ${Array.isArray(r) ? `${r.length} value(s)` : describeValue(r)}, expected an array of ${def.arity} number(s) (one per argument)`,
            { op: name, phase: "backward" },
          );
        for (let k = 0; k < r.length; k++) {
          const v: unknown = r[k];
          if (typeof v !== "number")
            throw new GradtrioError(
              "DEFINE_OP",
              `${name}: backward returned ${describeValue(v)} at index ${k}, expected a number`,
              { op: name, phase: "backward" },
            );
          grads[k]![i] = v;
        }
      }
      return mapPacked(inputs, (t, k) => {
        if (!node.needs(k)) return null;
        const raw = new Tensor(grads[k]!, shape);
        if (g._f32) {
          round32(raw.data);
          raw._f32 = true;
        }
        let gk = record(raw, noDouble, g, null, 0, 0, null, [g, ...inputs]);
        if (!sameShape(shape, t.shape)) gk = sumTo(gk, t.shape);
        return gk;
      });
    },
  };
  rules.set(def, rule);
  return rule;
}

/** Runs the user's code; an exception from it becomes a GradtrioError naming the op. */
function userCall<T>(name: string, what: OpPhase, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw opThrew(name, what, e);
  }
}
