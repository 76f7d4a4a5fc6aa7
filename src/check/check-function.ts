/**
 * `checkFunction`: a function gradtrio did not write, checked against finite differences. The
 * user's `f` and its derivative are plain JavaScript over `number` / `Float64Array` (scipy's
 * `check_grad` habit): a scalar output with the user's `grad`, a vector output with the user's
 * vector–Jacobian product `vjp` or Jacobian–vector product `jvp`. The user's derivative takes the
 * autograd leg's place (it is the code under test), the numeric leg is the reference with its
 * error estimate, and there is no symbolic leg: the verdict says it rests on two legs. When `f`
 * is written with gradtrio's Tensor API it is traced instead, and all three legs run.
 */
import { Tensor, tensor } from "../autograd/tensor.ts";
import { checkOptionNames, GradtrioError, userThrew } from "../errors.ts";
import { elementLabel, type NestedArray } from "../expr/point.ts";
import { gradient } from "../numeric/gradient.ts";
import { jvp as numericJvp } from "../numeric/jvp.ts";
import { check, type InconclusiveRule, runLeg, validateTolerance } from "./check.ts";
import { jacobianEntry } from "./jacobian.ts";
import { matrixComparisons, matrixReport } from "./matrix.ts";
import type { LegReport, Report } from "./report.ts";
import { type Comparison, finiteMagnitude, judge } from "./verdict.ts";

type Point = number | readonly number[] | Float64Array;
type Out = number | readonly number[] | Float64Array;

export interface CheckFunctionOptions {
  /** The point: a number (f takes a number) or a vector (f takes a Float64Array). */
  readonly at: Point;
  /** ∇f(x) for a scalar output. */
  readonly grad?: (x: never) => Out;
  /** vᵀJ(x) for a vector output (one entry per input element). */
  readonly vjp?: (x: never, v: Float64Array) => Out;
  /** J(x)v for a vector output (one entry per output element). */
  readonly jvp?: (x: never, v: Float64Array) => Out;
  readonly rtol?: number;
  readonly atol?: number;
}

/** Every option of `checkFunction` (the type keeps the list complete). */
export const CHECK_FUNCTION_OPTIONS = Object.keys({
  at: true,
  grad: true,
  vjp: true,
  jvp: true,
  rtol: true,
  atol: true,
} satisfies Record<keyof CheckFunctionOptions, true>);

const EPS = Number.EPSILON;
const NO_SYMBOLIC: LegReport = {
  status: "skipped",
  reason: "a black-box function has no formula for the CAS",
  ms: 0,
};

function toArray(v: unknown, what: string, length?: number): Float64Array {
  const a =
    typeof v === "number"
      ? Float64Array.of(v)
      : v instanceof Float64Array || Array.isArray(v)
        ? Float64Array.from(v as ArrayLike<number>)
        : null;
  if (a === null || a.some((x) => typeof x !== "number"))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `checkFunction: ${what} must be a number or an array of numbers`,
    );
  if (length !== undefined && a.length !== length)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `checkFunction: ${what} has ${a.length} element(s), expected ${length}`,
    );
  return a;
}

/**
 * Checks a plain-JavaScript function's hand-written derivative against finite differences (or,
 * for a function over Tensors, three ways as `check` does).
 *
 * @example
 * const f = (x: Float64Array) => x[0]! ** 2 * x[1]!;
 * const grad = (x: Float64Array) => Float64Array.of(2 * x[0]! * x[1]!, x[0]! ** 2);
 * checkFunction(f, { grad, at: [3, 2] }).verdict; // "agree" (two legs: numeric and autograd)
 */
export function checkFunction(f: (x: never) => unknown, opts: CheckFunctionOptions): Report {
  if (typeof f !== "function")
    throw new GradtrioError("INVALID_ARGUMENT", "checkFunction: f must be a function");
  if (typeof opts !== "object" || opts === null || opts.at === undefined)
    throw new GradtrioError("INVALID_ARGUMENT", "checkFunction: give the point as { at: x }");
  checkOptionNames(opts, CHECK_FUNCTION_OPTIONS, "checkFunction");
  const given = (["grad", "vjp", "jvp"] as const).filter((k) => opts[k] !== undefined);
  if (given.length > 1)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `checkFunction: give one derivative (grad, vjp or jvp), got ${given.join(" and ")}`,
    );
  const tol = validateTolerance(opts);
  const scalarInput = typeof opts.at === "number";
  const x0 = toArray(opts.at, "at");
  if (!x0.every(Number.isFinite))
    throw new GradtrioError("INVALID_ARGUMENT", "checkFunction: the point must be finite");
  const at: NestedArray = scalarInput ? x0[0]! : [...x0];
  const arg = (x: Float64Array) => (scalarInput ? x[0]! : x.slice()) as never;

  // Written with the Tensor API: traced, three legs.
  let probe: unknown;
  let probeThrew = false;
  try {
    probe = f(tensor(scalarInput ? x0[0]! : x0, {}) as never);
  } catch {
    probeThrew = true;
  }
  if (probe instanceof Tensor)
    return check(f as (x: Tensor) => Tensor, {
      at: { x: at },
      ...(opts.rtol === undefined ? {} : { rtol: opts.rtol }),
      ...(opts.atol === undefined ? {} : { atol: opts.atol }),
    });

  const name = f.name === "" ? "f" : f.name;
  let y0: unknown;
  try {
    y0 = f(arg(x0));
  } catch (e) {
    // Works on a Tensor, fails on plain numbers: written with the Tensor API (x.data[0] * 2) but
    // its result left the graph.
    if (!probeThrew && typeof probe === "number")
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        "checkFunction: f takes a Tensor but returns a number: its result does not depend on its input through the Tensor API (.data, .item() and Number(...) leave the graph); compute it with Tensor ops",
      );
    // As a derivative that throws: named, one line (the stack with GRADTRIO_DEBUG=1).
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `checkFunction: '${name}' threw at the point: ${userThrew(`'${name}'`, e)}`,
    );
  }
  const inputs = scalarInput ? ["x"] : Array.from(x0, (_, k) => elementLabel("x", [x0.length], k));
  if (typeof y0 === "number") return scalarCase(f, opts, { x0, arg, y0, at, name, inputs, tol });
  const y = toArray(y0, "f(x)");
  const m = y.length;
  const outputs = Array.from({ length: m }, (_, i) => elementLabel("out", [m], i));
  const users = userDerivative(opts.vjp === undefined ? "jvp(x, v)" : "vjp(x, v)", name);
  const bad = y.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    return notFinite({ name, at, value: [...y] }, `${outputs[bad]} = ${y[bad]}`, y[bad]!, tol);
  const F = (x: Float64Array) => toArray(f(arg(x)), "f(x)", m);
  const numeric = runLeg(() => {
    const rows = Array.from({ length: m }, () => new Float64Array(x0.length));
    const errors = Array.from({ length: m }, () => new Float64Array(x0.length));
    const v = new Float64Array(x0.length);
    for (let j = 0; j < x0.length; j++) {
      v.fill(0);
      v[j] = 1;
      const col = numericJvp(F, x0, v);
      for (let i = 0; i < m; i++) {
        rows[i]![j] = col.value[i]!;
        errors[i]![j] = col.error[i]!;
      }
    }
    return { rows, errors };
  });
  const user = runLeg(() => {
    const rows = Array.from({ length: m }, () => new Float64Array(x0.length));
    if (opts.vjp !== undefined)
      for (let i = 0; i < m; i++) {
        const v = new Float64Array(m);
        v[i] = 1;
        rows[i]!.set(
          toArray(
            users(() => opts.vjp!(arg(x0), v)),
            "vjp(x, v)",
            x0.length,
          ),
        );
      }
    else if (opts.jvp !== undefined)
      for (let j = 0; j < x0.length; j++) {
        const v = new Float64Array(x0.length);
        v[j] = 1;
        const col = toArray(
          users(() => opts.jvp!(arg(x0), v)),
          "jvp(x, v)",
          m,
        );
        for (let i = 0; i < m; i++) rows[i]![j] = col[i]!;
      }
    else
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        "checkFunction: a vector output needs its vjp(x, v) or jvp(x, v)",
      );
    return rows;
  });
  if (user.report.status === "error")
    throw new GradtrioError("INVALID_ARGUMENT", user.report.reason!);
  const legs = {
    symbolic: null,
    numeric: numeric.result?.rows ?? null,
    autograd: user.result,
    numericError: numeric.result?.errors ?? null,
  };
  const comparisons = matrixComparisons(
    legs,
    (i, j) => jacobianEntry(outputs[i]!, inputs[j]!),
    tol,
    (rows) =>
      new Map(
        rows.map((i) => [i, user.result![i]!.map((a) => 8 * EPS * finiteMagnitude(a))] as const),
      ),
  );
  return finish(
    { name, at, value: [...y], legs: { numeric: numeric.report, autograd: user.report } },
    comparisons,
    tol,
    { jacobian: matrixReport(legs, inputs, outputs) },
  );
}

/**
 * Calls the user's derivative (`what`, of the function `name`): an exception from it is the
 * one-line error naming both, `checkFunction: grad(x) of 'f' threw: …`.
 */
function userDerivative(what: string, name: string) {
  return <T>(call: () => T): T => {
    try {
      return call();
    } catch (e) {
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `checkFunction: ${what} of '${name}' threw: ${userThrew(`${what} of '${name}'`, e)}`,
      );
    }
  };
}

interface ScalarCase {
  readonly x0: Float64Array;
  readonly arg: (x: Float64Array) => never;
  readonly y0: number;
  readonly at: NestedArray;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly tol: ReturnType<typeof validateTolerance>;
}

function scalarCase(
  f: (x: never) => unknown,
  opts: CheckFunctionOptions,
  { x0, arg, y0, at, name, inputs, tol }: ScalarCase,
): Report {
  if (opts.grad === undefined)
    throw new GradtrioError("INVALID_ARGUMENT", "checkFunction: a scalar output needs its grad(x)");
  if (!Number.isFinite(y0)) return notFinite({ name, at, value: y0 }, `value ${y0}`, y0, tol);
  const fx = (x: Float64Array) => {
    const v = f(arg(x));
    if (typeof v !== "number")
      throw new GradtrioError("INVALID_ARGUMENT", "checkFunction: f(x) must return a number");
    return v;
  };
  const numeric = runLeg(() => gradient(fx, x0, { method: "richardson", f0: y0 }));
  const user = runLeg(() =>
    toArray(
      userDerivative("grad(x)", name)(() => opts.grad!(arg(x0))),
      "grad(x)",
      x0.length,
    ),
  );
  if (user.report.status === "error")
    throw new GradtrioError("INVALID_ARGUMENT", user.report.reason!);
  const g = numeric.result;
  const a = user.result!;
  const comparisons: Comparison[] = inputs.map((label, k) => ({
    label,
    symbolic: null,
    numeric: g === null ? null : g.gradient[k]!,
    autograd: a[k]!,
    numericError: g === null ? 0 : g.error[k]!,
    rounding: 8 * EPS * finiteMagnitude(a[k]!),
  }));
  const shaped = (v: Float64Array | null): NestedArray | null =>
    v === null ? null : typeof at === "number" ? v[0]! : [...v];
  const base = { name, at, value: y0, legs: { numeric: numeric.report, autograd: user.report } };
  if (g !== null && g.kinks.length > 0)
    return finish(
      base,
      [],
      tol,
      {},
      {
        rule: "kink",
        reason: `kink: left and right derivatives differ at ${inputs[g.kinks[0]!.coordinate]}`,
      },
    );
  return finish(base, comparisons, tol, {
    gradients: {
      x: {
        symbolic: null,
        numeric: shaped(g?.gradient ?? null),
        autograd: shaped(a),
        numericError: shaped(g?.error ?? null),
        formula: null,
      },
    },
  });
}

/**
 * A value that is not finite at the point has no derivative to check: inconclusive (rule "not
 * finite", worded as `check` words it), before either leg runs.
 */
function notFinite(
  base: { name: string; at: NestedArray; value: NestedArray },
  what: string,
  value: number,
  tol: ReturnType<typeof validateTolerance>,
): Report {
  const skipped: LegReport = { status: "skipped", reason: "the value is not finite", ms: 0 };
  return finish(
    { ...base, legs: { numeric: skipped, autograd: skipped } },
    [],
    tol,
    {},
    {
      rule: "not finite",
      reason: `the function is not finite at the point (${what}): ${
        Number.isNaN(value)
          ? "f is NaN there: outside f's domain, or f is wrong there (gradtrio cannot look inside f)"
          : "the value overflows float64"
      }`,
    },
  );
}

function finish(
  base: {
    name: string;
    at: NestedArray;
    value: NestedArray;
    legs: { numeric: LegReport; autograd: LegReport };
  },
  comparisons: Comparison[],
  tol: ReturnType<typeof validateTolerance>,
  extra: Partial<Pick<Report, "gradients" | "jacobian">>,
  inconclusive?: { rule: InconclusiveRule; reason: string },
): Report {
  const common = {
    expr: base.name,
    at: { x: base.at },
    value: base.value,
    gradients: {},
    ...extra,
    legs: { symbolic: NO_SYMBOLIC, ...base.legs },
    method: "richardson",
    notes: [],
    latex: {},
    directional: null,
  };
  if (inconclusive !== undefined)
    return { ...common, verdict: "inconclusive", blame: null, ...inconclusive, failing: [] };
  if (base.legs.numeric.status !== "ok")
    return {
      ...common,
      verdict: "inconclusive",
      blame: null,
      rule: "too few legs",
      reason: `too few legs: the finite differences failed (${base.legs.numeric.reason})`,
      failing: [],
    };
  const j = judge(comparisons, tol);
  return {
    ...common,
    verdict: j.verdict,
    blame: j.blame,
    reason:
      j.reason ??
      "two legs: numeric and autograd (your derivative); symbolic: a black-box function has no formula for the CAS",
    failing: j.failing,
    outvoted: j.outvoted,
  };
}
