import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { defineOp } from "../autograd/define-op.ts";
import { autogradLeg } from "../autograd/leg.ts";
import { check } from "../check/check.ts";
import { type CallExpr, call, type Expr, postOrder, variable, variablesOf } from "../expr/ast.ts";
import { branchesOf } from "../expr/ops.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { print } from "../expr/print.ts";
import { casesOf, prepareFuzz } from "../fuzz/fuzz.ts";
import { loadOps } from "../fuzz/load.ts";
import { casStats } from "./cas.ts";
import { composedDerivatives, composingDerivatives, withComposedDerivatives } from "./compose.ts";
import { compileFormulas, formulaValues } from "./evaluate.ts";
import type { Formula } from "./formula.ts";
import { forwardValues } from "./forward.ts";
import { symbolicLeg } from "./leg.ts";
import { type Branch, CasWriter } from "./to-cas.ts";

const gradient = (text: string, at: Record<string, number>, name = "x") => {
  const r = symbolicLeg(parse(text), toValues(at));
  if (r.status !== "ok") throw new Error(r.reason);
  return r.gradients.get(name)![0]!;
};

describe("composed derivatives", () => {
  it("give the hand-derived gradient", () => {
    withComposedDerivatives(() => {
      // d/dx sin(x^3 * y) = 3x²y·cos(x³y); d/dy = x³·cos(x³y)
      const [x, y] = [0.7, -1.3];
      expect(gradient("sin(x^3 * y)", { x, y })).toBeCloseTo(
        3 * x * x * y * Math.cos(x ** 3 * y),
        14,
      );
      expect(gradient("sin(x^3 * y)", { x, y }, "y")).toBeCloseTo(
        x ** 3 * Math.cos(x ** 3 * y),
        14,
      );
      // d/dx softplus(2.5*x) / (1 + x^2) by the quotient rule, by hand
      const s = Math.log1p(Math.exp(2.5 * x));
      const ds = 2.5 / (1 + Math.exp(-2.5 * x));
      expect(gradient("softplus(2.5*x) / (1 + x^2)", { x })).toBeCloseTo(
        (ds * (1 + x * x) - s * 2 * x) / (1 + x * x) ** 2,
        14,
      );
      // A piecewise op on its active branch: relu(x - 1) at x = 0.7 is 0, at 1.4 it is x - 1.
      expect(gradient("relu(x - 1) * x", { x })).toBe(0);
      expect(gradient("relu(x - 1) * x", { x: 1.4 })).toBeCloseTo(2 * 1.4 - 1, 14);
    });
    expect(composingDerivatives()).toBe(false);
  });

  it("give the gradient without display formulas, which check gives otherwise", () => {
    const x = 0.3;
    const composed = withComposedDerivatives(() => symbolicLeg(parse("sin(x^2)"), toValues({ x })));
    const whole = symbolicLeg(parse("sin(x^2)"), toValues({ x }));
    if (composed.status !== "ok" || whole.status !== "ok") throw new Error("no symbolic leg");
    expect(composed.gradients.get("x")![0]).toBeCloseTo(2 * x * Math.cos(x * x), 15);
    expect(composed.formulas.size).toBe(0);
    expect(composed.latex.size).toBe(0);
    expect(whole.formulas.get("x")).toBe("2*x*cos(x^2)");
  });

  it("derive each op once: 40 new expressions over the same ops cost no new CAS call", () => {
    withComposedDerivatives(() => {
      gradient("sin(0.5*x^2) + cos(x)", { x: 0.3 });
      const before = casStats.calls;
      for (let k = 1; k <= 40; k++) {
        const c = 1 + k / 7;
        const g = gradient(`sin(${c}*x^2) + cos(x)`, { x: 0.3 });
        expect(g).toBeCloseTo(2 * c * 0.3 * Math.cos(c * 0.09) - Math.sin(0.3), 13);
      }
      expect(casStats.calls - before).toBe(0);
    });
  });
});

/** Every `*.ok.ts` op fixture: their formulas have logs of sums and exponentials in sums. */
const fixtures = resolve(import.meta.dirname, "../../test/fixtures/ops");
/** The ops between elementwise blocks (the leg's blocks end at them). */
const BETWEEN_BLOCKS = new Set(["sum", "mean", "max", "min", "logsumexp", "softmax", "matmul"]);
const ON_A_KINK = new Error("on a kink");

/** The composed derivative formulas of `expr` (one block: its variables are its leaves). */
function composedAt(expr: Expr, at: Record<string, number>): Formula[] {
  const fwd = forwardValues(expr, toValues(at));
  const branch = (p: CallExpr): Branch => {
    const [u, v, w] = p.args.map((a) => fwd.get(a)!.data[0]!);
    const c = branchesOf(p.op)!.at(u!, v ?? 0, w ?? 0);
    if (c < 0) throw ON_A_KINK;
    return c as Branch;
  };
  const leafKey = (e: Expr) => (e.kind === "var" ? e.name : undefined);
  return composedDerivatives(new CasWriter(leafKey), expr, branch, variablesOf(expr), leafKey);
}

/** Fuzz cases (40 runs an op) of every `*.ok.ts` op fixture. */
async function* fixtureCases(seed: number): AsyncGenerator<{ expr: Expr; at: Point }> {
  for (const file of readdirSync(fixtures).filter((f) => f.endsWith(".ok.ts"))) {
    const ops = (await loadOps(file, fixtures)).map((o) => o.definition);
    const { ctx } = prepareFuzz({ ops, runs: 40, seed });
    for (let op = 0; op < ops.length; op++)
      for (const { expr, at } of casesOf(ctx, op, [...ops.keys()], 0, 40))
        yield { expr, at: at as Point };
  }
}

type Point = Record<string, number>;

/** A one-block case's composed formulas and their compiled values; null across blocks, on a kink. */
function compiledAt(expr: Expr, point: Point): { dfs: Formula[]; want: number[] } | null {
  if (postOrder(expr).some((e) => e.kind === "call" && BETWEEN_BLOCKS.has(e.op))) return null;
  let dfs: Formula[];
  try {
    dfs = composedAt(expr, point);
  } catch (e) {
    if (e === ON_A_KINK) return null;
    throw e;
  }
  const slots = Object.keys(point);
  return { dfs, want: compileFormulas(dfs, slots)(slots.map((s) => point[s]!)) as number[] };
}

describe("composed derivatives at one element", () => {
  it("are evaluated once bit for bit as their compiled tape evaluates them, over fuzz cases of every op fixture", async () => {
    let compared = 0;
    for await (const { expr, at } of fixtureCases(5)) {
      const c = compiledAt(expr, at);
      if (c === null) continue;
      const got = c.dfs.map(formulaValues((s) => at[s]!));
      expect(got.map((v, k) => Object.is(v, c.want[k]))).toEqual(c.want.map(() => true));
      compared++;
    }
    expect(compared).toBeGreaterThan(300);
  });

  it("by the chain rule on the templates' values agree with the composed formulas, over fuzz cases of every op fixture", async () => {
    // Two evaluations of the same CAS rules: the formulas with the arguments' formulas in place,
    // and the leg's numbers (each op's value and local derivatives at its arguments' values).
    let compared = 0;
    let worst = 0;
    for await (const { expr, at } of fixtureCases(5)) {
      const c = compiledAt(expr, at);
      if (c === null || !c.want.every(Number.isFinite)) continue;
      const leg = withComposedDerivatives(() => symbolicLeg(expr, toValues(at)));
      if (leg.status !== "ok") throw new Error(`${print(expr)}: ${leg.status}`);
      variablesOf(expr).forEach((name, k) => {
        const got = leg.gradients.get(name)![0]!;
        // Rounding apart, scaled by the gradient (or 1 where it nearly cancels to 0).
        const apart = Math.abs(got - c.want[k]!) / Math.max(1, Math.abs(c.want[k]!));
        worst = Math.max(worst, apart);
        expect(apart, `${print(expr)} d/d${name}`).toBeLessThan(1e-9);
      });
      compared++;
    }
    expect(compared).toBeGreaterThan(300);
    // Not the same numbers: values round between ops here, the formulas may rewrite across them.
    expect(worst).toBeGreaterThan(0);
  });

  it("pass each shared node's gradient on once, whole (reverse accumulation over a DAG)", () => {
    // s = sin(x·y) used twice by object, and x in three places: d/dx (s·s + x) = 2s·cos(xy)·y + 1.
    const [x, y] = [0.8, -0.6];
    const s = call("sin", [call("mul", [variable("x"), variable("y")])]);
    const e = call("add", [call("mul", [s, s]), variable("x")]);
    const leg = withComposedDerivatives(() => symbolicLeg(e, toValues({ x, y, z: 2 })));
    if (leg.status !== "ok") throw new Error(leg.status);
    const c = Math.sin(x * y);
    expect(leg.gradients.get("x")![0]).toBeCloseTo(2 * c * Math.cos(x * y) * y + 1, 15);
    expect(leg.gradients.get("y")![0]).toBeCloseTo(2 * c * Math.cos(x * y) * x, 15);
    // A variable of the point that the expression does not use has gradient 0.
    expect(leg.gradients.get("z")).toEqual(Float64Array.of(0));
  });

  it("agree with autograd over fuzz cases of every op fixture, reductions of one element included", async () => {
    // Autograd: the engine and the ops' hand-written backward rules (correct in *.ok.ts).
    let reductions = 0;
    let compared = 0;
    for await (const { expr, at } of fixtureCases(9)) {
      const values = toValues(at);
      const leg = withComposedDerivatives(() => symbolicLeg(expr, values));
      if (leg.status !== "ok") continue;
      for (const [name, g] of autogradLeg(expr, values).gradients) {
        const [got, want] = [leg.gradients.get(name)![0]!, g[0]!];
        if (!Number.isFinite(want)) continue;
        const apart = Math.abs(got - want) / Math.max(1, Math.abs(want));
        expect(apart, `${print(expr)} d/d${name}`).toBeLessThan(1e-8);
      }
      if (postOrder(expr).some((e) => e.kind === "call" && BETWEEN_BLOCKS.has(e.op))) reductions++;
      compared++;
    }
    expect(compared).toBeGreaterThan(400);
    expect(reductions).toBeGreaterThan(30);
  });

  it("take a reduction of one element as that element, softmax of one as 1, a matmul as a product", () => {
    const g = (text: string, name: string) =>
      withComposedDerivatives(() => gradient(text, { x: 0.3, y: -0.8 }, name));
    // The root a reduction, reductions in a chain, and logsumexp: d/dx = cos(x)·y.
    expect(g("max(min(logsumexp(sin(x))*y))", "x")).toBeCloseTo(Math.cos(0.3) * -0.8, 15);
    expect(g("mean(sum(x*y)) + x", "y")).toBeCloseTo(0.3, 15);
    // softmax(u) of one element is 1 whatever u: no gradient through it.
    expect(g("softmax(x*y)*x", "y")).toBe(0);
    expect(g("softmax(x*y)*x", "x")).toBe(1);
    // 1×1 matrices: matmul is the product (the general path takes it).
    const m = toValues({ a: [[0.5]], b: [[-2]] });
    const r = withComposedDerivatives(() => symbolicLeg(parse("sum(matmul(a, b))"), m));
    if (r.status !== "ok") throw new Error(r.status);
    expect([r.gradients.get("a")![0], r.gradients.get("b")![0]]).toEqual([-2, 0.5]);
  });

  it("leave a kink to the block machinery, which words it; a one-element reduction passes its gradient on whole", () => {
    const at = toValues({ x: 0, y: 0.5 });
    expect(withComposedDerivatives(() => symbolicLeg(parse("relu(x) * y"), at))).toMatchObject({
      status: "kink",
    });
    // max of one element is that element: its gradient passes on whole.
    const r = withComposedDerivatives(() => symbolicLeg(parse("max(sin(y)) * y"), at));
    if (r.status !== "ok") throw new Error(r.status);
    expect(r.gradients.get("y")![0]).toBeCloseTo(Math.cos(0.5) * 0.5 + Math.sin(0.5), 15);
  });

  it("an overflowing composed derivative is unavailable, as the compiled one says", () => {
    // d/dx softplus(x) = e^x/(1+e^x): e^800 overflows float64 (the fast one-element path falls
    // back to the compiled plan, which names the overflow).
    const at = toValues({ x: 800 });
    const composed = withComposedDerivatives(() => symbolicLeg(parse("softplus(x)"), at));
    expect(composed).toMatchObject({
      status: "unavailable",
      reason: "the formula overflows float64 at this point",
    });
  });
});

describe("custom ops seen through (review of the composed fast path)", () => {
  // leaky relu: its formula has a piecewise built-in, whose branch comes from its own nodes.
  defineOp({
    name: "leakyCompose",
    arity: 1,
    forward: (a) => Math.max(a, 0.01 * a),
    backward: ({ args: [a], grad }) => [grad * (a! > 0 ? 1 : 0.01)],
    formula: (a) => `maximum(${a}, 0.01*(${a}))`,
  });
  defineOp({
    name: "leakyPlusOne",
    arity: 1,
    forward: (a) => Math.max(a, 0.01 * a) + 1,
    backward: ({ args: [a], grad }) => [grad * (a! > 0 ? 1 : 0.01)],
    formula: (a) => `leakyCompose(${a}) + 1`,
  });
  defineOp({
    name: "noFormulaCompose",
    arity: 1,
    forward: (a) => 2 * a,
    backward: ({ grad }) => [2 * grad],
  });

  it("a piecewise built-in inside a custom op's formula takes its branch at the point, composed or whole", () => {
    for (const composed of [true, false]) {
      const g = (text: string, x: number) => {
        const r = composed
          ? withComposedDerivatives(() => symbolicLeg(parse(text), toValues({ x })))
          : symbolicLeg(parse(text), toValues({ x }));
        if (r.status !== "ok") throw new Error(`${text}: ${r.status}`);
        return r.gradients.get("x")![0]!;
      };
      // x < 0: 0.01x; x > 0: x (by hand).
      expect(g("leakyCompose(x)", -1)).toBeCloseTo(0.01, 15);
      expect(g("leakyCompose(x) * x", -1)).toBeCloseTo(-0.02, 15);
      expect(g("leakyCompose(x) * x", 2)).toBeCloseTo(4, 15);
      expect(g("sin(leakyCompose(x))", -1)).toBeCloseTo(Math.cos(-0.01) * 0.01, 15);
      // Nested: a custom op whose formula calls the leaky one.
      expect(g("leakyPlusOne(x) * x", -1)).toBeCloseTo(-0.02 + 1, 15);
    }
    const r = withComposedDerivatives(() => check("sin(leakyCompose(x))", { at: { x: -1 } }));
    expect(r).toMatchObject({ verdict: "agree" });
    // Three legs: the symbolic one is there, with the hand value.
    expect(r.gradients.x!.symbolic as number).toBeCloseTo(Math.cos(-0.01) * 0.01, 15);
  });

  it("a kink inside a custom op's formula is named with the call the user wrote", () => {
    const r = symbolicLeg(parse("sin(leakyCompose(x))"), toValues({ x: 0 }));
    expect(r).toMatchObject({
      status: "kink",
      reason:
        "maximum(x, 0.01*x) (from leakyCompose(x)) is at a kink: its argument is 0, where the derivative jumps",
    });
  });

  it("an op without a formula where no derivative needs its value: the gradient, composed", () => {
    const r = withComposedDerivatives(() =>
      symbolicLeg(parse("x + noFormulaCompose(2)"), toValues({ x: 1 })),
    );
    expect(r).toMatchObject({ status: "ok" });
    if (r.status === "ok") expect(r.gradients.get("x")![0]).toBe(1);
  });

  it("an op whose formula calls a redefined op is seen through anew, either way round", () => {
    // inner: leaky (piecewise formula) or k·a (smooth); outer(a) = inner(a)·a.
    const makeInner = (k: number) =>
      defineOp({
        name: "innerRedefined",
        arity: 1,
        forward: (a) => (k === 0 ? Math.max(a, 0.5 * a) : k * a),
        backward: ({ args: [a], grad }) => [grad * (k === 0 ? (a! > 0 ? 1 : 0.5) : k)],
        formula: (a) => (k === 0 ? `maximum(${a}, 0.5*(${a}))` : `${k}*(${a})`),
      });
    makeInner(0);
    defineOp({
      name: "outerRedefined",
      arity: 1,
      forward: (a) => a,
      backward: ({ grad }) => [grad],
      formula: (a) => `innerRedefined(${a})*(${a})`,
    });
    const g = (composed: boolean) => {
      const run = () => symbolicLeg(parse("outerRedefined(x)"), toValues({ x: -1 }));
      const r = composed ? withComposedDerivatives(run) : run();
      if (r.status !== "ok") throw new Error(r.status);
      return r.gradients.get("x")![0]!;
    };
    for (const composed of [false, true]) {
      makeInner(0);
      expect(g(composed)).toBeCloseTo(-1, 15); // 0.5x² at x < 0
      makeInner(3);
      expect(g(composed)).toBeCloseTo(-6, 15); // 3x²
      makeInner(0);
      expect(g(composed)).toBeCloseTo(-1, 15);
    }
  });

  it("a template is derived anew when an op its formula expands to is redefined", () => {
    const make = (k: number) =>
      defineOp({
        name: "powCompose",
        arity: 1,
        forward: (a) => a ** k,
        backward: ({ args: [a], grad }) => [grad * k * a! ** (k - 1)],
        formula: (a) => `(${a})^${k}`,
      });
    make(2);
    defineOp({
      name: "powPlusOne",
      arity: 1,
      forward: (a) => a * a + 1,
      backward: ({ args: [a], grad }) => [grad * 2 * a!],
      formula: (a) => `powCompose(${a}) + 1`,
    });
    const g = () => withComposedDerivatives(() => gradient("powPlusOne(x) * x", { x: 3 }));
    expect(g()).toBeCloseTo(3 * 9 + 1, 13); // d/dx (x²+1)x = 3x² + 1
    make(3);
    expect(g()).toBeCloseTo(4 * 27 + 1, 13); // d/dx (x³+1)x = 4x³ + 1
  });
});
