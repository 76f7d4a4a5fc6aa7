/**
 * What counts as "an op" for the fuzzer: the callable that `defineOp` returns (it carries
 * `.definition`), a bare `OpDefinition` (scalar or tensor), or the name of a registered custom op.
 */
import { GradtrioError } from "../errors.ts";
import { laterOpsAllowed } from "../expr/op-formula.ts";
import { lookupCustomOp, type OpDefinition, registerCustomOp } from "../expr/ops.ts";

export type OpLike = OpDefinition | { readonly definition: OpDefinition } | string;

/** Duck-typed: a definition made in another module instance (a user module loaded with its own copy of gradtrio) still counts. */
export function isOpDefinition(v: unknown): v is OpDefinition {
  if ((typeof v !== "object" && typeof v !== "function") || v === null) return false;
  const d = v as Record<string, unknown>;
  return (
    typeof d.name === "string" &&
    typeof d.arity === "number" &&
    typeof d.forward === "function" &&
    typeof d.backward === "function"
  );
}

/** The definition an exported value stands for, or undefined when it is not an op. */
export function definitionOf(v: unknown): OpDefinition | undefined {
  if ((typeof v === "object" || typeof v === "function") && v !== null && "definition" in v) {
    const d = (v as { definition: unknown }).definition;
    if (isOpDefinition(d)) return d;
  }
  // A bare function has a `name` too: only objects count as bare definitions.
  if (typeof v === "object" && isOpDefinition(v)) return v;
  return undefined;
}

/**
 * Resolves an op-like value to a registered definition (registering it in this module's registry:
 * a user module may load its own copy of the registry, so ours must learn the op too).
 */
export function resolveOp(op: OpLike): OpDefinition {
  if (typeof op === "string") {
    const def = lookupCustomOp(op);
    if (def === undefined)
      throw new GradtrioError("INVALID_ARGUMENT", `no custom op named '${op}' is defined`);
    return def;
  }
  const def = definitionOf(op);
  if (def === undefined)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      "expected an op made with defineOp (or its definition, or its name)",
    );
  return registerCustomOp(def, laterOpsAllowed);
}
