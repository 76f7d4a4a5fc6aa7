/**
 * Compiles a `Formula` (gradtrio's own validated AST, never text) to a closure that evaluates it
 * column-wise: every leaf is a number (a scalar, broadcast) or a Float64Array (one entry per
 * element), so an elementwise template runs as one tight loop per node over all elements.
 */
import { GradtrioError } from "../errors.ts";
import type { Formula, FormulaFunction } from "./formula.ts";

/** A column: one number for all elements, or one per element. */
export type Column = number | Float64Array;

const sech = (x: number): number => 1 / Math.cosh(x);
const FN: Record<FormulaFunction, (x: number) => number> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  sec: (x) => 1 / Math.cos(x),
  csc: (x) => 1 / Math.sin(x),
  cot: (x) => 1 / Math.tan(x),
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  sech,
  csch: (x) => 1 / Math.sinh(x),
  coth: (x) => 1 / Math.tanh(x),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sign: Math.sign,
};

/** Evaluates `f` at plain numbers: the scalar case of `compileFormula`. */
export function evaluateAt(f: Formula, env: (name: string) => number): number {
  const names = [...new Set(collect(f))];
  const run = compileFormula(f, names);
  return run(names.map(env)) as number;
}

function collect(f: Formula, out: string[] = []): string[] {
  if (f.kind === "sym") out.push(f.name);
  else if (f.kind === "fn") collect(f.arg, out);
  else if (f.kind === "pow") {
    collect(f.base, out);
    collect(f.exp, out);
  } else if (f.kind === "add" || f.kind === "mul" || f.kind === "display")
    for (const a of f.args) collect(a, out);
  return out;
}

/**
 * Compiles `f` for leaves in the order `slots` names them.
 * @example compileFormula(fmul(fnum(2), fsym("x")), ["x"])([new Float64Array([1, 2])]) // [2, 4]
 */
export function compileFormula(f: Formula, slots: readonly string[]): (cols: Column[]) => Column {
  const index = new Map(slots.map((s, i) => [s, i]));
  const go = (g: Formula): ((cols: Column[]) => Column) => {
    switch (g.kind) {
      case "num": {
        const v = g.value;
        return () => v;
      }
      case "const": {
        const v = g.name === "pi" ? Math.PI : Math.E;
        return () => v;
      }
      case "sym": {
        const i = index.get(g.name);
        if (i === undefined)
          throw new GradtrioError("CAS", `internal: formula leaf '${g.name}' has no value`);
        return (cols) => cols[i]!;
      }
      case "fn": {
        const a = go(g.arg);
        const fn = FN[g.name];
        return (cols) => map1(a(cols), fn);
      }
      case "pow": {
        const b = go(g.base);
        if (g.exp.kind === "num" && g.exp.value === 2) return (cols) => square(b(cols));
        if (g.exp.kind === "num" && g.exp.value === -1) return (cols) => reciprocal(b(cols));
        const e = go(g.exp);
        return (cols) => binary(b(cols), e(cols), Math.pow);
      }
      case "add": {
        const parts = g.args.map(go);
        return (cols) => {
          let acc = parts[0]!(cols);
          for (let i = 1; i < parts.length; i++) acc = add(acc, parts[i]!(cols));
          return acc;
        };
      }
      case "mul": {
        const parts = g.args.map(go);
        return (cols) => {
          let acc = parts[0]!(cols);
          for (let i = 1; i < parts.length; i++) acc = mul(acc, parts[i]!(cols));
          return acc;
        };
      }
      case "display":
        throw new GradtrioError("CAS", `internal: '${g.name}(…)' is for display only`);
    }
  };
  return go(f);
}

function map1(a: Column, fn: (x: number) => number): Column {
  if (typeof a === "number") return fn(a);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = fn(a[i]!);
  return out;
}

function square(a: Column): Column {
  if (typeof a === "number") return a * a;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * a[i]!;
  return out;
}

function reciprocal(a: Column): Column {
  if (typeof a === "number") return 1 / a;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = 1 / a[i]!;
  return out;
}

function add(a: Column, b: Column): Column {
  if (typeof a === "number" && typeof b === "number") return a + b;
  if (typeof a === "number") return add(b, a);
  const out = new Float64Array(a.length);
  if (typeof b === "number") for (let i = 0; i < a.length; i++) out[i] = a[i]! + b;
  else for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}

function mul(a: Column, b: Column): Column {
  if (typeof a === "number" && typeof b === "number") return a * b;
  if (typeof a === "number") return mul(b, a);
  const out = new Float64Array(a.length);
  if (typeof b === "number") for (let i = 0; i < a.length; i++) out[i] = a[i]! * b;
  else for (let i = 0; i < a.length; i++) out[i] = a[i]! * b[i]!;
  return out;
}

function binary(a: Column, b: Column, fn: (x: number, y: number) => number): Column {
  if (typeof a === "number" && typeof b === "number") return fn(a, b);
  const n = typeof a === "number" ? (b as Float64Array).length : a.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    out[i] = fn(typeof a === "number" ? a : a[i]!, typeof b === "number" ? b : b[i]!);
  return out;
}
