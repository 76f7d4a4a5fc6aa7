/**
 * src/expr — the expression language: one function, written once, that every leg interprets.
 *
 * Text goes `tokenize` → `parse` → `Expr` (an AST whose operators are calls: `a+b` is `add`,
 * `-a` is `neg`, `a^b` is `pow`), and `print` turns an `Expr` back into text that parses to the
 * same tree. `inferShapes` gives every node its shape from the point (NumPy broadcasting,
 * reductions, `matmul`); `checkScalarOutput` insists on a scalar. `interpret` walks an `Expr`
 * with a leg's `Algebra` (tracing a function over Tensors into an `Expr` is autograd's `trace`).
 * Everything here is iterative or depth-bounded: no input overflows the stack.
 *
 * The ground floor: it imports nothing of the legs (src/autograd, src/symbolic, src/numeric) or of
 * src/check; they all import it.
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
