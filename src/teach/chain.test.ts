// The teaching graph against the seed notebooks: the nodes PyTorch records, their grad_fn names,
// and gradients equal to PyTorch's (test/fixtures/torch-golden.json) or to a hand formula.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { autogradLeg } from "../autograd/leg.ts";
import { GradtrioError } from "../errors.ts";
import { call, type Expr, num, variable } from "../expr/ast.ts";
import { parse } from "../expr/parse.ts";
import { type Point, toValues } from "../expr/point.ts";
import {
  buildChain,
  type Chain,
  pathCount,
  pathProduct,
  pathsTo,
  simplifiedTotal,
} from "./chain.ts";

interface Golden {
  id: string;
  expr: string;
  at: Point;
  grad: Record<string, number | number[]>;
}
const golden: Golden[] = JSON.parse(
  readFileSync(new URL("../../test/fixtures/torch-golden.json", import.meta.url), "utf8"),
);
const seed = (id: string) => golden.find((g) => g.id === id)!;

const grad = (c: Chain, name: string) => Array.from(c.leaves.get(name)!.grad!.data);
const node = (c: Chain, name: string) => c.nodes.find((n) => n.name === name)!;
const gradFns = (c: Chain) => c.nodes.filter((n) => n.kind === "op").map((n) => n.gradFn);

// The notebook's prediction and loss, computed once each (a DAG, as PyTorch records it):
// z = w*x + b; y_pred = sigmoid(z); p = clamp(y_pred, 1e-8, 1-1e-8);
// loss = -(y*log(p) + (1-y)*log(1-p))
function notebookBce(clamped: boolean) {
  const z = call("add", [call("mul", [variable("w"), variable("x")]), variable("b")]);
  const yPred = call("sigmoid", [z]);
  const p = clamped ? call("clamp", [yPred, num(1e-8), call("sub", [num(1), num(1e-8)])]) : yPred;
  const y = variable("y");
  const loss = call("neg", [
    call("add", [
      call("mul", [y, call("log", [p])]),
      call("mul", [call("sub", [num(1), y]), call("log", [call("sub", [num(1), p])])]),
    ]),
  ]);
  const names = new Map<Expr, string>([
    [z, "z"],
    [yPred, "y_pred"],
  ]);
  if (clamped) names.set(p, "prediction");
  return { loss, names };
}
const BCE_AT = { w: 1, b: 0, x: 6.7, y: 0 };

describe("buildChain: the seed cases as the notebooks compute them", () => {
  for (const id of ["seed-square-3", "seed-sin-square-3", "seed-sin-square-4", "seed-mean-square"])
    it(`${id}: PyTorch's nodes and gradient`, () => {
      const g = seed(id);
      const c = buildChain(parse(g.expr), toValues(g.at));
      const want = ([] as number[]).concat(g.grad.x!);
      grad(c, "x").forEach((v, i) => {
        expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(2 * Number.EPSILON * Math.abs(want[i]!));
      });
      expect(c.leaves.get("x")!.gradFn).toBeNull(); // a leaf: grad_fn None
      expect(gradFns(c)).toEqual(
        id === "seed-square-3"
          ? ["PowBackward0"]
          : id === "seed-mean-square"
            ? ["PowBackward0", "MeanBackward0"]
            : ["PowBackward0", "SinBackward0"],
      );
    });

  it("the notebook's BCE with --wrt w,b: data x and y get no gradient, 1-y is no node", () => {
    const { loss, names } = notebookBce(true);
    const c = buildChain(loss, toValues(BCE_AT), { wrt: ["w", "b"], names });
    const ref = seed("seed-bce-eps8").grad;
    expect(grad(c, "w")[0]).toBeCloseTo(ref.w as number, 13);
    expect(grad(c, "b")[0]).toBeCloseTo(ref.b as number, 14);
    expect([...c.leaves.keys()]).toEqual(["w", "b"]);
    for (const d of ["x", "y"]) {
      expect(node(c, d).kind).toBe("data");
      expect(node(c, d).grad).toBeNull();
    }
    // The notebook prints loss grad_fn=<NegBackward0>, y_pred <SigmoidBackward0>, z <AddBackward0>.
    expect(c.output.gradFn).toBe("NegBackward0");
    expect(node(c, "y_pred").gradFn).toBe("SigmoidBackward0");
    expect(node(c, "z").gradFn).toBe("AddBackward0");
    expect(node(c, "prediction").gradFn).toBe("ClampBackward1");
    // 1 - y with y data is a plain value; 1 - p is PyTorch's rsub.
    const oneMinusY = c.nodes.find((n) => n.text === "1 - y")!;
    expect(oneMinusY.kind).toBe("data");
    expect(oneMinusY.gradFn).toBeNull();
    expect(c.nodes.find((n) => n.text === "1 - prediction")!.gradFn).toBe("RsubBackward1");
    expect(gradFns(c).sort()).toEqual(
      [
        "MulBackward0",
        "AddBackward0",
        "SigmoidBackward0",
        "ClampBackward1",
        "LogBackward0",
        "MulBackward0",
        "RsubBackward1",
        "LogBackward0",
        "MulBackward0",
        "AddBackward0",
        "NegBackward0",
      ].sort(),
    );
    // The prediction is one node, used twice (log(p) and 1 - p).
    expect(
      node(c, "prediction")
        .uses.map((e) => e.from.gradFn)
        .sort(),
    ).toEqual(["LogBackward0", "RsubBackward1"]);
    expect(pathCount(c, c.leaves.get("w")!)).toBe(2);
    // ... and its total, as students simplify it: x·(ŷ − y).
    expect(simplifiedTotal(c, c.leaves.get("w")!)!.plain).toBe("x*(y_pred-y)");
    expect(simplifiedTotal(c, c.leaves.get("b")!)!.plain).toBe("y_pred-y");
  });

  it("the notebook's BCE without the clamp: x·σ(6.7), by hand", () => {
    const { loss, names } = notebookBce(false);
    const c = buildChain(loss, toValues(BCE_AT), { wrt: ["w", "b"], names });
    const s = 1 / (1 + Math.exp(-6.7));
    expect(grad(c, "w")[0]).toBeCloseTo(6.7 * s, 12);
    expect(grad(c, "b")[0]).toBeCloseTo(s, 12);
    expect(gradFns(c)).not.toContain("ClampBackward1");
  });

  it("the built-in bce of a sigmoid: locals p(1−p) and (p−y)/(p(1−p)), total x·(p−y)", () => {
    const z = call("add", [call("mul", [variable("w"), variable("x")]), variable("b")]);
    const p = call("sigmoid", [z]);
    const c = buildChain(call("bce", [p, variable("y")]), toValues(BCE_AT), {
      wrt: ["w", "b"],
      names: new Map<Expr, string>([
        [z, "z"],
        [p, "p"],
      ]),
    });
    const [sig] = node(c, "p").inputs;
    expect(sig!.plain).toBe("p*(1-p)");
    const s = 1 / (1 + Math.exp(-6.7));
    expect(sig!.value!.data[0]).toBeCloseTo(s * (1 - s), 17);
    expect(c.output.inputs[0]!.plain).toBe("(p-y)/(p*(1-p))");
    expect(c.output.gradFn).toBe("BinaryCrossEntropyBackward0");
    expect(simplifiedTotal(c, c.leaves.get("w")!)!.plain).toBe("x*(p-y)");
    expect(simplifiedTotal(c, c.leaves.get("w")!)!.latex).toBe("x \\left(p - y\\right)");
  });
});

describe("buildChain: rules and structure", () => {
  it("1/x is MulBackward0 over ReciprocalBackward0, with d(1/x) = -1/x²", () => {
    const c = buildChain(parse("1/x"), toValues({ x: 2 }));
    expect(c.output.gradFn).toBe("MulBackward0");
    expect(c.output.inputs[0]!.to.gradFn).toBe("ReciprocalBackward0");
    expect(grad(c, "x")).toEqual([-0.25]);
  });

  it("shared nodes: each gradient once, the sum over uses equals the sum over paths", () => {
    // u = x*x used twice: f = sin(u) + u
    const x = variable("x");
    const u = call("mul", [x, x]);
    const c = buildChain(call("add", [call("sin", [u]), u]), toValues({ x: 0.7 }));
    const leaf = c.leaves.get("x")!;
    const want = 2 * 0.7 * (Math.cos(0.49) + 1);
    expect(grad(c, "x")[0]).toBeCloseTo(want, 15);
    const paths = pathsTo(c, leaf, 10)!;
    expect(paths.length).toBe(4); // two uses of u, each with two uses of x
    const sum = paths.reduce((s, p) => s + pathProduct(p)!.data[0]!, 0);
    expect(sum).toBeCloseTo(want, 15);
    expect(c.nodes.filter((n) => n.gradFn === "MulBackward0")).toHaveLength(1);
  });

  it("rules as students write them: tanh′ = 1−tanh², abs′ = sign, log′ = 1/x, exp′ = exp", () => {
    const locals = (src: string, at: number) =>
      buildChain(parse(src), toValues({ x: at })).output.inputs[0]!;
    const t = locals("tanh(x)", 0.3);
    expect(t.plain).toBe("1-f^2");
    expect(t.value!.data[0]).toBeCloseTo(1 - Math.tanh(0.3) ** 2, 16);
    expect(locals("abs(x)", -2).plain).toBe("sign(x)");
    expect(locals("abs(x)", -2).value!.data[0]).toBe(-1);
    expect(locals("log(x)", 4).plain).toBe("1/x");
    expect(locals("exp(x)", 1).plain).toBe("f");
    expect(locals("relu(x)", 0).value!.data[0]).toBe(0); // PyTorch: relu′(0) = 0
  });

  it("a wrt name that is not a variable is a GradtrioError", () => {
    expect(() => buildChain(parse("x^2"), toValues({ x: 1 }), { wrt: ["w"] })).toThrow(
      GradtrioError,
    );
  });

  it("a non-scalar output is refused (NON_SCALAR): a 1-element seed over shape [2] read NaN", () => {
    for (const src of ["x^2", "softmax(x)"]) {
      let caught: unknown;
      try {
        buildChain(parse(src), toValues({ x: [1, 2] }));
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(GradtrioError);
      expect((caught as GradtrioError).code).toBe("NON_SCALAR");
    }
  });

  it("broadcasting sums each element's contribution back: sum(w*x) for scalar w", () => {
    const c = buildChain(parse("sum(w*x)"), toValues({ w: 2, x: [1, 2, 3] }));
    expect(grad(c, "w")).toEqual([6]);
    expect(grad(c, "x")).toEqual([2, 2, 2]);
  });
});

describe("every op's student rule agrees with autograd's backward rule (two implementations)", () => {
  const cases: [string, Point][] = [
    ["sin(x)+cos(x)+tan(x)+exp(x)+log(x)+sqrt(x)+tanh(x)", { x: 0.7 }],
    ["sigmoid(x)+relu(x)+abs(x)+log1p(x)+softplus(x)+x^3+2^x+x^x", { x: 0.7 }],
    ["erf(x)+gelu(x)+asin(x)+acos(x)+atan(x)+sinh(x)+cosh(x)+expm1(x)", { x: 0.3 }],
    ["maximum(x, y)+minimum(x, y)+clamp(x, 0, 1)+bce(x, y)+x/y+1/y-y", { x: 0.3, y: 0.6 }],
    ["max(x)+min(x)+logsumexp(x)+sum(softmax(x)*y)+mean(x*y)", { x: [0.2, -1, 3], y: [1, 2, 0.5] }],
    [
      "sum(matmul(A, v)^2)+matmul(v, v)",
      {
        A: [
          [1, 2, -1],
          [0.5, 3, 1],
        ],
        v: [0.3, -0.2, 1],
      },
    ],
  ];
  for (const [src, at] of cases)
    it(src, () => {
      const values = toValues(at);
      const c = buildChain(parse(src), values);
      const auto = autogradLeg(parse(src), values).gradients;
      for (const name of Object.keys(at)) {
        const want = Array.from(auto.get(name)!);
        grad(c, name).forEach((v, i) => {
          expect(Math.abs(v - want[i]!), `${name}[${i}]`).toBeLessThan(
            1e-12 * (1 + Math.abs(want[i]!)),
          );
        });
      }
    });
});

// The notebook's manual cell: (y_pred − y)/(y_pred(1 − y_pred)) · y_pred(1 − y_pred) · x.
const SEED_BCE = "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)";

describe("buildChain in float32", () => {
  it("the seed BCE's manual gradient as the float32 notebook computes it", () => {
    const values = toValues({ w: 1, b: 0, x: 6.7, y: 0 });
    const c = buildChain(parse(SEED_BCE), values, { wrt: ["w", "b"], dtype: "float32" });
    // Seed notebook 003, In [24] on float32 tensors: dL_dw = 6.691762447357178,
    // dL_db = 0.998770534992218 (float64: 6.691763029237442, 0.9987706013787226).
    expect(grad(c, "w")).toEqual([6.691762447357178]);
    expect(grad(c, "b")).toEqual([0.998770534992218]);
    // Every value and every step of the chain is a float32 number.
    for (const n of c.nodes) {
      for (const v of n.value.data) expect(Math.fround(v)).toBe(v);
      for (const v of n.grad?.data ?? []) expect(Math.fround(v)).toBe(v);
      for (const e of n.inputs) for (const v of e.value?.data ?? []) expect(Math.fround(v)).toBe(v);
    }
  });

  it("the clamp trap: in float32 1 - 1e-8 is 1, so at x = 17 p = 1 passes the clamp and the manual gradient is NaN", () => {
    const values = toValues({ w: 1, b: 0, x: 17, y: 0 });
    const c = buildChain(parse(SEED_BCE), values, { wrt: ["w"], dtype: "float32" });
    const p = c.nodes.find((n) => n.gradFn === "SigmoidBackward0")!;
    expect(p.value.data[0]).toBe(1); // sigmoid(17) rounds to 1 in float32, as in PyTorch
    const clamp = c.nodes.find((n) => n.gradFn === "ClampBackward1")!;
    expect(clamp.inputs[0]!.value!.data[0]).toBe(1); // 1 ≤ hi = fround(1 - 1e-8) = 1
    // ∂bce/∂p = (p − y)/(p(1 − p)) = 1/0 = inf, times σ′ = p(1 − p) = 0: NaN, as the
    // notebook's manual cell gives on float32 tensors there.
    expect(
      c.nodes.find((n) => n.gradFn === "BinaryCrossEntropyBackward0")!.inputs[0]!.value!.data[0],
    ).toBe(Number.POSITIVE_INFINITY);
    expect(grad(c, "w")[0]).toBeNaN();
    const f64 = buildChain(parse(SEED_BCE), values, { wrt: ["w"] });
    expect(Number.isFinite(grad(f64, "w")[0]!)).toBe(true);
  });
});
