/**
 * The op catalogue: every built-in op of the expression language declared once, with every fact
 * about it that is not a derivative — arity, kind, domain, breakpoints, the one real forward
 * kernel, the CAS text, the display and LaTeX names — and the registry of custom ops made with
 * `defineOp`. The legs keep only what must stay independent of each other (autograd's backward
 * rule, the complex kernel, the rounding rule), each in a `Record<BuiltinOp, …>` table, so the
 * compiler refuses a leg that forgets an op. docs/CONTRIBUTING.md "Adding an op" lists the files.
 */
import { checkOptionNames, GradtrioError, isIntegerIn, userThrew } from "../errors.ts";
import { erf } from "./erf.ts";

/**
 * `elementwise`: a function of numbers, broadcast (NumPy); `reduction`: all elements to one
 * number; `lastDim`: a vector function over the last dimension (same shape out); `matmul`.
 */
export type OpKind = "elementwise" | "reduction" | "lastDim" | "matmul";

/** An open interval; `-Infinity`/`Infinity` for unbounded ends. */
export type Interval = readonly [number, number];

/** A piecewise op's branches: which one is active at the arguments, and its CAS text. */
export interface Branches {
  /** Index of the active branch at the arguments, or −1 on a breakpoint (a kink). */
  readonly at: (a: number, b: number, c: number) => number;
  /** CAS text of each branch in terms of its arguments' texts. */
  readonly cas: readonly ((u: string, v: string, w: string) => string)[];
}

export interface OpSpec {
  readonly arity: number;
  readonly kind: OpKind;
  /** Where each argument may lie for the op to be defined and smooth (open intervals). */
  readonly domain?: readonly Interval[];
  /** Piecewise ops (abs, relu, clamp, maximum, minimum) have kinks at their breakpoints. */
  readonly branches?: Branches;
  /** Elementwise ops: the value at numbers; the NaN of an out-of-domain point propagates. */
  readonly real?: (a: number, b: number, c: number) => number;
  /** Reductions: the value of all elements; lastDim ops: `out` from one row `x`. */
  readonly reduce?: (x: ArrayLike<number>) => number;
  readonly row?: (x: ArrayLike<number>, out: Float64Array) => void;
  /**
   * CAS text of a smooth elementwise op, from its arguments' texts (`ce` stands for e: nerdamer
   * approximates its own `e` by a fraction; `num` writes an irrational constant as a symbol). null: the CAS writer spells it (pow and sqrt, whose
   * text depends on the base; piecewise ops, through `branches`; ops outside elementwise blocks).
   */
  readonly cas: ((u: string, v: string, num: (value: number) => string) => string) | null;
  /** LaTeX of the function name (`\sin`); infix operators have none. */
  readonly latex?: string;
}

/** σ(x), stable both ways: never exp of a large positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + e^x) = max(x, 0) + log1p(e^−|x|): no overflow for large |x|. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** PyTorch's gelu (approximate='none'): x·Φ(x) = x/2·(1 + erf(x/√2)). */
export function gelu(x: number): number {
  return x * 0.5 * (1 + erf(x * Math.SQRT1_2));
}

/** NaN when either is NaN, as torch.maximum / torch.minimum. */
const maximum = (a: number, b: number): number =>
  a > b ? a : b > a ? b : a === b ? a : Number.NaN;
const minimum = (a: number, b: number): number =>
  a < b ? a : b < a ? b : a === b ? a : Number.NaN;

function maxOf(x: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v <= m)) m = v; // NaN wins, as in torch.max
  }
  return m;
}
function minOf(x: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v >= m)) m = v;
  }
  return m;
}

/** log Σ e^x, shifted by the maximum (no overflow); −∞ for an empty or all −∞ input. */
export function logsumexp(x: ArrayLike<number>): number {
  const m = maxOf(x);
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i]! - m);
  return m + Math.log(s);
}

/** softmax of one row: e^(x − max) / Σ e^(x − max). */
export function softmaxRow(x: ArrayLike<number>, out: Float64Array): void {
  const m = maxOf(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const e = Math.exp(x[i]! - m);
    out[i] = e;
    s += e;
  }
  for (let i = 0; i < x.length; i++) out[i] /= s;
}

/** Two branches split at 0: u > 0 is branch 0, u < 0 branch 1. */
const atZero = (u: number): number => (u > 0 ? 0 : u < 0 ? 1 : -1);

const REAL_LINE: Interval = [-Infinity, Infinity];

export const BUILTIN_OPS = {
  add: { arity: 2, kind: "elementwise", real: (a, b) => a + b, cas: (u, v) => `(${u}+${v})` },
  sub: { arity: 2, kind: "elementwise", real: (a, b) => a - b, cas: (u, v) => `(${u}-${v})` },
  mul: { arity: 2, kind: "elementwise", real: (a, b) => a * b, cas: (u, v) => `(${u}*${v})` },
  div: { arity: 2, kind: "elementwise", real: (a, b) => a / b, cas: (u, v) => `(${u}/${v})` },
  pow: { arity: 2, kind: "elementwise", real: (a, b) => a ** b, cas: null },
  // -u as cm*u, cm the CAS writer's symbol for -1: nerdamer moves a bare minus into and out of
  // powers (src/symbolic/defects.ts: cube-root-of-negated, negated-power-of-e).
  neg: { arity: 1, kind: "elementwise", real: (a) => -a, cas: (u) => `(cm*${u})` },
  sin: { arity: 1, kind: "elementwise", real: Math.sin, cas: (u) => `sin(${u})`, latex: "\\sin" },
  cos: { arity: 1, kind: "elementwise", real: Math.cos, cas: (u) => `cos(${u})`, latex: "\\cos" },
  tan: { arity: 1, kind: "elementwise", real: Math.tan, cas: (u) => `tan(${u})`, latex: "\\tan" },
  exp: { arity: 1, kind: "elementwise", real: Math.exp, cas: (u) => `(ce^${u})`, latex: "\\exp" },
  log: {
    arity: 1,
    kind: "elementwise",
    domain: [[0, Infinity]],
    real: Math.log,
    cas: (u) => `log(${u})`,
    latex: "\\log",
  },
  sqrt: { arity: 1, kind: "elementwise", domain: [[0, Infinity]], real: Math.sqrt, cas: null },
  tanh: {
    arity: 1,
    kind: "elementwise",
    real: Math.tanh,
    cas: (u) => `tanh(${u})`,
    latex: "\\tanh",
  },
  // 1/(1+e^-u)
  sigmoid: {
    arity: 1,
    kind: "elementwise",
    real: sigmoid,
    cas: (u) => `(1/(1+ce^(-${u})))`,
    latex: "\\sigma",
  },
  // relu(NaN) is NaN, as in torch.
  relu: {
    arity: 1,
    kind: "elementwise",
    real: (a) => (a > 0 ? a : a <= 0 ? 0 : Number.NaN),
    branches: { at: atZero, cas: [(u) => u, () => "0"] },
    cas: null,
    latex: "\\operatorname{relu}",
  },
  abs: {
    arity: 1,
    kind: "elementwise",
    real: Math.abs,
    branches: { at: atZero, cas: [(u) => u, (u) => `(cm*${u})`] },
    cas: null,
  },
  log1p: {
    arity: 1,
    kind: "elementwise",
    domain: [[-1, Infinity]],
    real: Math.log1p,
    cas: (u) => `log(1+${u})`,
    latex: "\\operatorname{log1p}",
  },
  // log(1+e^u)
  softplus: {
    arity: 1,
    kind: "elementwise",
    real: softplus,
    cas: (u) => `log(1+ce^${u})`,
    latex: "\\operatorname{softplus}",
  },
  // clamp(x, lo, hi) = min(max(x, lo), hi), as torch.clamp: hi wins when lo > hi.
  clamp: {
    arity: 3,
    kind: "elementwise",
    real: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
    branches: {
      at: (x, lo, hi) => (x === lo || x === hi ? -1 : Math.max(x, lo) > hi ? 2 : x < lo ? 1 : 0),
      cas: [(u) => u, (_u, v) => v, (_u, _v, w) => w],
    },
    cas: null,
    latex: "\\operatorname{clamp}",
  },
  // bce(p,t) = -(t*log(p) + (1-t)*log(1-p)); log1p(-p) is exact-er than log(1-p) for small p.
  bce: {
    arity: 2,
    kind: "elementwise",
    domain: [[0, 1], REAL_LINE],
    real: (p, t) => -(t * Math.log(p) + (1 - t) * Math.log1p(-p)),
    cas: (u, v) => `(-(${v}*log(${u})+(1-${v})*log(1-${u})))`,
    latex: "\\operatorname{bce}",
  },
  erf: {
    arity: 1,
    kind: "elementwise",
    real: erf,
    cas: (u) => `erf(${u})`,
    latex: "\\operatorname{erf}",
  },
  // x·Φ(x) = x/2·(1 + erf(x/√2)); 1/√2 goes as a symbol (nerdamer squares a root numerically).
  gelu: {
    arity: 1,
    kind: "elementwise",
    real: gelu,
    cas: (u, _v, num) => `((${u})*(1+erf((${u})*${num(Math.SQRT1_2)}))/2)`,
    latex: "\\operatorname{gelu}",
  },
  asin: {
    arity: 1,
    kind: "elementwise",
    domain: [[-1, 1]],
    real: Math.asin,
    cas: (u) => `asin(${u})`,
    latex: "\\arcsin",
  },
  acos: {
    arity: 1,
    kind: "elementwise",
    domain: [[-1, 1]],
    real: Math.acos,
    cas: (u) => `acos(${u})`,
    latex: "\\arccos",
  },
  atan: {
    arity: 1,
    kind: "elementwise",
    real: Math.atan,
    cas: (u) => `atan(${u})`,
    latex: "\\arctan",
  },
  sinh: {
    arity: 1,
    kind: "elementwise",
    real: Math.sinh,
    cas: (u) => `sinh(${u})`,
    latex: "\\sinh",
  },
  cosh: {
    arity: 1,
    kind: "elementwise",
    real: Math.cosh,
    cas: (u) => `cosh(${u})`,
    latex: "\\cosh",
  },
  expm1: {
    arity: 1,
    kind: "elementwise",
    real: Math.expm1,
    cas: (u) => `((ce^${u})-1)`,
    latex: "\\operatorname{expm1}",
  },
  // torch.maximum / torch.minimum: a tie is a breakpoint (PyTorch splits the gradient there).
  maximum: {
    arity: 2,
    kind: "elementwise",
    real: maximum,
    branches: { at: (a, b) => (a > b ? 0 : b > a ? 1 : -1), cas: [(u) => u, (_u, v) => v] },
    cas: null,
    latex: "\\max",
  },
  minimum: {
    arity: 2,
    kind: "elementwise",
    real: minimum,
    branches: { at: (a, b) => (a < b ? 0 : b < a ? 1 : -1), cas: [(u) => u, (_u, v) => v] },
    cas: null,
    latex: "\\min",
  },
  sum: {
    arity: 1,
    kind: "reduction",
    reduce: (x) => {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[i]!;
      return s;
    },
    cas: null,
    latex: "\\sum",
  },
  mean: {
    arity: 1,
    kind: "reduction",
    reduce: (x) => {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[i]!;
      return s / x.length;
    },
    cas: null,
    latex: "\\operatorname{mean}",
  },
  // torch.max(a) / torch.min(a) over all elements: a tie for the extreme is a kink.
  max: { arity: 1, kind: "reduction", reduce: maxOf, cas: null, latex: "\\max" },
  min: { arity: 1, kind: "reduction", reduce: minOf, cas: null, latex: "\\min" },
  logsumexp: {
    arity: 1,
    kind: "reduction",
    reduce: logsumexp,
    cas: null,
    latex: "\\operatorname{logsumexp}",
  },
  // torch.softmax(a, dim=-1)
  softmax: {
    arity: 1,
    kind: "lastDim",
    row: softmaxRow,
    cas: null,
    latex: "\\operatorname{softmax}",
  },
  matmul: { arity: 2, kind: "matmul", cas: null },
} as const satisfies Record<string, OpSpec>;

export type BuiltinOp = keyof typeof BUILTIN_OPS;
type Spec<O extends BuiltinOp> = (typeof BUILTIN_OPS)[O];
type OpsOfKind<K extends OpKind> = {
  [O in BuiltinOp]: Spec<O>["kind"] extends K ? O : never;
}[BuiltinOp];
/** The ops evaluated element by element (broadcasting their arguments). */
export type ElementwiseOp = OpsOfKind<"elementwise">;
/** The ops that reduce every element to one number. */
export type ReductionOp = OpsOfKind<"reduction">;
/** The ops over the last dimension (softmax). */
export type LastDimOp = OpsOfKind<"lastDim">;
/** The ops with branches (their derivative jumps at breakpoints). */
export type PiecewiseOp = {
  [O in BuiltinOp]: Spec<O> extends { branches: Branches } ? O : never;
}[BuiltinOp];

/** The real kernel of an elementwise built-in: one function for every leg. */
export function realKernel(op: ElementwiseOp): (a: number, b: number, c: number) => number {
  return BUILTIN_OPS[op].real;
}

/** The kernel of a reduction built-in (all elements to one number). */
export function reduceKernel(op: ReductionOp): (x: ArrayLike<number>) => number {
  return BUILTIN_OPS[op].reduce;
}

/** The kernel of a last-dimension built-in (one row to one row). */
export function rowKernel(op: LastDimOp): (x: ArrayLike<number>, out: Float64Array) => void {
  return BUILTIN_OPS[op].row;
}

/** The branches of a piecewise built-in, or undefined for a smooth op or a custom op. */
export function branchesOf(op: string): Branches | undefined {
  return isBuiltinOp(op) ? (BUILTIN_OPS[op] as OpSpec).branches : undefined;
}

/** Binary operators of the language and the op each stands for. */
export const INFIX_OPS = { "+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow" } as const;

/** The language's named constants (reserved: they cannot be variable names). */
export const CONSTANTS = { pi: Math.PI, e: Math.E } as const;
export type ConstantName = keyof typeof CONSTANTS;

/** The built-ins' names (a Set: looked up for every call node by every leg). */
const BUILTIN_NAMES: ReadonlySet<string> = new Set(Object.keys(BUILTIN_OPS));

export function isBuiltinOp(name: string): name is BuiltinOp {
  return BUILTIN_NAMES.has(name);
}

export function isConstant(name: string): name is ConstantName {
  return Object.hasOwn(CONSTANTS, name);
}

/** A vector–Jacobian product context for one element of a custom elementwise op. */
export interface CustomBackwardContext {
  readonly args: readonly number[];
  readonly out: number;
  readonly grad: number;
}

/**
 * A user-defined elementwise op: plain-number forward and hand-written backward rule.
 * `formula` gives the CAS formula (enables the symbolic leg); `domain` one interval per argument.
 */
export interface CustomOpDefinition {
  readonly name: string;
  readonly arity: number;
  readonly forward: (...args: number[]) => number;
  readonly backward: (ctx: CustomBackwardContext) => number[];
  readonly formula?: (...args: string[]) => string;
  readonly domain?: readonly Interval[];
  readonly shape?: undefined;
}

/** What a tensor op's forward receives: the arguments' data (row-major) and shapes. */
export interface TensorForwardContext {
  readonly args: readonly Float64Array[];
  readonly shapes: readonly (readonly number[])[];
  /** The output shape, as the shape rule gave it. */
  readonly outShape: readonly number[];
}

/** What a tensor op's backward receives: the forward's context, its output and the incoming gradient. */
export interface TensorBackwardContext extends TensorForwardContext {
  readonly out: Float64Array;
  /** ∂loss/∂out, shaped as the output. */
  readonly grad: Float64Array;
}

/**
 * A user-defined op on tensors (`shape` present), as a torch.autograd.Function: `shape` maps the
 * arguments' shapes to the output's (throw, or return a message, when they do not fit), `forward`
 * returns the output's data, `backward` the vector–Jacobian product, one array per argument shaped
 * as that argument. `formula`: the op in the expression language (enables the symbolic leg);
 * `domain`: one interval per argument, for every element of it.
 */
export interface TensorOpDefinition {
  readonly name: string;
  readonly arity: number;
  readonly shape: (...shapes: (readonly number[])[]) => readonly number[] | string;
  readonly forward: (ctx: TensorForwardContext) => ArrayLike<number>;
  readonly backward: (ctx: TensorBackwardContext) => readonly ArrayLike<number>[];
  readonly formula?: (...args: string[]) => string;
  readonly domain?: readonly Interval[];
}

/** A custom op: elementwise on numbers, or on tensors with a shape rule (`shape`). */
export type OpDefinition = CustomOpDefinition | TensorOpDefinition;

/**
 * Finite and inside argument `i`'s declared interval (closed; the whole line when the op declares
 * none): where a custom op's forward must give a number (check's and the engine's NaN checks).
 */
export function insideDeclared(def: OpDefinition, i: number, v: number): boolean {
  const [lo, hi] = def.domain?.[i] ?? [-Infinity, Infinity];
  return Number.isFinite(v) && v >= lo && v <= hi;
}

/** Whether `def` is an op on tensors (it has a shape rule). */
export function isTensorOp(def: OpDefinition): def is TensorOpDefinition {
  return def.shape !== undefined;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const registry = new Map<string, OpDefinition>();

/** Every field of a custom op's definition, scalar or tensor (the types keep the list complete). */
const DEFINITION_FIELDS = Object.keys({
  name: true,
  arity: true,
  forward: true,
  backward: true,
  formula: true,
  domain: true,
  shape: true,
} satisfies Record<keyof CustomOpDefinition | keyof TensorOpDefinition, true>);

/**
 * Validates and registers a custom op so that expressions can call it by name.
 * Registering the same definition object twice is a no-op; a different definition under a
 * name already taken is an error (as is a name of a built-in op or constant). `formulaDefect`
 * (src/expr/op-formula.ts's `laterOpsAllowed`, which needs the parser: this module cannot import
 * it) refuses a formula that cannot be read; tests that register an op it would refuse use
 * test/register-op.ts.
 */
export function registerCustomOp<D extends OpDefinition>(
  def: D,
  formulaDefect: (def: OpDefinition) => string | null,
): D {
  const where = `defineOp(${JSON.stringify(String(def?.name))})`;
  if (typeof def !== "object" || def === null)
    throw new GradtrioError("DEFINE_OP", "defineOp: expected an object");
  checkOptionNames(def, DEFINITION_FIELDS, where, { what: "field", code: "DEFINE_OP" });
  if (typeof def.name !== "string" || !NAME.test(def.name))
    throw new GradtrioError("DEFINE_OP", `${where}: the name must match [A-Za-z_][A-Za-z0-9_]*`);
  if (isBuiltinOp(def.name) || isConstant(def.name))
    throw new GradtrioError("DEFINE_OP", `${where}: '${def.name}' is a built-in name`);
  if (!isIntegerIn(def.arity, 1, 8))
    throw new GradtrioError("DEFINE_OP", `${where}: arity must be an integer from 1 to 8`);
  if (typeof def.forward !== "function")
    throw new GradtrioError("DEFINE_OP", `${where}: forward must be a function`);
  if (typeof def.backward !== "function")
    throw new GradtrioError("DEFINE_OP", `${where}: backward must be a function`);
  if (def.shape !== undefined && typeof def.shape !== "function")
    throw new GradtrioError(
      "DEFINE_OP",
      `${where}: shape (the shape rule of a tensor op) must be a function`,
    );
  if (def.formula !== undefined && typeof def.formula !== "function")
    throw new GradtrioError("DEFINE_OP", `${where}: formula must be a function`);
  if (def.domain !== undefined) {
    const ok =
      Array.isArray(def.domain) &&
      def.domain.length === def.arity &&
      def.domain.every(
        (iv) =>
          Array.isArray(iv) &&
          iv.length === 2 &&
          typeof iv[0] === "number" &&
          typeof iv[1] === "number" &&
          !Number.isNaN(iv[0]) &&
          !Number.isNaN(iv[1]) &&
          iv[0] < iv[1],
      );
    if (!ok)
      throw new GradtrioError(
        "DEFINE_OP",
        `${where}: domain must hold one [lo, hi] interval (lo < hi) per argument`,
      );
  }
  const existing = registry.get(def.name);
  if (existing !== undefined && existing !== def && !sameDefinition(existing, def))
    throw new GradtrioError("DEFINE_OP", `${where}: an op named '${def.name}' is already defined`);
  const defect = formulaDefect(def);
  if (defect !== null) throw new GradtrioError("DEFINE_OP", `${where}: ${defect}`);
  const cycle = formulaCycle(def);
  if (cycle !== null)
    throw new GradtrioError(
      "DEFINE_OP",
      cycle.length === 2
        ? `${where}: its formula calls '${def.name}' itself`
        : `${where}: its formula calls '${def.name}' itself, through ${cycle
            .slice(1, -1)
            .map((n) => `'${n}'`)
            .join(", ")} (${cycle.join(" → ")})`,
    );
  registry.set(def.name, def);
  return def;
}

/** A call in the expression language: a name followed by `(` (not a digit's exponent: `1e5`). */
const CALL = /(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)\s*\(/g;

/** The names a custom op's formula is read with (not an identifier a user would write). */
export const formulaPlaceholders = (arity: number): string[] =>
  Array.from({ length: arity }, (_, i) => `__gradtrio_arg${i}`);

/**
 * The text of a custom op's formula: what it returns at the placeholder arguments
 * (`formulaPlaceholders`), as a string; undefined when the op has none. The one place a formula
 * is called: what it throws propagates, and each reader says why in its own words.
 *
 * @example
 * formulaText({ name: "sq", arity: 1, formula: (a) => `${a}^2`, … }); // "__gradtrio_arg0^2"
 */
export function formulaText(def: OpDefinition): string | undefined {
  return def.formula === undefined
    ? undefined
    : String(def.formula(...formulaPlaceholders(def.arity)));
}

/** The names a custom op's formula calls, from its text ([] if it throws). */
function formulaCalls(def: OpDefinition): string[] {
  let text: string | undefined;
  try {
    text = formulaText(def);
  } catch {
    return []; // the legs that read the formula say why
  }
  return text === undefined ? [] : [...text.matchAll(CALL)].map((m) => m[1]!);
}

/**
 * The chain of names by which `def`'s formula reaches `def` again through registered custom ops'
 * formulas (`["a", "b", "a"]`; `["a", "a"]` for a formula calling its own op), or null. The
 * registry holds no cycle (each registration checks), so any new one passes through `def`.
 */
function formulaCycle(def: OpDefinition): string[] | null {
  const seen = new Set<string>();
  const walk = (d: OpDefinition, path: string[]): string[] | null => {
    for (const name of formulaCalls(d)) {
      if (name === def.name) return [...path, name];
      if (seen.has(name) || isBuiltinOp(name)) continue;
      seen.add(name);
      const next = registry.get(name);
      const found = next === undefined ? null : walk(next, [...path, name]);
      if (found !== null) return found;
    }
    return null;
  };
  return walk(def, [def.name]);
}

// A module evaluated twice (test isolation, a reloaded config) defines the same op again.
function sameDefinition(a: OpDefinition, b: OpDefinition): boolean {
  return (
    a.arity === b.arity &&
    String(a.shape) === String(b.shape) &&
    String(a.forward) === String(b.forward) &&
    String(a.backward) === String(b.backward) &&
    String(a.formula) === String(b.formula)
  );
}

export function lookupCustomOp(name: string): OpDefinition | undefined {
  return registry.get(name);
}

/**
 * Whether each name still resolves to the definition remembered with it (undefined: no custom op
 * of that name, e.g. a built-in): what a cache made with those definitions checks before reuse.
 */
export function stillRegistered(
  defs: readonly (readonly [string, OpDefinition | undefined])[],
): boolean {
  return defs.every(([name, def]) => registry.get(name) === def);
}

export function customOpNames(): string[] {
  return [...registry.keys()];
}

/** Arity of a built-in or registered custom op, or undefined for an unknown name. */
export function arityOf(name: string): number | undefined {
  if (isBuiltinOp(name)) return BUILTIN_OPS[name].arity;
  return registry.get(name)?.arity;
}

/**
 * A custom op's forward with its failures named: a throw or a value that is not a number is a
 * GradtrioError naming the op (every leg's evaluator reports it so), never a raw error or a
 * silent NaN.
 */
export function checkedForward(def: CustomOpDefinition): (...args: number[]) => number {
  const forward = def.forward;
  return (...args) => {
    let r: unknown;
    try {
      r = forward(...args);
    } catch (err) {
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `custom op '${def.name}': forward threw at (${args.join(", ")}): ${userThrew(`${def.name}'s forward`, err)}`,
        { op: def.name, phase: "forward" },
      );
    }
    if (typeof r !== "number")
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `custom op '${def.name}': forward returned ${typeof r}, expected a number`,
        { op: def.name, phase: "forward" },
      );
    return r;
  };
}

/**
 * `forward(...args)` for arguments in a Float64Array, without spreading it: a typed array spreads
 * through its iterator (an object per element), and the finite-difference legs call a custom op's
 * forward thousands of times per case. `self` is the call's `this`.
 */
export function applyForward(
  forward: (...args: number[]) => number,
  args: Float64Array,
  self?: unknown,
): number {
  switch (args.length) {
    case 1:
      return forward.call(self, args[0]!);
    case 2:
      return forward.call(self, args[0]!, args[1]!);
    case 3:
      return forward.call(self, args[0]!, args[1]!, args[2]!);
    case 4:
      return forward.call(self, args[0]!, args[1]!, args[2]!, args[3]!);
    default:
      return forward.apply(self, Array.from(args));
  }
}
