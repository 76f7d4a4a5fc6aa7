/**
 * What a report means for the code under test: the one rule behind `check`'s exit code, the
 * gate's pass/fail of a check and the vitest matcher (docs/DESIGN.md, "Exit codes of check").
 * The code under test is the autograd leg; the CAS and the finite differences are references.
 */
import type { Report } from "./report.ts";

/** pass: autograd is confirmed; fail: autograd is contradicted; inconclusive: no evidence. */
export type Outcome = "pass" | "fail" | "inconclusive";

export interface OutcomeOptions {
  /** Any disagreement fails, an outvoted reference leg too (for testing the legs themselves). */
  readonly strict?: boolean;
}

/**
 * - agree → pass;
 * - disagree with blame "symbolic" or "numeric" → pass: the two other legs, autograd among them,
 *   outvote a reference (a defect of that leg, which the report names), unless `strict`; also
 *   when the CAS is outvoted in one element and the finite differences in another (`blame` null,
 *   `outvoted` names both): autograd is confirmed in every element;
 * - any other disagreement (blame autograd, or no majority) → fail;
 * - inconclusive (kink, domain edge, non-finite, float64 cannot resolve the derivative, the only
 *   reference unreliable) → inconclusive.
 *
 * @example
 * outcome(check("sin(x^2)", { at: { x: 3 } })); // "pass"
 * outcome(check("tan(cos(pow(-x, x*e)))", { at: { x: -2.8983607998665413 } })); // "pass": the CAS is outvoted
 * outcome(check("tan(cos(pow(-x, x*e)))", { at: { x: -2.8983607998665413 } }), { strict: true }); // "fail"
 */
export function outcome(
  r: Pick<Report, "verdict" | "blame" | "outvoted">,
  opts: OutcomeOptions = {},
): Outcome {
  if (r.verdict === "agree") return "pass";
  if (r.verdict === "inconclusive") return "inconclusive";
  if (opts.strict !== true && referenceOutvoted(r)) return "pass";
  return "fail";
}

/**
 * Whether a report convicts autograd: blamed by the two references (or its own leg failed), not
 * a disagreement with no majority. A shrink keeps a conviction (fuzz's and the gate's): it may not
 * trade it for a weaker failure.
 */
export function convictsAutograd(r: Pick<Report, "verdict" | "blame">): boolean {
  return r.verdict === "disagree" && r.blame === "autograd";
}

/** Whether a reference leg was outvoted: the report passes, with a disagreement to show. */
export function referenceOutvoted(r: Pick<Report, "verdict" | "blame" | "outvoted">): boolean {
  return (
    r.verdict === "disagree" &&
    (r.blame === "symbolic" ||
      r.blame === "numeric" ||
      (r.blame === null && (r.outvoted?.length ?? 0) > 0))
  );
}

/** The outvoted reference legs of a passing disagreement, for people: "symbolic", "symbolic and numeric". */
export function outvotedLegs(r: Pick<Report, "blame" | "outvoted">): string {
  return r.blame ?? (r.outvoted ?? []).join(" and ");
}
