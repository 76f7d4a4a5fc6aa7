/**
 * src/expr — the expression language: one function, written once, that every leg interprets.
 *
 * Text goes `tokenize` → `parse` → `Expr` (an AST whose operators are calls: `a+b` is `add`,
 * `-a` is `neg`, `a^b` is `pow`), and `print` turns an `Expr` back into text that parses to the
 * same tree. `inferShapes` gives every node its shape from the point (NumPy broadcasting,
 * reductions, `matmul`); `checkScalarOutput` insists on a scalar. `interpret` walks an `Expr`
 * with a leg's `Algebra`; `trace` turns a TypeScript function over Tensors into an `Expr`.
 * Everything here is iterative or depth-bounded: no input overflows the stack.
 *
 * Must not import the legs (src/symbolic, src/numeric) or src/check; `trace` alone uses the
 * autograd Tensor. Modules that src/autograd needs (ops, ast, point) are imported by their own
 * paths, never through this index, so that the autograd ↔ trace import stays acyclic.
 */
export * from "./ast.ts";
export * from "./interpret.ts";
export * from "./ops.ts";
export * from "./parse.ts";
export * from "./point.ts";
export * from "./print.ts";
export * from "./shapes.ts";
export * from "./suggest.ts";
export * from "./tokenize.ts";
export * from "./trace.ts";
