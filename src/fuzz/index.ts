/**
 * gradtrio/fuzz — hunting bugs in hand-written backward rules, and the CI gate.
 *
 * - `fuzz({ ops, runs, seed })`: random expressions around each custom op, each checked three
 *   ways; a disagreement comes back shrunk, with a replay command.
 * - The fast-check arbitraries behind it, for your own properties: `exprArbitrary`,
 *   `opExprArbitrary`, `fuzzCaseArbitrary`, `unitPointArbitrary`, `pointArbitrary`.
 * - `loadOps(file, cwd)`, `sanityCheck(def)`, and the gate: `defineConfig`, `runGate`.
 *
 * Imports src/check (the verdict) and src/expr; of the legs' internals, only the numeric
 * evaluator (sanity.ts evaluates an op's `formula` with it, to compare it with the forward).
 */
export {
  DEFAULT_MAX_DEPTH,
  DEFAULT_VARIABLES,
  type ExprArbitraryOptions,
  exprArbitrary,
  type FuzzCase,
  fuzzCaseArbitrary,
  opExprArbitrary,
  type PointDomain,
  pointArbitrary,
  unitPointArbitrary,
} from "./arbitraries.ts";
export {
  type CheckEntry,
  type DomainCheck,
  defineConfig,
  type EntryOptions,
  type FuzzEntry,
  type GradtrioConfig,
  type PointCheck,
  validateConfig,
} from "./config.ts";
export { fitInto, leafInto, workingInterval } from "./domain.ts";
export { formatCounterexample, formatPoint, formatReport } from "./format.ts";
export {
  type Counterexample,
  DEFAULT_RUNS,
  type FuzzOptions,
  type FuzzProgress,
  type FuzzResult,
  fuzz,
  type LegValues,
  type OpStats,
} from "./fuzz.ts";
export { type GateEntryResult, type GateResult, loadConfig, runGate } from "./gate.ts";
export { type LoadedOp, loadOps } from "./load.ts";
export type { OpLike } from "./op-like.ts";
export { type SanityReport, sanityCheck } from "./sanity.ts";
