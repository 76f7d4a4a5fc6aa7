/**
 * Syntactic generators for the expression language: random canonical ASTs (trees the parser can
 * produce) over any op set, and "token soup" strings built from realistic fragments. Shared by the
 * parser properties and the fuzz module.
 */
import fc from "fast-check";
import { call, constant, type Expr, num, variable } from "../src/expr/ast.ts";
import { BUILTIN_OPS, CONSTANTS, type ConstantName } from "../src/expr/ops.ts";

/** An op the generator may call: its name and how many arguments it takes. */
export interface OpSignature {
  readonly name: string;
  readonly arity: number;
}

export interface ExprArbitraryOptions {
  /** Variable names (none may be an op or constant name). Default `["x", "y", "z"]`. */
  readonly variables?: readonly string[];
  /** The ops to call. Default: every built-in op. */
  readonly ops?: readonly OpSignature[];
  /** Number literals. Default `canonicalNumber`. */
  readonly numbers?: fc.Arbitrary<number>;
  /** Whether `pi` and `e` appear. Default true. */
  readonly constants?: boolean;
  /** The deepest call nesting. Default 5. */
  readonly maxDepth?: number;
}

/** Every built-in op with its arity. */
export const builtinSignatures: readonly OpSignature[] = Object.entries(BUILTIN_OPS).map(
  ([name, spec]) => ({ name, arity: spec.arity }),
);

/**
 * Literals the parser can produce: finite, non-negative, never -0; biased towards small integers
 * and towards the edge cases of number printing (`1e-8`, `1e+21`, `5e-324`).
 *
 * @example
 * ```ts
 * fc.sample(canonicalNumber, 3); // e.g. [2, 1e-8, 0.1315…]
 * ```
 */
export const canonicalNumber: fc.Arbitrary<number> = fc
  .oneof(
    fc.integer({ min: 0, max: 10 }),
    fc.constantFrom(0.5, 1e-8, 1e-7, 1e21, 5e-324, Number.MAX_VALUE, 0.1 + 0.2),
    fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }),
  )
  .map((v) => v + 0); // -0 + 0 is +0: the parser never yields -0

/**
 * Random canonical ASTs (what `parse` can return) built with `fc.letrec`, respecting each op's
 * arity. Leaves are numbers, variables and constants; shrinking goes towards leaves.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(exprArbitrary({ variables: ["w", "x"] }), (e) => exprEquals(parse(print(e)), e)));
 * ```
 */
export function exprArbitrary(options: ExprArbitraryOptions = {}): fc.Arbitrary<Expr> {
  const variables = options.variables ?? ["x", "y", "z"];
  const ops = options.ops ?? builtinSignatures;
  const numbers = options.numbers ?? canonicalNumber;
  const maxDepth = options.maxDepth ?? 5;
  const leaves: fc.Arbitrary<Expr>[] = [numbers.map((v) => num(v))];
  if (variables.length > 0) leaves.push(fc.constantFrom(...variables).map((n) => variable(n)));
  if (options.constants ?? true)
    leaves.push(
      fc.constantFrom(...(Object.keys(CONSTANTS) as ConstantName[])).map((n) => constant(n)),
    );
  const leaf = fc.oneof(...leaves);
  if (ops.length === 0) return leaf;
  const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
    expr: fc.oneof(
      { maxDepth, depthSize: "small", withCrossShrink: true },
      // Leaves weigh as much as all calls together, so trees stay small on average.
      { arbitrary: leaf, weight: ops.length },
      ...ops.map((op) => ({
        arbitrary: fc
          .tuple(...Array.from({ length: op.arity }, () => tie("expr")))
          .map((args) => call(op.name, args) as Expr),
        weight: 1,
      })),
    ),
  }));
  return expr;
}

const FRAGMENTS = [
  "x",
  "y",
  "w",
  "b",
  "pi",
  "e",
  "e1",
  "_",
  "x_1",
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "sin",
  "sin(",
  "sigmoid(",
  "sigmod(",
  "clamp(",
  "bce(",
  "pow(",
  "matmul(",
  "mean(",
  "sum(",
  "add(",
  "0",
  "3",
  "0.5",
  ".5",
  "1.",
  "1e-8",
  "2E+3",
  "1e",
  "1e+",
  "5e-324",
  "1e999",
  "00",
  ".",
  "+",
  "-",
  "*",
  "/",
  "^",
  "**",
  "(",
  ")",
  "((",
  "))",
  ",",
  " ",
  "\t",
  "\n",
  "$",
  "@",
  "#",
  "é",
  "\u200b",
  "😀",
  "[",
  "]",
  "=",
];

/**
 * Strings glued from realistic fragments of the language (names, calls, numbers, operators,
 * parentheses) and a few foreign characters: most are near misses, some parse.
 *
 * @example
 * ```ts
 * fc.sample(tokenSoup(), 2); // e.g. ["sin(x^-1e-8)", "clamp(( constructor,"]
 * ```
 */
export function tokenSoup(maxLength = 30): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...FRAGMENTS), { maxLength }).map((parts) => parts.join(""));
}
