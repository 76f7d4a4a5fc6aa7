/**
 * gradtrio/vitest — `import "gradtrio/vitest"` adds
 * `expect(subject).toHaveAgreeingGradients({ at, rtol?, atol?, method?, strict?, allowInconclusive? })`:
 * the subject (an expression string, an `Expr`, or a function over Tensors) is checked three ways
 * at the point; it passes when autograd is confirmed (the legs agree, or a reference leg is
 * outvoted by the two others: `strict` fails that too), as `gradtrio check` exits 0. A failure
 * shows the three legs per input, the blame and the reason.
 *
 * @example
 * ```ts
 * import "gradtrio/vitest";
 * import { expect, test } from "vitest";
 * test("my loss has sound gradients", () => {
 *   expect("mean(bce(sigmoid(w*x+b), y))").toHaveAgreeingGradients({
 *     at: { w: 0.5, b: -0.2, x: [1, 2, -1], y: [1, 0, 0] },
 *   });
 *   expect((x) => x.pow(2).sin()).toHaveAgreeingGradients({ at: { x: 3 } });
 * });
 * ```
 */
import { type Assertion, expect } from "vitest";
import { CHECK_OPTIONS, type CheckOptions, check, type Subject } from "../check/check.ts";
import {
  CHECK_FUNCTION_OPTIONS,
  type CheckFunctionOptions,
  checkFunction,
} from "../check/check-function.ts";
import { outcome, outvotedLegs, referenceOutvoted } from "../check/outcome.ts";
import type { Report } from "../check/report.ts";
import { checkOptionNames, GradtrioError, isGradtrioError } from "../errors.ts";
import { formatReport } from "../fuzz/format.ts";

/** What a verdict's pass may allow beyond agreement. */
interface PassOptions {
  /** Let an inconclusive verdict (kink, singularity) pass. Default false. */
  readonly allowInconclusive?: boolean;
  /**
   * Fail on any disagreement, an outvoted reference leg (CAS, finite differences) too. Default
   * false: the assertion passes when autograd is confirmed (docs/DESIGN.md, "Exit codes of check").
   */
  readonly strict?: boolean;
}

/**
 * Options of `toHaveAgreeingGradients`: the point and, optionally, tolerances and method; or,
 * for a plain-JavaScript function, its point and hand-written `grad`, `vjp` or `jvp`
 * (`checkFunction`: checked against finite differences, two legs).
 */
export type AgreeingGradientsOptions =
  | (CheckOptions & PassOptions)
  | (CheckFunctionOptions & PassOptions);

const isBlackBox = (o: AgreeingGradientsOptions): o is CheckFunctionOptions & PassOptions =>
  typeof o === "object" &&
  o !== null &&
  ("grad" in o ||
    "vjp" in o ||
    "jvp" in o ||
    typeof o.at === "number" ||
    Array.isArray(o.at) ||
    o.at instanceof Float64Array);

interface GradtrioMatchers<R = unknown> {
  /**
   * Checks the gradient of the subject (expression, `Expr`, or function over Tensors) three ways
   * at `at`; passes when autograd is confirmed (the legs agree, or the two others outvote a
   * reference leg; with `strict`, only when they agree).
   */
  toHaveAgreeingGradients(options: AgreeingGradientsOptions): R;
}

/**
 * The type of `expect(subject)` with the matcher. Naming vitest's `Assertion` here also keeps
 * `import … from "vitest"` in the published .d.ts, without which the augmentation below is lost.
 */
export type GradtrioAssertion<T = unknown> = Assertion<T> & GradtrioMatchers<T>;

declare module "vitest" {
  // biome-ignore lint/suspicious/noExplicitAny: must match vitest's own declaration
  interface Assertion<T = any> extends GradtrioMatchers<T> {}
  interface AsymmetricMatchersContaining extends GradtrioMatchers {}
}

/** The failure message: the verdict line, the reason, the three legs per input. */
export function agreeingGradientsMessage(report: Report, isNot: boolean): string {
  const head = !isNot
    ? `expected the gradients to agree, but the verdict is ${report.verdict}`
    : referenceOutvoted(report)
      ? `expected the gradients not to agree, but autograd is confirmed: the ${outvotedLegs(report)} leg is outvoted by the two others`
      : "expected the gradients not to agree, but the three legs agree";
  return [head, ...formatReport(report).map((l) => `  ${l}`)].join("\n");
}

const PASS_OPTIONS = Object.keys({
  allowInconclusive: true,
  strict: true,
} satisfies Record<keyof PassOptions, true>);

/** The options for check / checkFunction, the matcher's own taken out; an unknown key refused. */
function checkOptions<T extends object>(options: T & PassOptions, known: readonly string[]): T {
  if (typeof options !== "object" || options === null) return options;
  checkOptionNames(options, [...known, ...PASS_OPTIONS], "");
  const { allowInconclusive: _a, strict: _s, ...rest } = options;
  return rest as T;
}

expect.extend({
  toHaveAgreeingGradients(received: unknown, options: AgreeingGradientsOptions) {
    let report: Report;
    try {
      report = isBlackBox(options)
        ? checkFunction(
            received as (x: never) => unknown,
            checkOptions(options, CHECK_FUNCTION_OPTIONS),
          )
        : check(received as Subject, checkOptions(options, CHECK_OPTIONS));
    } catch (e) {
      // Bad input (a parse error, a bad point) throws with gradtrio's message, with or without
      // `.not`: a check that could not run is neither an agreement nor a disagreement.
      const msg = isGradtrioError(e) ? e.format() : e instanceof Error ? e.message : String(e);
      const text = `toHaveAgreeingGradients: the check could not run: ${msg}`;
      throw isGradtrioError(e) ? new GradtrioError(e.code, text) : new Error(text, { cause: e });
    }
    const o = outcome(report, { strict: options?.strict === true });
    const pass = o === "pass" || (o === "inconclusive" && options?.allowInconclusive === true);
    return {
      pass,
      message: () => agreeingGradientsMessage(report, this.isNot === true),
    };
  },
});
