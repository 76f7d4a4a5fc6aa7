/**
 * src/symbolic — the CAS leg.
 *
 * Differentiates an `Expr` with nerdamer (nerdamer-prime): the expression is written as CAS text
 * from gradtrio's own validated AST over safe names, the CAS answer is read back into gradtrio's
 * own formula AST over an allowlist, and that AST is compiled to a column-wise evaluator (never
 * `eval`/`new Function`). Vectors go by structure: each elementwise block is differentiated once
 * as a template, reductions and matmul by their linear rules. Piecewise ops take their active
 * branch at the point; a breakpoint is a kink. When the CAS gives up or answers outside the
 * allowlist the leg says "unavailable" with the reason. Known wrong answers of the CAS are listed
 * in `CAS_DEFECTS`. This folder must not import src/autograd or src/numeric.
 */
export { type CasAnswer, casCacheSize, casDiff, casStats, clearCasCache } from "./cas.ts";
export { composingDerivatives, withComposedDerivatives } from "./compose.ts";
export { CAS_DEFECTS, type CasDefect } from "./defects.ts";
export {
  type Column,
  compileFormula,
  compileFormulas,
  compileFormulasWithError,
  evaluateAt,
} from "./evaluate.ts";
export { FORMULA_FUNCTIONS, type Formula, type FormulaFunction, simplify } from "./formula.ts";
export { type SymbolicLegResult, symbolicLeg, symbolicRounding } from "./leg.ts";
export { type LocalDerivative, type LocalDerivativeResult, localDerivative } from "./local.ts";
export type { Kink } from "./outcome.ts";
export { type SymbolNames, toLatex, toPlain } from "./print.ts";
export { readCas } from "./read-cas.ts";
