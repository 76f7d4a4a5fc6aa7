/**
 * gradtrio's own formula AST for what the CAS returns: a small, closed vocabulary that we parse
 * nerdamer's text into (never eval it), simplify, print for people and compile to an evaluator.
 * Canonical forms keep it small: `a-b` is `add(a, mul(-1, b))`, `a/b` is `mul(a, pow(b, -1))`.
 */

/**
 * The functions a formula may call: what nerdamer emits for gradtrio's ops, and nothing else;
 * plus `log1p` and `expm1`, which only `forEvaluation` writes (nerdamer knows neither).
 */
export const FORMULA_FUNCTIONS = [
  "sin",
  "cos",
  "tan",
  "sec",
  "csc",
  "cot",
  "sinh",
  "cosh",
  "tanh",
  "sech",
  "csch",
  "coth",
  "asin",
  "acos",
  "atan",
  "erf",
  "exp",
  "log",
  "sqrt",
  "abs",
  "sign",
  "log1p",
  "expm1",
] as const;
export type FormulaFunction = (typeof FORMULA_FUNCTIONS)[number];

export function isFormulaFunction(name: string): name is FormulaFunction {
  return (FORMULA_FUNCTIONS as readonly string[]).includes(name);
}

export type Formula =
  /** A number; `ratio` holds it exactly as p/q (q > 0, reduced) when it is a known fraction. */
  | { readonly kind: "num"; readonly value: number; readonly ratio?: readonly [number, number] }
  /** A leaf: a variable, or a value computed elsewhere (a reduction or matmul result). */
  | { readonly kind: "sym"; readonly name: string }
  | { readonly kind: "const"; readonly name: "e" | "pi" }
  | { readonly kind: "add"; readonly args: readonly Formula[] }
  | { readonly kind: "mul"; readonly args: readonly Formula[] }
  | { readonly kind: "pow"; readonly base: Formula; readonly exp: Formula }
  | { readonly kind: "fn"; readonly name: FormulaFunction; readonly arg: Formula }
  /** Display only: a sum over elements, or a named linear map (`matmul`, `transpose`). */
  | { readonly kind: "display"; readonly name: string; readonly args: readonly Formula[] };

export const fnum = (value: number): Formula => {
  if (Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER)
    return { kind: "num", value, ratio: [value, 1] };
  return { kind: "num", value };
};
export const fratio = (p: number, q: number): Formula => {
  if (q < 0) {
    p = -p;
    q = -q;
  }
  const g = gcd(Math.abs(p), q);
  p /= g;
  q /= g;
  return { kind: "num", value: p / q, ratio: [p, q] };
};
export const fsym = (name: string): Formula => ({ kind: "sym", name });
export const fconst = (name: "e" | "pi"): Formula => ({ kind: "const", name });
export const fadd = (...args: Formula[]): Formula => ({ kind: "add", args });
export const fmul = (...args: Formula[]): Formula => ({ kind: "mul", args });
export const fpow = (base: Formula, exp: Formula): Formula => ({ kind: "pow", base, exp });
export const ffn = (name: FormulaFunction, arg: Formula): Formula => ({ kind: "fn", name, arg });
export const fdisplay = (name: string, ...args: Formula[]): Formula => ({
  kind: "display",
  name,
  args,
});

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a === 0 ? 1 : a;
}

const SAFE = Number.MAX_SAFE_INTEGER;

function mulNum(a: Formula & { kind: "num" }, b: Formula & { kind: "num" }): Formula {
  if (a.ratio && b.ratio) {
    const p = a.ratio[0] * b.ratio[0];
    const q = a.ratio[1] * b.ratio[1];
    if (Math.abs(p) <= SAFE && q <= SAFE) return fratio(p, q);
  }
  return fnum(a.value * b.value);
}

function addNum(a: Formula & { kind: "num" }, b: Formula & { kind: "num" }): Formula {
  if (a.ratio && b.ratio) {
    const p = a.ratio[0] * b.ratio[1] + b.ratio[0] * a.ratio[1];
    const q = a.ratio[1] * b.ratio[1];
    if (Math.abs(p) <= SAFE && q <= SAFE) return fratio(p, q);
  }
  return fnum(a.value + b.value);
}

function powNum(a: Formula & { kind: "num" }, b: Formula & { kind: "num" }): Formula | undefined {
  // Only exact integer powers of fractions fold; 2^(1/2) stays a formula, as a textbook keeps it.
  if (!a.ratio || !b.ratio || b.ratio[1] !== 1) return undefined;
  const n = b.ratio[0];
  if (Math.abs(n) > 64) return undefined;
  const p = a.ratio[0] ** Math.abs(n);
  const q = a.ratio[1] ** Math.abs(n);
  if (Math.abs(p) > SAFE || q > SAFE) return undefined;
  if (n >= 0) return fratio(p, q);
  return p === 0 ? undefined : fratio(q, p);
}

const isNum = (f: Formula, v?: number): f is Formula & { kind: "num" } =>
  f.kind === "num" && (v === undefined || f.value === v);

/**
 * Algebraic tidying that is exact (or exact up to one rounding, as constant folding is):
 * flattens sums and products, folds numbers, drops 0 and 1, `log(e)` → 1, `e^u` → `exp(u)`.
 * `known` gives the simplified form of some subformulas (by identity), for formulas that share
 * them.
 * @example simplify(fmul(fnum(2), fnum(3), fsym("x"))) // mul(6, x)
 */
export function simplify(f: Formula, known?: ReadonlyMap<Formula, Formula>): Formula {
  switch (f.kind) {
    case "num":
    case "sym":
    case "const":
      return f;
  }
  const hit = known?.get(f);
  if (hit !== undefined) return hit;
  switch (f.kind) {
    case "fn":
      return simplifyFn(f.name, simplify(f.arg, known));
    case "pow":
      return simplifyPow(simplify(f.base, known), simplify(f.exp, known));
  }
  const args = f.args.map((g) => simplify(g, known));
  if (f.kind === "display") return simplifyDisplay(f.name, args);
  return f.kind === "add" ? simplifyAdd(args) : simplifyMul(args);
}

function simplifyDisplay(name: string, args: Formula[]): Formula {
  // sum(c*u) = c*sum(u): keeps the constant factor where a reader looks for it.
  if (name === "sum" && args.length === 1) {
    const a = args[0]!;
    if (isNum(a, 0)) return a;
    if (a.kind === "mul" && isNum(a.args[0]!)) {
      return simplifyMul([a.args[0]!, fdisplay("sum", simplifyMul(a.args.slice(1)))]);
    }
  }
  return fdisplay(name, ...args);
}

function simplifyFn(name: FormulaFunction, arg: Formula): Formula {
  if (name === "log") {
    if (arg.kind === "const" && arg.name === "e") return fnum(1);
    if (isNum(arg, 1)) return fnum(0);
    if (arg.kind === "fn" && arg.name === "exp") return arg.arg;
  }
  if (name === "exp") {
    if (isNum(arg, 0)) return fnum(1);
    if (isNum(arg, 1)) return fconst("e");
    // exp(u*log(a)) is a^u: how the leg writes a constant base for the CAS, undone for people.
    if (arg.kind === "mul") {
      const i = arg.args.findIndex(
        (g) =>
          g.kind === "fn" && g.name === "log" && (g.arg.kind === "num" || g.arg.kind === "const"),
      );
      if (i >= 0) {
        const rest = arg.args.filter((_, j) => j !== i);
        const base = (arg.args[i] as Formula & { kind: "fn" }).arg;
        return fpow(base, rest.length === 1 ? rest[0]! : simplifyMul(rest));
      }
    }
    if (arg.kind === "fn" && arg.name === "log" && arg.arg.kind === "num") return arg.arg;
  }
  if (isNum(arg, 0) && (name === "sin" || name === "tan" || name === "sinh" || name === "tanh"))
    return fnum(0);
  return ffn(name, arg);
}

function simplifyPow(base: Formula, exp: Formula): Formula {
  if (isNum(exp, 1)) return base;
  if (isNum(exp, 0)) return fnum(1);
  if (isNum(base, 1)) return fnum(1);
  if (isNum(base) && isNum(exp)) {
    const folded = powNum(base, exp);
    if (folded) return folded;
  }
  if (base.kind === "const" && base.name === "e") return simplifyFn("exp", exp);
  // (u^a)^n with integer n is u^(a*n) for every real u where both sides are defined.
  if (base.kind === "pow" && isNum(exp) && exp.ratio && exp.ratio[1] === 1)
    return simplifyPow(base.base, simplifyMul([base.exp, exp]));
  return fpow(base, exp);
}

function simplifyAdd(args: Formula[]): Formula {
  const flat: Formula[] = [];
  let constant: Formula = fnum(0);
  for (const a of args) {
    const parts = a.kind === "add" ? a.args : [a];
    for (const p of parts) {
      if (isNum(p)) constant = addNum(constant as Formula & { kind: "num" }, p);
      else flat.push(p);
    }
  }
  if (!isNum(constant, 0)) flat.push(constant);
  if (flat.length === 0) return fnum(0);
  if (flat.length === 1) return flat[0]!;
  return fadd(...flat);
}

/** The factors of a product of `fs`, nested products flattened, in order. */
function factorsOf(fs: readonly Formula[], out: Formula[] = []): Formula[] {
  for (const f of fs)
    if (f.kind === "mul") factorsOf(f.args, out);
    else out.push(f);
  return out;
}

function simplifyMul(args: Formula[]): Formula {
  const flat: Formula[] = [];
  let coef = fnum(1) as Formula & { kind: "num" };
  for (const p of factorsOf(args))
    if (isNum(p)) coef = mulNum(coef, p) as Formula & { kind: "num" };
    else flat.push(p);
  if (coef.value === 0) return fnum(0);
  // exp(a)*exp(b) stays as nerdamer wrote it; only numbers fold here.
  if (flat.length === 0) return coef;
  if (coef.value === 1) return flat.length === 1 ? flat[0]! : fmul(...flat);
  // -1 * (a + b) keeps its sign on the product, which prints as a leading minus.
  return fmul(coef, ...flat);
}

/**
 * Replaces every `sym` leaf for which `by` returns a formula. Subformulas without a replacement
 * are shared with `f`, not copied.
 */
export function substitute(f: Formula, by: (name: string) => Formula | undefined): Formula {
  switch (f.kind) {
    case "num":
    case "const":
      return f;
    case "sym":
      return by(f.name) ?? f;
    case "fn": {
      const arg = substitute(f.arg, by);
      return arg === f.arg ? f : ffn(f.name, arg);
    }
    case "pow": {
      const base = substitute(f.base, by);
      const exp = substitute(f.exp, by);
      return base === f.base && exp === f.exp ? f : fpow(base, exp);
    }
    case "add":
    case "mul":
    case "display":
      return withArgs(
        f,
        mapShared(f.args, (a) => substitute(a, by)),
      );
  }
}

/** `args` with `fn` applied to each: `args` itself where `fn` changes none of them. */
function mapShared(args: readonly Formula[], fn: (g: Formula) => Formula): readonly Formula[] {
  let out: Formula[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const g = fn(args[i]!);
    if (out === undefined && g !== args[i]) out = args.slice(0, i);
    out?.push(g);
  }
  return out ?? args;
}

/** `f` with the arguments `args` (`f` itself when they are its own). */
function withArgs(
  f: Formula & { kind: "add" | "mul" | "display" },
  args: readonly Formula[],
): Formula {
  if (args === f.args) return f;
  return f.kind === "display" ? { kind: "display", name: f.name, args } : { kind: f.kind, args };
}

/** Leaf symbol names a formula mentions. */
export function symbolsOf(f: Formula, out = new Set<string>()): Set<string> {
  switch (f.kind) {
    case "sym":
      out.add(f.name);
      break;
    case "fn":
      symbolsOf(f.arg, out);
      break;
    case "pow":
      symbolsOf(f.base, out);
      symbolsOf(f.exp, out);
      break;
    case "add":
    case "mul":
    case "display":
      for (const a of f.args) symbolsOf(a, out);
      break;
  }
  return out;
}

/**
 * The form of `f` to evaluate in float64: `log(1+u)` → `log1p(u)` and `exp(u)-1` → `expm1(u)`,
 * which keep the digits that `1+u` and `exp(u)-1` round away for tiny u (the CAS writes log1p
 * as the textbook `log(1+u)`; `cos(log1p(x))` at x = 1e-131 has the gradient -1e-131, not 0).
 * Exact rewrites: the printed formula stays as the CAS wrote it. With `memo`, each node (by
 * identity) is rewritten once, and shared subformulas stay shared.
 * @example forEvaluation(ffn("log", fadd(fsym("x"), fnum(1)))) // log1p(x)
 */
export function forEvaluation(f: Formula, memo?: Map<Formula, Formula>): Formula {
  switch (f.kind) {
    case "num":
    case "sym":
    case "const":
      return f;
  }
  let out = memo?.get(f);
  if (out === undefined) {
    out = rewriteForEvaluation(f, (g) => forEvaluation(g, memo));
    memo?.set(f, out);
  }
  return out;
}

function rewriteForEvaluation(
  f: Formula & { kind: "fn" | "pow" | "add" | "mul" | "display" },
  inner: (g: Formula) => Formula,
): Formula {
  switch (f.kind) {
    case "fn": {
      const arg = inner(f.arg);
      if (f.name === "log" && arg.kind === "add") {
        const i = arg.args.findIndex((a) => isNum(a, 1));
        if (i >= 0) {
          const rest = arg.args.filter((_, j) => j !== i);
          return ffn("log1p", rest.length === 1 ? rest[0]! : fadd(...rest));
        }
      }
      return arg === f.arg ? f : ffn(f.name, arg);
    }
    case "pow": {
      const base = inner(f.base);
      const exp = inner(f.exp);
      return base === f.base && exp === f.exp ? f : fpow(base, exp);
    }
    case "add": {
      const args = mapShared(f.args, inner);
      const one = args.findIndex((a) => isNum(a, -1));
      const ex = args.findIndex((a) => a.kind === "fn" && a.name === "exp");
      if (one < 0 || ex < 0) return withArgs(f, args);
      const m1 = ffn("expm1", (args[ex] as Formula & { kind: "fn" }).arg);
      const rest = args.filter((_, j) => j !== one && j !== ex);
      return rest.length === 0 ? m1 : fadd(...rest, m1);
    }
    case "mul":
    case "display":
      return withArgs(f, mapShared(f.args, inner));
  }
}
