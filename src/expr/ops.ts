/**
 * The op catalogue: every built-in op of the expression language, its arity and kind, and the
 * registry of custom ops made with `defineOp`. Each leg implements every op here in its own
 * `Record<BuiltinOp, …>` table, so the compiler refuses a leg that forgets one.
 */
import { GradtrioError } from "../errors.ts";

export type OpKind = "elementwise" | "reduction" | "matmul";

/** An open interval; `-Infinity`/`Infinity` for unbounded ends. */
export type Interval = readonly [number, number];

export interface OpSpec {
  readonly arity: number;
  readonly kind: OpKind;
  /** Where each argument may lie for the op to be defined and smooth (open intervals). */
  readonly domain?: readonly Interval[];
  /** Piecewise ops (abs, relu, clamp) have kinks; their derivative jumps at breakpoints. */
  readonly piecewise?: boolean;
}

export const BUILTIN_OPS = {
  add: { arity: 2, kind: "elementwise" },
  sub: { arity: 2, kind: "elementwise" },
  mul: { arity: 2, kind: "elementwise" },
  div: { arity: 2, kind: "elementwise" },
  pow: { arity: 2, kind: "elementwise" },
  neg: { arity: 1, kind: "elementwise" },
  sin: { arity: 1, kind: "elementwise" },
  cos: { arity: 1, kind: "elementwise" },
  tan: { arity: 1, kind: "elementwise" },
  exp: { arity: 1, kind: "elementwise" },
  log: { arity: 1, kind: "elementwise", domain: [[0, Infinity]] },
  sqrt: { arity: 1, kind: "elementwise", domain: [[0, Infinity]] },
  tanh: { arity: 1, kind: "elementwise" },
  sigmoid: { arity: 1, kind: "elementwise" },
  relu: { arity: 1, kind: "elementwise", piecewise: true },
  abs: { arity: 1, kind: "elementwise", piecewise: true },
  log1p: { arity: 1, kind: "elementwise", domain: [[-1, Infinity]] },
  softplus: { arity: 1, kind: "elementwise" },
  clamp: { arity: 3, kind: "elementwise", piecewise: true },
  bce: {
    arity: 2,
    kind: "elementwise",
    domain: [
      [0, 1],
      [-Infinity, Infinity],
    ],
  },
  sum: { arity: 1, kind: "reduction" },
  mean: { arity: 1, kind: "reduction" },
  matmul: { arity: 2, kind: "matmul" },
} as const satisfies Record<string, OpSpec>;

export type BuiltinOp = keyof typeof BUILTIN_OPS;

/** Binary operators of the language and the op each stands for. */
export const INFIX_OPS = { "+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow" } as const;

/** The language's named constants (reserved: they cannot be variable names). */
export const CONSTANTS = { pi: Math.PI, e: Math.E } as const;
export type ConstantName = keyof typeof CONSTANTS;

export function isBuiltinOp(name: string): name is BuiltinOp {
  return Object.hasOwn(BUILTIN_OPS, name);
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
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const registry = new Map<string, CustomOpDefinition>();

/**
 * Validates and registers a custom op so that expressions can call it by name.
 * Registering the same definition object twice is a no-op; a different definition under a
 * name already taken is an error (as is a name of a built-in op or constant).
 */
export function registerCustomOp(def: CustomOpDefinition): CustomOpDefinition {
  const where = `defineOp(${JSON.stringify(String(def?.name))})`;
  if (typeof def !== "object" || def === null)
    throw new GradtrioError("DEFINE_OP", "defineOp: expected an object");
  if (typeof def.name !== "string" || !NAME.test(def.name))
    throw new GradtrioError("DEFINE_OP", `${where}: the name must match [A-Za-z_][A-Za-z0-9_]*`);
  if (isBuiltinOp(def.name) || isConstant(def.name))
    throw new GradtrioError("DEFINE_OP", `${where}: '${def.name}' is a built-in name`);
  if (!Number.isInteger(def.arity) || def.arity < 1 || def.arity > 8)
    throw new GradtrioError("DEFINE_OP", `${where}: arity must be an integer from 1 to 8`);
  if (typeof def.forward !== "function")
    throw new GradtrioError("DEFINE_OP", `${where}: forward must be a function`);
  if (typeof def.backward !== "function")
    throw new GradtrioError("DEFINE_OP", `${where}: backward must be a function`);
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
  registry.set(def.name, def);
  return def;
}

// A module evaluated twice (test isolation, a reloaded config) defines the same op again.
function sameDefinition(a: CustomOpDefinition, b: CustomOpDefinition): boolean {
  return (
    a.arity === b.arity &&
    String(a.forward) === String(b.forward) &&
    String(a.backward) === String(b.backward) &&
    String(a.formula) === String(b.formula)
  );
}

export function lookupCustomOp(name: string): CustomOpDefinition | undefined {
  return registry.get(name);
}

export function customOpNames(): string[] {
  return [...registry.keys()];
}

/** Arity of a built-in or registered custom op, or undefined for an unknown name. */
export function arityOf(name: string): number | undefined {
  if (isBuiltinOp(name)) return BUILTIN_OPS[name].arity;
  return registry.get(name)?.arity;
}
