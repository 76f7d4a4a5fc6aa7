/**
 * Test helper: registers a custom op without defineOp's formula check, for tests of what the legs
 * do with an op defineOp would refuse (or that need no check). Production code registers through
 * defineOp and resolveOp, which always run it.
 */
import { type OpDefinition, registerCustomOp } from "../src/expr/ops.ts";

export function registerUnchecked<D extends OpDefinition>(def: D): D {
  return registerCustomOp(def, () => null);
}
