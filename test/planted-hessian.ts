// A fault planted in a unary built-in's double backward, its gradient exact: for the Hessian's
// planted-fault tests (src/check/hessian.test.ts) and trust figures (bench/hessian-trust.bench.ts).
import type { Node } from "../src/autograd/node.ts";
import { OPS } from "../src/autograd/ops.ts";
import type { Tensor } from "../src/autograd/tensor.ts";

type Backward = (n: Node, g: Tensor) => readonly (Tensor | null)[];

/** The unary built-ins a fault can be planted in (each saves its input or its output). */
export const PLANTABLE = [
  "sin",
  "cos",
  "tan",
  "exp",
  "log",
  "sqrt",
  "tanh",
  "sigmoid",
  "log1p",
  "softplus",
  "erf",
  "gelu",
  "atan",
  "sinh",
  "cosh",
  "expm1",
] as const;
export type Plantable = (typeof PLANTABLE)[number];

/**
 * Runs `f` with `op`'s backward rule replaced: by `rule` when given, else by the right rule with
 * each gradient times 1 + c·(s − s.detach()), s the tensor the rule saved (its output or its
 * input). That factor is exactly 1, so the gradient is exact, but its derivative c·∂s adds
 * c·gradient·∂s to every second derivative through the op.
 */
export function planted<T>(op: Plantable, c: number, f: () => T, rule?: Backward): T {
  const decl = OPS[op] as unknown as { backward: Backward };
  const right = decl.backward;
  decl.backward =
    rule ??
    ((n, g) =>
      right(n, g).map((gi) => {
        if (gi === null) return null;
        const s = n.out ?? n.a!;
        return gi.mul(s.sub(s.detach()).mul(c).add(1));
      }));
  try {
    return f();
  } finally {
    decl.backward = right;
  }
}
