/**
 * Compiles a `Formula` (gradtrio's own validated AST, never text) to a closure that evaluates it
 * column-wise: every leaf is a number (a scalar, broadcast) or a Float64Array (one entry per
 * element), so an elementwise template runs as one tight loop per node over all elements.
 */
import { GradtrioError } from "../errors.ts";
import { erf } from "../expr/erf.ts";
import { type Formula, type FormulaFunction, forEvaluation } from "./formula.ts";

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
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  erf,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sign: Math.sign,
  log1p: Math.log1p,
  expm1: Math.expm1,
};

/** Evaluates `f` at plain numbers: the scalar case of `compileFormula`. */
export function evaluateAt(f: Formula, env: (name: string) => number): number {
  return formulaValues(env)(f);
}

/**
 * The values of formulas at one element, each leaf's by `env`, each formula as it comes: bit for
 * bit what `compileFormulas` computes (the same instructions), for formulas evaluated once
 * (nothing is compiled or kept). A subformula shared by object is evaluated once.
 * @example formulaValues(() => 3)(fmul(fnum(2), fsym("x"))) // 6
 */
export function formulaValues(env: (name: string) => number): (f: Formula) => number {
  const slots = new Map<string, number>();
  const values: number[] = [];
  const { tape, add } = tapeBuilder((name) => {
    let i = slots.get(name);
    if (i === undefined) slots.set(name, (i = values.push(env(name)) - 1));
    return i;
  }, false);
  const vals: number[] = [];
  return (f) => {
    const out = add(f);
    for (let k = vals.length; k < tape.length; k++)
      vals.push(step(tape[k]!, vals, values, null) as number);
    return vals[out]!;
  };
}

/**
 * Compiles `f` for leaves in the order `slots` names them.
 * @example compileFormula(fmul(fnum(2), fsym("x")), ["x"])([new Float64Array([1, 2])]) // [2, 4]
 */
export function compileFormula(
  f: Formula,
  slots: readonly string[],
  opts: { readonly float32?: boolean } = {},
): (cols: Column[]) => Column {
  const run = compileFormulas([f], slots, opts);
  return (cols) => run(cols)[0]!;
}

/**
 * `compileFormula` for one element at a time, on plain numbers (the same instructions, the same
 * values), with nothing allocated per call. Not reentrant: it keeps one scratch tape.
 * @example compileScalar(fmul(fnum(2), fsym("x")), ["x"])([3]) // 6
 */
export function compileScalar(
  f: Formula,
  slots: readonly string[],
): (args: readonly number[]) => number {
  const { tape, outs } = tapeOf([f], slots);
  const vals: Column[] = new Array(tape.length).fill(0);
  const out = outs[0]!;
  return (args) => {
    for (let k = 0; k < tape.length; k++) vals[k] = step(tape[k]!, vals, args as Column[], null);
    return vals[out] as number;
  };
}

type Instr =
  | { readonly op: "const"; readonly value: number }
  | { readonly op: "slot"; readonly index: number }
  | { readonly op: "add" | "mul"; readonly args: readonly number[] }
  | { readonly op: "pow"; readonly base: number; readonly exp: number }
  | { readonly op: "square" | "recip"; readonly arg: number }
  | { readonly op: "fn"; readonly name: FormulaFunction; readonly arg: number };
/** An instruction that computes from others. */
type Operation = Exclude<Instr, { readonly op: "const" | "slot" }>;

/**
 * Compiles several formulas over the same leaves into one tape with common subexpressions
 * shared (the gradient formulas of one template repeat `exp(-w*x-b)` many times).
 * @example compileFormulas([fsym("x"), fmul(fnum(2), fsym("x"))], ["x"])([3]) // [3, 6]
 */
export function compileFormulas(
  fs: readonly Formula[],
  slots: readonly string[],
  opts: { readonly reuse?: boolean; readonly float32?: boolean } = {},
): (cols: Column[]) => Column[] {
  const { tape, outs } = tapeOf(fs, slots);
  if (opts.float32 === true)
    return (cols) => {
      const vals: Column[] = new Array(tape.length);
      for (let k = 0; k < tape.length; k++) vals[k] = step32(tape[k]!, vals, cols);
      return outs.map((o) => vals[o]!);
    };
  if (opts.reuse !== true)
    return (cols) => {
      const vals: Column[] = new Array(tape.length);
      for (let k = 0; k < tape.length; k++) vals[k] = step(tape[k]!, vals, cols, null);
      return outs.map((o) => vals[o]!);
    };
  // Each instruction writes into its own buffer, kept from call to call: no allocation per call
  // (the leg evaluates 10^6 elements in chunks), and the results are overwritten by the next call.
  const buffers: Buffers = { of: new Array(tape.length).fill(null), current: 0 };
  const vals: Column[] = new Array(tape.length);
  return (cols) => {
    for (let k = 0; k < tape.length; k++) {
      buffers.current = k;
      vals[k] = step(tape[k]!, vals, cols, buffers);
    }
    return outs.map((o) => vals[o]!);
  };
}

interface Tape {
  readonly tape: readonly Instr[];
  readonly outs: readonly number[];
}

/** Each formula list's tape, for its slots: compiled for values, bounds and overflow, built once. */
const tapes = new WeakMap<readonly Formula[], { slots: readonly string[]; tape: Tape }>();

/** `buildTape(fs, slots)`, kept for the next compile of the same list. */
function tapeOf(fs: readonly Formula[], slots: readonly string[]): Tape {
  const hit = tapes.get(fs);
  if (hit !== undefined && hit.slots === slots) return hit.tape;
  const tape = buildTape(fs, slots);
  tapes.set(fs, { slots, tape });
  return tape;
}

/** An operation's text (`mul(3,5)`): the same for equal operations. */
function textOf(ins: Operation): string {
  switch (ins.op) {
    case "fn":
      return `${ins.name}(${ins.arg})`;
    case "square":
    case "recip":
      return `${ins.op}(${ins.arg})`;
    case "pow":
      return `pow(${ins.base},${ins.exp})`;
    case "add":
    case "mul":
      return `${ins.op}(${ins.args.join(",")})`;
  }
}

/**
 * The shared tape of `fs` (in their `forEvaluation` form) and the instruction of each formula.
 * Subformulas shared by object (composed derivatives share their arguments' formulas) are
 * walked once: the same object emits the same instructions, and so do equal subformulas (CAS
 * answers repeat `exp(-w*x-b)` as new objects). A tape evaluated once (`formulaValues`) skips the
 * latter: the texts that find them cost more than the instructions they save, and the values are
 * the same either way (an instruction computes the same from the same operands).
 */
function buildTape(fs: readonly Formula[], slots: readonly string[]): Tape {
  const index = new Map(slots.map((s, i) => [s, i]));
  const { tape, add } = tapeBuilder((name) => index.get(name), true);
  return { tape, outs: fs.map(add) };
}

/**
 * A tape (see `buildTape`), the slot of each leaf by `slotOf`, and a function that adds a
 * formula to it and gives its instruction.
 */
function tapeBuilder(
  slotOf: (name: string) => number | undefined,
  equal: boolean,
): { readonly tape: readonly Instr[]; readonly add: (f: Formula) => number } {
  const tape: Instr[] = [];
  // Common subexpressions: numbers by value (0 and -0 alike), e and pi by name, slots by index,
  // with `equal` every other instruction by its text (`mul(3,5)`).
  const numbers = new Map<number, number>();
  const constants = new Map<string, number>();
  const slotAt: number[] = [];
  const byKey = new Map<string, number>();
  // `table.get(key) ?? put(table, key, ins)`: the instruction is made only when it is new.
  const put = <K>(table: Map<K, number>, key: K, ins: Instr): number => {
    table.set(key, tape.length);
    tape.push(ins);
    return tape.length - 1;
  };
  const instruction = (ins: Operation): number => {
    if (!equal) return tape.push(ins) - 1;
    const key = textOf(ins);
    return byKey.get(key) ?? put(byKey, key, ins);
  };
  const done = new Map<Formula, number>();
  const go = (g: Formula): number => {
    if (g.kind === "num" || g.kind === "sym" || g.kind === "const") return emitOf(g);
    let at = done.get(g);
    if (at === undefined) done.set(g, (at = emitOf(g)));
    return at;
  };
  const emitOf = (g: Formula): number => {
    switch (g.kind) {
      case "num":
        return numbers.get(g.value) ?? put(numbers, g.value, { op: "const", value: g.value });
      case "const":
        return (
          constants.get(g.name) ??
          put(constants, g.name, { op: "const", value: g.name === "pi" ? Math.PI : Math.E })
        );
      case "sym": {
        const i = slotOf(g.name);
        if (i === undefined)
          throw new GradtrioError("CAS", `internal: formula leaf '${g.name}' has no value`);
        let at = slotAt[i];
        if (at === undefined) {
          slotAt[i] = at = tape.length;
          tape.push({ op: "slot", index: i });
        }
        return at;
      }
      case "fn":
        return instruction({ op: "fn", name: g.name, arg: go(g.arg) });
      case "pow": {
        const b = go(g.base);
        if (g.exp.kind === "num" && (g.exp.value === 2 || g.exp.value === -1))
          return instruction({ op: g.exp.value === 2 ? "square" : "recip", arg: b });
        if (g.exp.kind === "num" && g.exp.value === -2)
          return instruction({ op: "recip", arg: instruction({ op: "square", arg: b }) });
        return instruction({ op: "pow", base: b, exp: go(g.exp) });
      }
      case "add":
      case "mul":
        return instruction({ op: g.kind, args: g.args.map(go) });
      case "display":
        throw new GradtrioError("CAS", `internal: '${g.name}(…)' is for display only`);
    }
  };
  const forms = new Map<Formula, Formula>();
  return { tape, add: (f) => go(forEvaluation(f, forms)) };
}

const EPS = Number.EPSILON;
/** An underflow may lose up to the smallest subnormal, once per operation. */
const TINY = Number.MIN_VALUE;

/** Rounding of each function in units of eps·|out|: one for a library call, two for 1/f(u). */
const FN_ULPS: Record<FormulaFunction, number> = {
  sin: 1,
  cos: 1,
  tan: 1,
  sec: 2,
  csc: 2,
  cot: 2,
  sinh: 1,
  cosh: 1,
  tanh: 1,
  sech: 2,
  csch: 2,
  coth: 2,
  asin: 1,
  acos: 1,
  atan: 1,
  erf: 3,
  exp: 1,
  log: 1,
  sqrt: 1,
  abs: 0,
  sign: 0,
  log1p: 1,
  expm1: 1,
};

/** |f'(a)| of each function, from its argument and value: what an error in the argument becomes. */
const FN_SLOPE: Record<FormulaFunction, (a: number, out: number) => number> = {
  sin: (a) => Math.abs(Math.cos(a)),
  cos: (a) => Math.abs(Math.sin(a)),
  tan: (_a, o) => 1 + o * o,
  sec: (a, o) => Math.abs(o * Math.tan(a)),
  csc: (a, o) => Math.abs(o / Math.tan(a)),
  cot: (_a, o) => 1 + o * o,
  sinh: (a) => Math.cosh(a),
  cosh: (a) => Math.abs(Math.sinh(a)),
  tanh: (_a, o) => Math.abs(1 - o * o),
  sech: (a, o) => Math.abs(o * Math.tanh(a)),
  csch: (a, o) => Math.abs(o / Math.tanh(a)),
  coth: (_a, o) => Math.abs(1 - o * o),
  asin: (a) => 1 / Math.sqrt(Math.abs(1 - a * a)),
  acos: (a) => 1 / Math.sqrt(Math.abs(1 - a * a)),
  atan: (a) => 1 / (1 + a * a),
  erf: (a) => (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a),
  exp: (_a, o) => Math.abs(o),
  log: (a) => 1 / Math.abs(a),
  sqrt: (_a, o) => 0.5 / o,
  abs: () => 1,
  sign: () => 0,
  log1p: (a) => 1 / Math.abs(1 + a),
  expm1: (_a, o) => Math.abs(o + 1),
};

/**
 * Compiles `fs` into an evaluator of one element at a time that carries, beside each value, a
 * first-order bound on its absolute rounding error (a running error analysis): ± adds
 * eps·(|a|+|b|), × adds |b|·err_a + |a|·err_b + eps·|a·b|, a function f adds |f'(u)|·err_u +
 * eps·|f(u)| (two for 1/f(u)), every operation one smallest subnormal for underflow; a constant
 * that is not an integer is off by half an ulp. The values are bit for bit those of
 * `compileFormulas` (the same operations in the same order).
 * @example
 * const run = compileFormulasWithError([fadd(fsym("x"), fnum(-1))], ["x"]);
 * const v = new Float64Array(1), e = new Float64Array(1);
 * run([1.5], [0], v, e); // v[0] = 0.5, e[0] = eps·2.5 + 5e-324
 */
export function compileFormulasWithError(
  fs: readonly Formula[],
  slots: readonly string[],
): (
  slotValues: ArrayLike<number>,
  slotErrors: ArrayLike<number>,
  values: Float64Array,
  errors: Float64Array,
) => void {
  const { tape, outs } = tapeOf(fs, slots);
  const v = new Float64Array(tape.length);
  const e = new Float64Array(tape.length);
  return (slotValues, slotErrors, values, errors) => {
    for (let k = 0; k < tape.length; k++) {
      const ins = tape[k]!;
      switch (ins.op) {
        case "const":
          v[k] = ins.value;
          e[k] = Number.isInteger(ins.value) ? 0 : 0.5 * EPS * Math.abs(ins.value);
          break;
        case "slot":
          v[k] = slotValues[ins.index]!;
          e[k] = slotErrors[ins.index]!;
          break;
        case "add": {
          let acc = v[ins.args[0]!]!;
          let err = e[ins.args[0]!]!;
          for (let i = 1; i < ins.args.length; i++) {
            const b = v[ins.args[i]!]!;
            err += e[ins.args[i]!]! + EPS * (Math.abs(acc) + Math.abs(b)) + TINY;
            acc += b;
          }
          v[k] = acc;
          e[k] = err;
          break;
        }
        case "mul": {
          let acc = v[ins.args[0]!]!;
          let err = e[ins.args[0]!]!;
          for (let i = 1; i < ins.args.length; i++) {
            const b = v[ins.args[i]!]!;
            const eb = e[ins.args[i]!]!;
            const p = acc * b;
            err = (err > 0 ? Math.abs(b) * err : 0) + (eb > 0 ? Math.abs(acc) * eb : 0);
            err += EPS * Math.abs(p) + TINY;
            acc = p;
          }
          v[k] = acc;
          e[k] = err;
          break;
        }
        case "square": {
          const a = v[ins.arg]!;
          v[k] = a * a;
          e[k] = 2 * Math.abs(a) * e[ins.arg]! + EPS * v[k]! + TINY;
          break;
        }
        case "recip": {
          const o = 1 / v[ins.arg]!;
          const ea = e[ins.arg]!;
          v[k] = o;
          e[k] = (ea > 0 ? o * o * ea : 0) + EPS * Math.abs(o) + TINY;
          break;
        }
        case "pow": {
          const a = v[ins.base]!;
          const b = v[ins.exp]!;
          const ea = e[ins.base]!;
          const eb = e[ins.exp]!;
          const o = a ** b;
          v[k] = o;
          // Math.pow is not always correctly rounded: two ulps.
          e[k] =
            (ea > 0 ? Math.abs(b * a ** (b - 1)) * ea : 0) +
            (eb > 0 ? Math.abs(o * Math.log(Math.abs(a))) * eb : 0) +
            2 * EPS * Math.abs(o) +
            TINY;
          break;
        }
        case "fn": {
          const a = v[ins.arg]!;
          const ea = e[ins.arg]!;
          const o = FN[ins.name](a);
          v[k] = o;
          e[k] =
            (ea > 0 ? FN_SLOPE[ins.name](a, o) * ea : 0) +
            FN_ULPS[ins.name] * EPS * Math.abs(o) +
            TINY;
          break;
        }
      }
    }
    for (let i = 0; i < outs.length; i++) {
      values[i] = v[outs[i]!]!;
      errors[i] = e[outs[i]!]!;
    }
  };
}

/**
 * Compiles `fs` into a check of one element: per formula, whether its value descends from an
 * overflow, i.e. an operation that turned finite, non-zero operands into ±Infinity (exp(800),
 * a product of two huge numbers). A division by zero or log(0) is not an overflow (an operand is
 * 0): that infinity is the formula's own value, not a float64 limit. The values are those of
 * `compileFormulas` (the same operations in the same order).
 * @example
 * const check = compileOverflowCheck([fmul(ffn("exp", fsym("x")), fnum(0))], ["x"]);
 * check([800]) // [true]: exp(800) = Infinity, times 0 is NaN
 */
export function compileOverflowCheck(
  fs: readonly Formula[],
  slots: readonly string[],
): (slotValues: ArrayLike<number>) => boolean[] {
  const { tape, outs } = tapeOf(fs, slots);
  const v = new Float64Array(tape.length);
  const tainted = new Uint8Array(tape.length);
  const operands = (ins: Instr): readonly number[] => {
    switch (ins.op) {
      case "const":
      case "slot":
        return [];
      case "add":
      case "mul":
        return ins.args;
      case "pow":
        return [ins.base, ins.exp];
      default:
        return [ins.arg];
    }
  };
  const args = tape.map(operands);
  return (slotValues) => {
    const cols: Column[] = Array.from(slotValues);
    for (let k = 0; k < tape.length; k++) {
      const ins = tape[k]!;
      const o = step(ins, v as unknown as Column[], cols, null) as number;
      v[k] = o;
      let t = 0;
      let finite = true;
      let zero = false;
      for (const i of args[k]!) {
        if (tainted[i] === 1) t = 1;
        if (!Number.isFinite(v[i]!)) finite = false;
        else if (v[i] === 0) zero = true;
      }
      // A sum or product of finite terms is not finite only by overflow (1e300·1e300·0 is NaN);
      // any other op overflows when it makes ±Infinity of finite, non-zero operands.
      const sumOrProduct = ins.op === "add" || ins.op === "mul";
      if (
        finite &&
        args[k]!.length > 0 &&
        (sumOrProduct ? !Number.isFinite(o) : !zero && Math.abs(o) === Number.POSITIVE_INFINITY)
      )
        t = 1;
      tainted[k] = t;
    }
    return outs.map((o) => tainted[o] === 1);
  };
}

/** Per instruction, a reusable result buffer; `current` is the instruction being evaluated. */
interface Buffers {
  readonly of: (Float64Array | null)[];
  current: number;
}

/** The result array of length n for the current instruction: its reused buffer, or a new one. */
function target(n: number, buffers: Buffers | null): Float64Array {
  if (buffers === null) return new Float64Array(n);
  let b = buffers.of[buffers.current] ?? null;
  if (b === null || b.length !== n) buffers.of[buffers.current] = b = new Float64Array(n);
  return b;
}

function step(ins: Instr, vals: Column[], cols: Column[], buffers: Buffers | null): Column {
  switch (ins.op) {
    case "const":
      return ins.value;
    case "slot":
      return cols[ins.index]!;
    case "add": {
      let acc = vals[ins.args[0]!]!;
      for (let i = 1; i < ins.args.length; i++) acc = add(acc, vals[ins.args[i]!]!, buffers);
      return acc;
    }
    case "mul": {
      let acc = vals[ins.args[0]!]!;
      for (let i = 1; i < ins.args.length; i++) acc = mul(acc, vals[ins.args[i]!]!, buffers);
      return acc;
    }
    case "square":
      return square(vals[ins.arg]!, buffers);
    case "recip":
      return reciprocal(vals[ins.arg]!, buffers);
    case "pow":
      return power(vals[ins.base]!, vals[ins.exp]!, buffers);
    case "fn":
      return apply(ins.name, vals[ins.arg]!, buffers);
  }
}

const fround = (c: Column): Column =>
  typeof c === "number" ? Math.fround(c) : c.map((v) => Math.fround(v));

/**
 * `step` in float32 arithmetic: every constant and every result rounded to float32 (`Math.fround`
 * after each operation, a sum or product of several terms after each pair), as PyTorch computes a
 * formula on float32 tensors. The slots are taken as given (float32 values already).
 */
function step32(ins: Instr, vals: Column[], cols: Column[]): Column {
  switch (ins.op) {
    case "const":
      return Math.fround(ins.value);
    case "slot":
      return cols[ins.index]!;
    case "add":
    case "mul": {
      const op = ins.op === "add" ? add : mul;
      let acc = vals[ins.args[0]!]!;
      for (let i = 1; i < ins.args.length; i++) acc = fround(op(acc, vals[ins.args[i]!]!, null));
      return acc;
    }
    default:
      return fround(step(ins, vals, cols, null));
  }
}

// One loop per function, each calling its Math function directly (monomorphic, inlinable).
function apply(name: FormulaFunction, a: Column, buffers: Buffers | null): Column {
  if (typeof a === "number") return FN[name](a);
  const out = target(a.length, buffers);
  const n = a.length;
  switch (name) {
    case "exp":
      for (let i = 0; i < n; i++) out[i] = Math.exp(a[i]!);
      return out;
    case "log":
      for (let i = 0; i < n; i++) out[i] = Math.log(a[i]!);
      return out;
    case "sin":
      for (let i = 0; i < n; i++) out[i] = Math.sin(a[i]!);
      return out;
    case "cos":
      for (let i = 0; i < n; i++) out[i] = Math.cos(a[i]!);
      return out;
    case "sqrt":
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(a[i]!);
      return out;
    default: {
      const fn = FN[name];
      for (let i = 0; i < n; i++) out[i] = fn(a[i]!);
      return out;
    }
  }
}

function square(a: Column, buffers: Buffers | null): Column {
  if (typeof a === "number") return a * a;
  const out = target(a.length, buffers);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * a[i]!;
  return out;
}

function reciprocal(a: Column, buffers: Buffers | null): Column {
  if (typeof a === "number") return 1 / a;
  const out = target(a.length, buffers);
  for (let i = 0; i < a.length; i++) out[i] = 1 / a[i]!;
  return out;
}

// In place when `a` is the current instruction's buffer (a sum or product of several terms).
function add(a: Column, b: Column, buffers: Buffers | null): Column {
  if (typeof a === "number" && typeof b === "number") return a + b;
  if (typeof a === "number") return add(b, a, buffers);
  const out = target(a.length, buffers);
  if (typeof b === "number") for (let i = 0; i < a.length; i++) out[i] = a[i]! + b;
  else for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}

// In place when `a` is the current instruction's buffer (a sum or product of several terms).
function mul(a: Column, b: Column, buffers: Buffers | null): Column {
  if (typeof a === "number" && typeof b === "number") return a * b;
  if (typeof a === "number") return mul(b, a, buffers);
  const out = target(a.length, buffers);
  if (typeof b === "number") for (let i = 0; i < a.length; i++) out[i] = a[i]! * b;
  else for (let i = 0; i < a.length; i++) out[i] = a[i]! * b[i]!;
  return out;
}

function power(a: Column, b: Column, buffers: Buffers | null): Column {
  if (typeof a === "number" && typeof b === "number") return a ** b;
  const n = typeof a === "number" ? (b as Float64Array).length : a.length;
  const out = target(n, buffers);
  if (typeof b === "number") for (let i = 0; i < n; i++) out[i] = (a as Float64Array)[i]! ** b;
  else if (typeof a === "number") for (let i = 0; i < n; i++) out[i] = a ** b[i]!;
  else for (let i = 0; i < n; i++) out[i] = a[i]! ** b[i]!;
  return out;
}
