/**
 * defineOp: custom elementwise ops on tensors (broadcasting, grad_fn name, per-element backward),
 * their registration for expressions, and the errors a bad definition or rule must raise.
 */
import { describe, expect, it } from "vitest";
import { GradtrioError } from "../errors.ts";
import { call, variable } from "../expr/ast.ts";
import { lookupCustomOp } from "../expr/ops.ts";
import { toValues } from "../expr/point.ts";
import { defineOp } from "./define-op.ts";
import { grad } from "./engine.ts";
import { recordOrigins } from "./grad-mode.ts";
import { autogradLeg } from "./leg.ts";
import { tensor } from "./tensor.ts";

function errorOf(fn: () => unknown): GradtrioError | string {
  try {
    fn();
  } catch (e) {
    return e instanceof GradtrioError ? e : `not a GradtrioError: ${String(e)}`;
  }
  return "no error";
}

// f(a, b) = a·b², vjp: (g b², 2 a b g)
const mulSq = defineOp({
  name: "defineOpTestMulSq",
  arity: 2,
  forward: (a, b) => a * b * b,
  backward: ({ args: [a, b], grad: g }) => [g * b! * b!, 2 * a! * b! * g],
  formula: (a, b) => `(${a})*(${b})^2`,
});

describe("defineOp", () => {
  it("returns a function over tensors carrying its definition and name", () => {
    expect(mulSq.opName).toBe("defineOpTestMulSq");
    expect(mulSq.definition.arity).toBe(2);
    expect(lookupCustomOp("defineOpTestMulSq")).toBe(mulSq.definition);
  });

  it("computes forward and backward elementwise with broadcasting", () => {
    const a = tensor([[1], [2]], { requiresGrad: true });
    const b = tensor([3, -1, 0.5], { requiresGrad: true });
    const y = mulSq(a, b);
    expect(y.shape).toEqual([2, 3]);
    expect(y.toArray()).toEqual([
      [9, 1, 0.25],
      [18, 2, 0.5],
    ]);
    expect(y.gradFn!.name).toBe("DefineOpTestMulSqBackward");
    expect(recordOrigins(() => mulSq(a, b)).origin!.op).toBe("defineOpTestMulSq");
    y.sum().backward();
    // d/da_i = sum_j b_j² = 10.25; d/db_j = sum_i 2 a_i b_j = 6 b_j
    expect(a.grad!.toArray()).toEqual([[10.25], [10.25]]);
    expect(b.grad!.toArray()).toEqual([18, -6, 3]);
  });

  it("accepts numbers as arguments, and is callable from expressions", () => {
    const x = tensor(2, { requiresGrad: true });
    const y = mulSq(3, x);
    y.backward();
    expect(x.grad!.item()).toBe(12);
    const r = autogradLeg(
      call("defineOpTestMulSq", [variable("x"), variable("x")]),
      toValues({ x: 2 }),
    );
    // d(x³)/dx = 3x² = 12
    expect(r.value).toBe(8);
    expect([...r.gradients.get("x")!]).toEqual([12]);
  });

  it("refuses an invalid name, arity or rule", () => {
    const bad = [
      { name: "1bad", arity: 1, forward: (x: number) => x, backward: () => [0] },
      { name: "sin", arity: 1, forward: (x: number) => x, backward: () => [0] },
      { name: "defineOpTestArity", arity: 0, forward: () => 0, backward: () => [] },
      { name: "defineOpTestNoBackward", arity: 1, forward: (x: number) => x },
    ];
    for (const def of bad) {
      const e = errorOf(() => defineOp(def as never));
      expect(e).toBeInstanceOf(GradtrioError);
      expect((e as GradtrioError).code).toBe("DEFINE_OP");
    }
  });

  it("refuses an unknown field, which would be lost (a misspelt domain)", () => {
    const e = errorOf(() =>
      defineOp({
        name: "defineOpTestDomian",
        arity: 1,
        forward: (x: number) => Math.sqrt(x),
        backward: () => [0],
        domian: [[0, 1]],
      } as never),
    ) as GradtrioError;
    expect(e.code).toBe("DEFINE_OP");
    expect(e.message).toBe(
      `defineOp("defineOpTestDomian"): unknown field 'domian' (did you mean 'domain'?; known: name, arity, forward, backward, formula, domain, shape)`,
    );
    expect(lookupCustomOp("defineOpTestDomian")).toBeUndefined();
  });

  it("refuses a malformed formula, shown at the user's names, and registers nothing", () => {
    const e = errorOf(() =>
      defineOp({
        name: "defineOpTestBadFormula",
        arity: 1,
        forward: (x) => x * x,
        backward: ({ args: [x], grad }) => [2 * x! * grad],
        formula: (a) => `(${a}^^2`,
      }),
    ) as GradtrioError;
    expect(e.code).toBe("DEFINE_OP");
    expect(e.message).toBe(
      `defineOp("defineOpTestBadFormula"): its formula "(a^^2" is malformed: unbalanced parenthesis: this '(' is never closed`,
    );
    expect(lookupCustomOp("defineOpTestBadFormula")).toBeUndefined();
    // A call of an op the module defines further down is no defect.
    const first = defineOp({
      name: "defineOpTestCallsLater",
      arity: 1,
      forward: (x) => 2 * x,
      backward: ({ grad }) => [2 * grad],
      formula: (a) => `2*defineOpTestLater(${a})`,
    });
    defineOp({
      name: "defineOpTestLater",
      arity: 1,
      forward: (x) => x,
      backward: ({ grad }) => [grad],
      formula: (a) => a,
    });
    expect(first.opName).toBe("defineOpTestCallsLater");
  });

  it("refuses a scalar op's formula that calls a whole-tensor op (sum, softmax, matmul, a tensor op)", () => {
    const whole = (op: string) =>
      `calls ${op}, which works on whole tensors, but an op without a shape rule is a function of numbers, one element at a time: write the formula elementwise, or give the op a shape rule (a tensor op)`;
    const scalar = (name: string, arity: number, formula: (...a: string[]) => string) =>
      errorOf(() =>
        defineOp({ name, arity, forward: (x) => x, backward: ({ grad }) => [grad], formula }),
      ) as GradtrioError;
    const cases: [string, number, (...a: string[]) => string, string][] = [
      ["defineOpTestSum", 1, (u) => `sum(${u})`, `its formula "sum(u)" ${whole("sum")}`],
      [
        "defineOpTestMean",
        1,
        (u) => `2*mean(${u}^2)`,
        `its formula "2*mean(u^2)" ${whole("mean")}`,
      ],
      [
        "defineOpTestSoftmax",
        2,
        (p, q) => `softmax(${p})*${q}`,
        `its formula "softmax(p)*q" ${whole("softmax")}`,
      ],
      [
        "defineOpTestMatmul",
        2,
        (p, q) => `matmul(${p}, ${q})`,
        `its formula "matmul(p, q)" ${whole("matmul")}`,
      ],
      [
        "defineOpTestLse",
        1,
        (u) => `logsumexp(${u})`,
        `its formula "logsumexp(u)" ${whole("logsumexp")}`,
      ],
      ["defineOpTestMax", 1, (u) => `max(${u})`, `its formula "max(u)" ${whole("max")}`],
    ];
    for (const [name, arity, formula, message] of cases) {
      const e = scalar(name, arity, formula);
      expect(e.code).toBe("DEFINE_OP");
      expect(e.message).toBe(`defineOp("${name}"): ${message}`);
      expect(lookupCustomOp(name)).toBeUndefined();
    }
    // A custom tensor op is whole-tensor too; elementwise built-ins and scalar ops are fine.
    defineOp({
      name: "defineOpTestTensorSq",
      arity: 1,
      shape: (x) => x,
      forward: ({ args: [x] }) => x!.map((v) => v * v),
      backward: ({ args: [x], grad }) => [grad.map((g, i) => 2 * x![i]! * g)],
    });
    expect(scalar("defineOpTestCallsTensor", 1, (u) => `defineOpTestTensorSq(${u})`).message).toBe(
      `defineOp("defineOpTestCallsTensor"): its formula "defineOpTestTensorSq(u)" ${whole("defineOpTestTensorSq")}`,
    );
    // A custom scalar op of its own (not one an earlier test defined): calling it is fine.
    defineOp({
      name: "defineOpTestScalarHelper",
      arity: 1,
      forward: (x) => x,
      backward: ({ grad }) => [grad],
    });
    expect(
      defineOp({
        name: "defineOpTestElementwise",
        arity: 2,
        forward: (a, b) => Math.max(a, b) + Math.abs(a),
        backward: ({ grad }) => [grad, grad],
        formula: (a, b) => `maximum(${a}, ${b}) + abs(defineOpTestScalarHelper(${a}))`,
      }).opName,
    ).toBe("defineOpTestElementwise");
  });

  it("refuses a formula that calls its own op, directly or through others, naming the cycle", () => {
    const op = (name: string, formula: (a: string) => string) => ({
      name,
      arity: 1,
      forward: (a: number) => a,
      backward: ({ grad }: { grad: number }) => [grad],
      formula,
    });
    const message = (def: ReturnType<typeof op>) => {
      const e = errorOf(() => defineOp(def));
      expect(e).toBeInstanceOf(GradtrioError);
      expect((e as GradtrioError).code).toBe("DEFINE_OP");
      return (e as GradtrioError).message;
    };
    expect(message(op("defineOpTestSelf", (a) => `defineOpTestSelf(${a})+1`))).toBe(
      `defineOp("defineOpTestSelf"): its formula calls 'defineOpTestSelf' itself`,
    );
    // a → b → c → a: the op that closes the cycle is refused; the others stay usable.
    defineOp(op("defineOpTestCycA", (a) => `2*defineOpTestCycB(${a})`));
    defineOp(op("defineOpTestCycB", (a) => `sin(defineOpTestCycC(${a}))`));
    expect(message(op("defineOpTestCycC", (a) => `defineOpTestCycA(${a}) - 1`))).toBe(
      `defineOp("defineOpTestCycC"): its formula calls 'defineOpTestCycC' itself, through 'defineOpTestCycA', 'defineOpTestCycB' (defineOpTestCycC → defineOpTestCycA → defineOpTestCycB → defineOpTestCycC)`,
    );
    expect(lookupCustomOp("defineOpTestCycC")).toBeUndefined();
    // Calling another op twice is no cycle.
    defineOp(op("defineOpTestLeaf", (a) => `exp(${a})`));
    defineOp(op("defineOpTestTwice", (a) => `defineOpTestLeaf(${a})*defineOpTestLeaf(2*${a})`));
    expect(lookupCustomOp("defineOpTestTwice")).toBeDefined();
  });

  it("refuses a backward that returns the wrong count, naming the op", () => {
    const wrong = defineOp({
      name: "defineOpTestWrongCount",
      arity: 2,
      forward: (a, b) => a + b,
      backward: ({ grad: g }) => [g],
    });
    const x = tensor(1, { requiresGrad: true });
    const e = errorOf(() => wrong(x, 2).backward());
    expect(e).toBeInstanceOf(GradtrioError);
    expect((e as GradtrioError).code).toBe("DEFINE_OP");
    expect((e as GradtrioError).message).toBe(
      "defineOpTestWrongCount: backward returned 1 value(s), expected an array of 2 number(s) (one per argument)",
    );
  });

  it("turns an exception in the user's code into a GradtrioError naming the op", () => {
    const throwing = defineOp({
      name: "defineOpTestThrows",
      arity: 1,
      forward: (x) => {
        if (x > 1) throw new RangeError("too big");
        return x;
      },
      backward: () => {
        throw new Error("no rule");
      },
    });
    const e = errorOf(() => throwing(tensor(2)));
    expect((e as GradtrioError).message).toBe("defineOpTestThrows: its forward threw: too big");
    const b = errorOf(() => throwing(tensor(0.5, { requiresGrad: true })).backward());
    expect((b as GradtrioError).code).toBe("DEFINE_OP");
    expect((b as GradtrioError).message).toBe("defineOpTestThrows: its backward threw: no rule");
  });

  it("names the op also when its rule throws one of gradtrio's own errors (a Tensor call in it)", () => {
    const misuses = defineOp({
      name: "defineOpTestMisuse",
      arity: 1,
      forward: (x) => x * x,
      // .item() of two elements: gradtrio's GradtrioError, from inside the user's rule.
      backward: ({ args: [x], grad: g }) => [tensor([x!, g]).item()],
    });
    const e = errorOf(() => misuses(tensor(2, { requiresGrad: true })).backward());
    expect((e as GradtrioError).message).toBe(
      "defineOpTestMisuse: its backward threw: a Tensor with 2 elements cannot be converted to Scalar",
    );
    expect((e as GradtrioError).op).toBe("defineOpTestMisuse");
    expect((e as GradtrioError).phase).toBe("backward");
    // An op called from another op's forward: the error names the op that threw.
    const inner = defineOp({
      name: "defineOpTestInner",
      arity: 1,
      forward: () => {
        throw new Error("inner broke");
      },
      backward: ({ grad: g }) => [g],
    });
    const outer = defineOp({
      name: "defineOpTestOuter",
      arity: 1,
      forward: (x) => inner(tensor(x)).item(),
      backward: ({ grad: g }) => [g],
    });
    expect((errorOf(() => outer(tensor(1))) as GradtrioError).message).toBe(
      "defineOpTestInner: its forward threw: inner broke",
    );
  });

  it("refuses the wrong number of arguments", () => {
    const e = errorOf(() => mulSq(tensor(1)));
    expect((e as GradtrioError).code).toBe("ARITY");
  });

  it("fails loudly, never returns 0, when its gradient is differentiated again", () => {
    const x = tensor(1.5, { requiresGrad: true });
    const [g] = grad(mulSq(x, x), [x], { createGraph: true });
    // d(x³)/dx = 3x²
    expect(g!.item()).toBe(3 * 1.5 * 1.5);
    const e = errorOf(() => grad(g!, [x]));
    expect(e).toBeInstanceOf(GradtrioError);
    expect((e as GradtrioError).code).toBe("AUTOGRAD");
    expect((e as GradtrioError).message).toMatch(
      /^defineOpTestMulSq: cannot differentiate its gradient again/,
    );
    const r = errorOf(() =>
      autogradLeg(call("defineOpTestMulSq", [variable("x"), variable("x")]), toValues({ x: 2 }), {
        hessian: true,
      }),
    );
    expect((r as GradtrioError).code).toBe("AUTOGRAD");
  });
});
