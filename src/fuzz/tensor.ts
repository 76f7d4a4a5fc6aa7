/**
 * Fuzzing a tensor op (`defineOp` with a shape rule): the argument shapes its rule accepts among
 * candidates (scalars, vectors, small matrices, broadcast pairs), a sanity check at them, checks
 * of the op alone (`sum(w*op(…))`, a random cotangent w), and random expressions that compose it
 * with built-ins at those shapes. Shapes come smallest first, so fast-check's shrinking goes to
 * smaller shapes as well as to simpler values.
 */
import fc from "fast-check";
import { firstLine, GradtrioError } from "../errors.ts";
import { call, type Expr, num, variable } from "../expr/ast.ts";
import { formatShape, type Shape, sameShape, sizeOfShape } from "../expr/broadcast.ts";
import type { TensorOpDefinition } from "../expr/ops.ts";
import { fromValue, type Point } from "../expr/point.ts";
import { tensorOpShape } from "../expr/shapes.ts";
import { expandCustomOps, tensorOpBackward, tensorOpForward } from "../expr/tensor-op.ts";
import { evaluate } from "../numeric/evaluate.ts";
import { mulberry32 } from "../random.ts";
import type { FuzzCase } from "./arbitraries.ts";
import { argDomain, workingInterval } from "./domain.ts";
import type { SanityReport } from "./sanity.ts";
import { stratified, type TensorSweepPoint } from "./sweep.ts";

const BASES: readonly Shape[] = [
  [],
  [1],
  [2],
  [3],
  [4],
  [2, 2],
  [2, 3],
  [3, 2],
  [3, 4],
  [4, 3],
  [3, 3],
];
/** Shape combinations kept per op (the smallest), and the most elements one may hold. */
const MAX_COMBOS = 24;
const MAX_ELEMENTS = 32;

export interface ShapeCombo {
  readonly args: readonly Shape[];
  readonly out: Shape;
}

const combos = new WeakMap<TensorOpDefinition, ShapeCombo[]>();

/**
 * The argument shapes `def`'s rule accepts among the candidates (every tuple of the base shapes
 * for arity ≤ 3, one base shape for all beyond), smallest first. Deterministic: every worker
 * finds the same list.
 */
export function fittingShapes(def: TensorOpDefinition): ShapeCombo[] {
  const hit = combos.get(def);
  if (hit !== undefined) return hit;
  let tuples: Shape[][] = [[]];
  if (def.arity <= 3)
    for (let i = 0; i < def.arity; i++) tuples = tuples.flatMap((t) => BASES.map((b) => [...t, b]));
  else tuples = BASES.map((b) => Array(def.arity).fill(b));
  const out: ShapeCombo[] = [];
  for (const args of tuples) {
    const shape = outOf(def, args);
    if (shape === null) continue;
    const size = [...args, shape].reduce((n, s) => n + sizeOfShape(s), 0);
    if (size <= MAX_ELEMENTS) out.push({ args, out: shape });
  }
  const size = (c: ShapeCombo) => c.args.reduce((n, s) => n + sizeOfShape(s), 0);
  // Stable: equal sizes keep the candidates' order.
  const kept = out
    .map((c, i) => [c, i] as const)
    .sort((a, b) => size(a[0]) - size(b[0]) || a[1] - b[1])
    .map(([c]) => c)
    .slice(0, MAX_COMBOS);
  combos.set(def, kept);
  return kept;
}

export const argNames = (n: number): string[] =>
  n <= 3 ? ["x", "y", "z"].slice(0, n) : Array.from({ length: n }, (_, i) => `x${i}`);

/** A value of argument `i` from u ∈ [-1, 1]: its working interval, 4 significant digits. */
function argValue(def: TensorOpDefinition, i: number, u: number): number {
  const [lo, hi] = workingInterval(argDomain(def, i));
  return Number(((lo + hi) / 2 + (u * (hi - lo)) / 2).toPrecision(4));
}

const nested = (shape: Shape, data: ArrayLike<number>) =>
  fromValue({ shape, data: Float64Array.from(data) });

function fittingOrThrow(def: TensorOpDefinition): ShapeCombo[] {
  const found = fittingShapes(def);
  if (found.length === 0)
    throw new GradtrioError(
      "DEFINE_OP",
      `op '${def.name}': its shape rule accepts none of the shapes tried (up to 4×3)`,
    );
  return found;
}

/**
 * Checks a tensor op alone at up to 8 of its fitting shapes: a finite forward of the right size,
 * a backward of one array per argument shaped as it, and a formula that computes the forward.
 * Throws a GradtrioError (DEFINE_OP) naming the op, the shapes and what went wrong.
 */
export function tensorSanityCheck(
  def: TensorOpDefinition,
  options: { seed?: number } = {},
): SanityReport {
  const rand = mulberry32(options.seed ?? 1);
  const tried = fittingOrThrow(def).slice(0, 8);
  let note: string | null = null;
  let formulaChecked = def.formula !== undefined;
  const names = argNames(def.arity);
  const expanded = expandCustomOps(
    call(
      def.name,
      names.map((n) => variable(n)),
    ),
  );
  if (typeof expanded === "string" && def.formula !== undefined) {
    note = expanded;
    formulaChecked = false;
  }
  for (const { args: shapes, out } of tried) {
    const where = `at shapes ${shapes.map(formatShape).join(", ")}`;
    const fail = (msg: string): never => {
      throw new GradtrioError("DEFINE_OP", `op '${def.name}' ${where}: ${msg}`);
    };
    const args = shapes.map((s, i) =>
      Float64Array.from({ length: sizeOfShape(s) }, () => argValue(def, i, 2 * rand() - 1)),
    );
    let y: Float64Array;
    try {
      y = tensorOpForward(def, args, shapes, out);
    } catch (e) {
      return fail(firstLine(e));
    }
    const at = names.map((n, i) => `${n} = ${JSON.stringify(nested(shapes[i]!, args[i]!))}`);
    const bad = y.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      fail(
        `forward at ${at.join(", ")} gave ${y[bad]} in output element ${bad}, not a finite number, inside its domain`,
      );
    const grad = Float64Array.from(y, () => 2 * rand() - 1);
    let g: Float64Array[] = [];
    try {
      g = tensorOpBackward(def, args, shapes, y, out, grad);
    } catch (e) {
      fail(firstLine(e));
    }
    g.forEach((a, j) => {
      const k = a.findIndex((v) => !Number.isFinite(v));
      if (k >= 0)
        fail(
          `backward at ${at.join(", ")} gave ${a[k]} in element ${k} of argument ${j + 1}, not a finite number, inside its domain`,
        );
    });
    if (formulaChecked && typeof expanded !== "string") {
      let z: Float64Array;
      try {
        const point = new Map(names.map((n, i) => [n, { shape: shapes[i]!, data: args[i]! }]));
        z = evaluate(expanded, point).data;
      } catch (e) {
        note = `its formula could not be evaluated ${where}: ${firstLine(e)}`;
        formulaChecked = false;
        continue;
      }
      const scale = y.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
      const k = y.findIndex((v, i) => !(Math.abs(v - z[i]!) <= 1e-8 * scale));
      if (k >= 0)
        fail(`its formula gives ${z[k]} where its forward gives ${y[k]} (output element ${k})`);
    }
  }
  return { op: def.name, samples: tried.length, formulaChecked, note };
}

/** `sum(w*op(x, …))`: the op alone under a random cotangent w (a backward that ignores it shows). */
function alone(def: TensorOpDefinition, names: readonly string[]): Expr {
  return call("sum", [
    call("mul", [
      variable("w"),
      call(
        def.name,
        names.map((n) => variable(n)),
      ),
    ]),
  ]);
}

/**
 * The points of a tensor op's sweep (`sweep.ts`): point k at the fitting shapes in turn
 * (k mod their number), every element of an argument stratified over the argument's working
 * interval (a Latin hypercube over as many coordinates as the largest shapes hold), with a
 * cotangent w and a direction v drawn per point. The same seed gives the same points.
 */
export function tensorSweepPoints(
  def: TensorOpDefinition,
  seed: number,
  points: number,
): (k: number) => TensorSweepPoint {
  const found = fittingOrThrow(def);
  const widths = Array.from({ length: def.arity }, (_, i) =>
    Math.max(...found.map((c) => sizeOfShape(c.args[i]!))),
  );
  const intervals = widths.flatMap((m, i) =>
    Array.from({ length: m }, () => workingInterval(argDomain(def, i))),
  );
  const pts = stratified(intervals, seed, points);
  const dim = intervals.length;
  return (k) => {
    const combo = found[k % found.length]!;
    const rand = mulberry32(seed, Math.imul(k + 1, 0x9e3779b1));
    const draw = (n: number) =>
      Float64Array.from({ length: n }, () => Number((2 * rand() - 1).toPrecision(3)));
    let at = k * dim;
    const args = combo.args.map((s, i) => {
      const a = pts.slice(at, at + sizeOfShape(s));
      at += widths[i]!;
      return a;
    });
    return {
      shapes: combo.args,
      outShape: combo.out,
      args,
      w: draw(sizeOfShape(combo.out)),
      v: combo.args.map((s) => draw(sizeOfShape(s))),
    };
  };
}

/** The check of the op alone at a sweep point: `sum(w*op(x, …))` with the point's w. */
export function aloneCase(def: TensorOpDefinition, p: TensorSweepPoint): FuzzCase {
  const names = argNames(def.arity);
  const at: Point = {};
  p.shapes.forEach((s, i) => {
    at[names[i]!] = nested(s, Array.from(p.args[i]!));
  });
  at.w = nested(p.outShape, Array.from(p.w));
  return { expr: alone(def, names), at };
}

/** `c` with every value of the point to `digits` significant digits. */
export function roundCase(c: FuzzCase, digits: number): FuzzCase {
  const round = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(round) : Number((v as number).toPrecision(digits));
  return {
    expr: c.expr,
    at: Object.fromEntries(Object.entries(c.at).map(([k, v]) => [k, round(v)])) as Point,
  };
}

/** Wrappers of an argument on the real line (a bounded domain takes the variable itself). */
const ARG_WRAPS: readonly ((v: Expr) => Expr)[] = [
  (v) => v,
  (v) => call("sin", [v]),
  (v) => call("mul", [num(2), v]),
  (v) => call("tanh", [v]),
  (v) => call("exp", [call("div", [v, num(4)])]),
];

/** Scalar outputs from the op's value O and a cotangent-like w of its shape. */
const OUT_FORMS: readonly ((o: Expr, w: Expr) => Expr)[] = [
  (o, w) => call("sum", [call("mul", [w, o])]),
  (o, w) => call("sum", [call("mul", [w, call("sin", [o])])]),
  (o, w) => call("logsumexp", [call("mul", [w, o])]),
  (o, w) => call("mean", [call("pow", [call("sub", [o, w]), num(2)])]),
  (o, w) => call("sum", [call("mul", [w, call("tanh", [call("mul", [o, o])])])]),
];

/**
 * Random expressions around a tensor op at its fitting shapes: each argument a variable (through
 * a built-in on an unbounded domain), the op's value through a built-in into a scalar, once in a
 * while the op applied to its own value; points on a grid inside the op's domain.
 */
export function tensorCaseArbitrary(def: TensorOpDefinition): fc.Arbitrary<FuzzCase> {
  const found = fittingOrThrow(def);
  const names = argNames(def.arity);
  const coord = fc.integer({ min: -1000, max: 1000 }).map((k) => k / 1000);
  return fc.integer({ min: 0, max: found.length - 1 }).chain((ci) => {
    const combo = found[ci]!;
    const again = def.arity === 1 ? outOf(def, [combo.out]) : null;
    const twice = again !== null && sameShape(again, combo.out);
    return fc
      .record({
        wraps: fc.tuple(...names.map(() => fc.nat({ max: ARG_WRAPS.length - 1 }))),
        form: fc.nat({ max: OUT_FORMS.length - 1 }),
        nest: twice ? fc.boolean() : fc.constant(false),
        values: fc.tuple(
          ...combo.args.map((s) =>
            fc.array(coord, { minLength: sizeOfShape(s), maxLength: sizeOfShape(s) }),
          ),
        ),
        w: fc.array(coord, {
          minLength: sizeOfShape(combo.out),
          maxLength: sizeOfShape(combo.out),
        }),
      })
      .map(({ wraps, form, nest, values, w }): FuzzCase => {
        const args = names.map((n, i) => {
          const bounded = def.domain?.[i] !== undefined;
          return bounded ? variable(n) : ARG_WRAPS[wraps[i]!]!(variable(n));
        });
        let o: Expr = call(def.name, args);
        if (nest) o = call(def.name, [o]);
        const at: Point = {};
        combo.args.forEach((s, i) => {
          at[names[i]!] = nested(
            s,
            values[i]!.map((u) => argValue(def, i, u)),
          );
        });
        at.w = nested(combo.out, w);
        return { expr: OUT_FORMS[form]!(o, variable("w")), at };
      });
  });
}

function outOf(def: TensorOpDefinition, shapes: Shape[]): Shape | null {
  try {
    return tensorOpShape(def, shapes);
  } catch {
    return null;
  }
}
