import type { Report } from "../check/report.ts";
import { GradtrioError } from "../errors.ts";
import { toValues } from "../expr/point.ts";
import { inferShapes } from "../expr/shapes.ts";
import { type CheckFlags, runCheck, seedNote, verdictLine } from "./check-command.ts";
import type { Colors } from "./format.ts";
import { hessianLabel, jacobianLabel, renderMatrix } from "./matrix-view.ts";
import type { Prepared } from "./prepare.ts";

/** Scalar outputs with at most this many input elements get their Hessian explained. */
export const EXPLAIN_HESSIAN_INPUTS = 10;

function legsLine(r: Report, c: Colors): string {
  const ms = (["symbolic", "numeric", "autograd"] as const)
    .map((l) => `${l} ${r.legs[l].status === "ok" ? "ok" : r.legs[l].status}`)
    .join(", ");
  return c.dim(`   legs: ${ms}`);
}

/**
 * The explanation of a non-scalar output (its Jacobian), or null when the output is a scalar.
 * `steps` (--steps, the step-size lesson of a scalar's gradient) and `dot` (--dot, the graph with
 * each node's gradient of a scalar output) are bad input for one.
 *
 * @example
 * jacobianExplanation(prepare("x^2", ["x=[1,2]"], cwd, { vectorOutput: true }), flags, c);
 */
export function jacobianExplanation(
  p: Prepared,
  flags: CheckFlags & { readonly steps?: boolean; readonly dot?: boolean },
  c: Colors,
): string[] | null {
  const values = toValues(p.point);
  const shapes = new Map([...values].map(([k, v]) => [k, v.shape] as const));
  const { shape } = inferShapes(p.expr, shapes);
  if (shape.length === 0) return null;
  const refuse = (option: string, what: string) =>
    new GradtrioError(
      "INVALID_ARGUMENT",
      `${option} ${what}; this output has shape [${shape.join(", ")}]: drop ${option} (the Jacobian is explained), or reduce it, e.g. sum(…)`,
    );
  if (flags.steps === true)
    throw refuse("--steps", "studies the step size h of a scalar output's gradient");
  // A vector output has no gradient to draw: backward() needs a seed, as PyTorch's does.
  if (flags.dot === true) throw refuse("--dot", "draws each node's gradient of a scalar output");
  const r = runCheck(p, flags);
  const m = r.jacobian!;
  const note = seedNote(r, p, flags);
  return [
    `${c.bold("gradtrio explain")}  out = ${c.bold(p.source)}`,
    "",
    c.bold("The output is not a scalar: its derivative is the Jacobian"),
    c.dim(
      "   Row out[i] is the gradient of the output's element i; column x[j] says how every output\n" +
        "   element moves with the input element x[j]. Autograd gets row i by one backward pass with\n" +
        "   gradient e_i (backward(gradient) is a vector–Jacobian product); the finite differences\n" +
        "   get column j by moving x[j] (a Jacobian–vector product); the CAS differentiates the\n" +
        "   gradient's templates once per output element, or once for an elementwise expression,\n" +
        "   whose Jacobian is diagonal.",
    ),
    "",
    ...renderMatrix("Jacobian", m, jacobianLabel(m), new Set(r.failing), c).map((l) => `   ${l}`),
    "",
    legsLine(r, c),
    ...(note === null ? [] : [c.dim(`   note: ${note}`)]),
    `   ${verdictLine(r, c)}`,
  ];
}

/**
 * Section `number`: the second derivatives of a scalar output, three ways (empty when it has
 * more than `EXPLAIN_HESSIAN_INPUTS` input elements).
 */
export function hessianExplanation(
  p: Prepared,
  flags: CheckFlags,
  c: Colors,
  number: number,
): string[] {
  const values = toValues(p.point);
  let n = 0;
  for (const v of values.values()) n += v.data.length;
  if (n > EXPLAIN_HESSIAN_INPUTS) return [];
  const r = runCheck(p, { ...flags, order: 2 });
  const h = r.hessian;
  if (h === undefined) return [];
  return [
    "",
    c.bold(`${number}. Second derivatives: the Hessian`),
    c.dim(
      "   Entry (a, b) is ∂²f/∂a∂b, the derivative of the gradient's element a by b. Autograd\n" +
        "   differentiates its own backward pass (backward with createGraph: true, then backward\n" +
        "   again); the CAS differentiates its derivative again; the finite differences take\n" +
        "   differences of the gradient.",
    ),
    "",
    ...renderMatrix("Hessian", h, hessianLabel(h), new Set(r.failing), c).map((l) => `   ${l}`),
    "",
    `   ${verdictLine(r, c)}`,
  ];
}
