/**
 * The symbolic leg's Hessian: the CAS's own second derivatives. The expression is written out
 * over its input elements as scalars (sums and matmuls expanded, broadcasts resolved), the CAS
 * splits it into the terms of its outer sum, differentiates each term once per element it reads,
 * and each first derivative again by every element it still contains (so a separable sum costs n
 * second derivatives, not n²); the Hessian is symmetric, so only j ≥ i is derived. Scalarizing costs O(n²) text at worst: it is for Hessians of up to
 * `MAX_HESSIAN_INPUTS` elements, which a dense Hessian's own size limits anyway.
 */
import {
  type CallExpr,
  call,
  type Expr,
  num,
  postOrder,
  variable,
  variablesOf,
} from "../expr/ast.ts";
import { broadcastIndex } from "../expr/broadcast.ts";
import { BUILTIN_OPS, branchesOf, isBuiltinOp } from "../expr/ops.ts";
import { elementLabel, type Value } from "../expr/point.ts";
import { expandCustomOps } from "../expr/tensor-op.ts";
import { casDiff } from "./cas.ts";
import { compileFormulasWithError } from "./evaluate.ts";
import { type Formula, fadd, ffn, fmul, fpow, fratio, symbolsOf } from "./formula.ts";
import { asMatrix, forwardValues } from "./forward.ts";
import { type Declined, declined, KinkFound, Unavailable } from "./outcome.ts";
import { readCas } from "./read-cas.ts";
import { type Branch, CasWriter } from "./to-cas.ts";

/** Input elements beyond which the symbolic Hessian is not attempted. */
export const MAX_HESSIAN_INPUTS = 400;
/**
 * Elements one term may read: a term over k elements costs k(k+1)/2 second derivatives of a text
 * that grows with k (log(sum(exp(x))) over 50 elements: minutes in nerdamer).
 */
export const MAX_TERM_INPUTS = 16;

export type SymbolicHessianResult =
  | {
      readonly status: "ok";
      /** ∂²f/∂input[i]∂input[j], the variables flattened in the point's order. */
      readonly rows: Float64Array[];
      /** The running-error bound of evaluating each entry's CAS formulas. */
      readonly bounds: Float64Array[];
      /** How many second derivatives the CAS derived (the others are structurally 0). */
      readonly derived: number;
    }
  | Declined;

/**
 * ∂²f/∂inputs² of a scalar `expr` at the point, by the CAS; with `wrt`, over the elements of
 * those variables only (the others are constants: no derivative is taken by them).
 *
 * @example
 * symbolicHessian(parse("x^3*y"), toValues({ x: 2, y: 3 })).rows; // [[36, 12], [12, 0]]
 */
export function symbolicHessian(
  input: Expr,
  values: ReadonlyMap<string, Value>,
  wrt: readonly string[] = [...values.keys()],
): SymbolicHessianResult {
  const expr = expandCustomOps(input);
  if (typeof expr === "string") return { status: "unavailable", reason: expr };
  try {
    const { scalar, leaves, along } = scalarize(expr, values, wrt);
    const fwd = forwardValues(scalar, leaves);
    const branch = (e: CallExpr): Branch => {
      const [u, v, w] = [0, 1, 2].map((j) =>
        j < e.args.length ? fwd.get(e.args[j]!)!.data[0]! : 0,
      ) as [number, number, number];
      const b = branchesOf(e.op)!.at(u, v, w);
      if (b < 0) throw new KinkFound({ op: e.op, text: `${e.op}(…)`, element: 0, value: u });
      return b as Branch;
    };
    const keys = [...along];
    const rank = new Map(keys.map((k, i) => [k, i]));
    const formulas: Formula[] = [];
    const where: [number, number][] = [];
    // A sum's Hessian is the sum of its terms' Hessians: each term is small, and a term that
    // reads few elements needs few derivatives.
    for (const term of termsOf(scalar)) {
      // A writer per term names its symbols in the order they occur: terms of one shape (a
      // batch's) give the same text, and the CAS answers them from its cache.
      const writer = new CasWriter((e) => (e.kind === "var" ? e.name : undefined));
      const text = writer.write(term, branch);
      const own = variablesOf(term)
        .filter((k) => rank.has(k))
        .sort((a, b) => rank.get(a)! - rank.get(b)!);
      if (own.length > MAX_TERM_INPUTS)
        throw new Unavailable(
          `a symbolic Hessian of a term that reads ${own.length} input elements is not attempted (over ${MAX_TERM_INPUTS}: O(n²) CAS second derivatives)`,
        );
      for (let a = 0; a < own.length; a++) {
        const d1 = casDiff(text, writer.symbol(own[a]!));
        if (!d1.ok) throw new Unavailable(`d/d${own[a]}: ${d1.reason}`);
        const f1 = readCas(d1.text, writer.resolve);
        const present = symbolsOf(f1);
        // nerdamer's own answer can hold a root it differentiates wrongly (CAS_DEFECTS): it goes
        // back in the writer's safe form.
        const again = writer.emit(splitRoots(f1), (k) => writer.symbol(k));
        for (let b = a; b < own.length; b++) {
          if (!present.has(own[b]!)) continue;
          const d2 = casDiff(again, writer.symbol(own[b]!));
          if (!d2.ok) throw new Unavailable(`d²/d${own[a]}d${own[b]}: ${d2.reason}`);
          formulas.push(readCas(d2.text, writer.resolve));
          where.push([rank.get(own[a]!)!, rank.get(own[b]!)!]);
        }
      }
    }
    const slots = [...formulas.reduce((acc, f) => symbolsOf(f, acc), new Set<string>())];
    const run = compileFormulasWithError(formulas, slots);
    const v = new Float64Array(formulas.length);
    const err = new Float64Array(formulas.length);
    run(
      slots.map((k) => leaves.get(k)!.data[0]!),
      new Float64Array(slots.length),
      v,
      err,
    );
    const rows = keys.map(() => new Float64Array(keys.length));
    const bounds = keys.map(() => new Float64Array(keys.length));
    where.forEach(([i, j], k) => {
      for (const [r, c] of i === j
        ? [[i, j]]
        : [
            [i, j],
            [j, i],
          ]) {
        const before = rows[r]![c]!;
        rows[r]![c] = before + v[k]!;
        bounds[r]![c] =
          bounds[r]![c]! + err[k]! + (before === 0 ? 0 : EPS * Math.abs(rows[r]![c]!));
      }
    });
    return { status: "ok", rows, bounds, derived: formulas.length };
  } catch (e) {
    return declined(e);
  }
}

const EPS = Number.EPSILON;

/** Roots as the CAS writer sends them (u^(p/2) as u^(p/4)·u^(p/4); see `CasWriter.write`). */
function splitRoots(f: Formula): Formula {
  switch (f.kind) {
    case "add":
      return fadd(...f.args.map(splitRoots));
    case "mul":
      return fmul(...f.args.map(splitRoots));
    case "fn":
      if (f.name === "sqrt") {
        const b = splitRoots(f.arg);
        return fmul(fpow(b, fratio(1, 4)), fpow(b, fratio(1, 4)));
      }
      return ffn(f.name, splitRoots(f.arg));
    case "pow": {
      const b = splitRoots(f.base);
      const r = f.exp.kind === "num" ? f.exp.ratio : undefined;
      if (r !== undefined && r[1] === 2)
        return fmul(fpow(b, fratio(r[0], 4)), fpow(b, fratio(r[0], 4)));
      return fpow(b, splitRoots(f.exp));
    }
    default:
      return f;
  }
}

/** The terms whose sum is `e`, through +, −, negation and constant factors and divisors. */
function termsOf(e: Expr): Expr[] {
  if (e.kind !== "call") return [e];
  const [a, b] = e.args as [Expr, Expr];
  const constant = (x: Expr) => variablesOf(x).length === 0;
  switch (e.op) {
    case "add":
      return [...termsOf(a), ...termsOf(b)];
    case "sub":
      return [...termsOf(a), ...termsOf(b).map((t) => call("neg", [t]))];
    case "neg":
      return termsOf(a).map((t) => call("neg", [t]));
    case "div":
      return constant(b) ? termsOf(a).map((t) => call("div", [t, b])) : [e];
    case "mul":
      if (constant(a)) return termsOf(b).map((t) => call("mul", [a, t]));
      return constant(b) ? termsOf(a).map((t) => call("mul", [t, b])) : [e];
    default:
      return [e];
  }
}

/** A balanced sum (the CAS writer limits nesting depth). */
function addAll(xs: readonly Expr[]): Expr {
  if (xs.length === 0) return num(0);
  if (xs.length === 1) return xs[0]!;
  const h = xs.length >> 1;
  return call("add", [addAll(xs.slice(0, h)), addAll(xs.slice(h))]);
}

/**
 * `expr` written over scalar variables, one per input element (named by its label, `x[2]`),
 * their values, and the labels of the elements of the variables `wrt`, in order. Throws
 * `Unavailable` for an op it cannot expand, or too many elements of `wrt`.
 */
function scalarize(
  expr: Expr,
  values: ReadonlyMap<string, Value>,
  wrt: readonly string[],
): { scalar: Expr; leaves: Map<string, Value>; along: string[] } {
  // First: an unknown variable is bad input (GradtrioError), before any "not attempted".
  const fwd = forwardValues(expr, values);
  const leaves = new Map<string, Value>();
  const along: string[] = [];
  for (const [name, v] of values)
    for (let k = 0; k < v.data.length; k++) {
      const label = elementLabel(name, v.shape, k);
      leaves.set(label, { shape: [], data: Float64Array.of(v.data[k]!) });
      if (wrt.includes(name)) along.push(label);
    }
  if (along.length > MAX_HESSIAN_INPUTS)
    throw new Unavailable(
      `a symbolic Hessian of ${along.length} input elements is not attempted (over ${MAX_HESSIAN_INPUTS})`,
    );
  const done = new Map<Expr, Expr[]>();
  for (const e of postOrder(expr)) {
    let out: Expr[];
    if (e.kind === "var") {
      const v = values.get(e.name)!;
      out = Array.from({ length: v.data.length }, (_, k) =>
        variable(elementLabel(e.name, v.shape, k)),
      );
    } else if (e.kind !== "call") out = [e];
    else if (e.op === "sum") out = [addAll(done.get(e.args[0]!)!)];
    else if (e.op === "logsumexp") {
      // m + log(Σ exp(xᵢ − m)), m the largest element at the point: a constant, so the
      // derivatives are logsumexp's, and exp cannot overflow.
      const xs = done.get(e.args[0]!)!;
      const m = num(Math.max(...fwd.get(e.args[0]!)!.data));
      const terms = xs.map((x) => call("exp", [call("sub", [x, m])]));
      out = [call("add", [m, call("log", [addAll(terms)])])];
    } else if (e.op === "mean") {
      const xs = done.get(e.args[0]!)!;
      out = [call("div", [addAll(xs), num(xs.length)])];
    } else if (e.op === "matmul") {
      const [a, b] = e.args as [Expr, Expr];
      const A = done.get(a)!;
      const B = done.get(b)!;
      const { rows: m, cols: k } = asMatrix(fwd.get(a)!, "left");
      const n = asMatrix(fwd.get(b)!, "right").cols;
      out = [];
      for (let i = 0; i < m; i++)
        for (let c = 0; c < n; c++)
          out.push(
            addAll(
              Array.from({ length: k }, (_, j) => call("mul", [A[i * k + j]!, B[j * n + c]!])),
            ),
          );
    } else if (!isBuiltinOp(e.op) || BUILTIN_OPS[e.op].kind === "elementwise") {
      const shape = fwd.get(e)!.shape;
      const args = e.args.map((a) => {
        const xs = done.get(a)!;
        return { xs, idx: broadcastIndex(fwd.get(a)!.shape, shape) };
      });
      out = Array.from({ length: fwd.get(e)!.data.length }, (_, i) =>
        call(
          e.op,
          args.map(({ xs, idx }) => xs[idx[i]!]!),
        ),
      );
    } else throw new Unavailable(`the symbolic Hessian cannot expand '${e.op}'`);
    done.set(e, out);
  }
  return { scalar: done.get(expr)![0]!, leaves, along };
}
