/**
 * The step-size lesson: the error of the forward difference, the central difference and the
 * complex step against h = 1e-1 … 1e-15, along one coordinate. Forward and central trace a "V"
 * on a log-log plot — truncation (∝ h, ∝ h²) falls as h shrinks until rounding (∝ ε/h) takes
 * over — with the bottom near h ≈ √ε and h ≈ ∛ε (times the scale of x); the complex step
 * subtracts nothing and stays at rounding level. Pure: the page computes it in the browser.
 */
import type { Expr } from "../expr/ast.ts";
import type { Value } from "../expr/point.ts";
import { compileComplex, compileForward, flattenValues } from "../numeric/index.ts";

const EPS = Number.EPSILON;

/** The steps of the lesson: 1e-1, 1e-2, …, 1e-15. */
export const LESSON_STEPS: readonly number[] = Array.from({ length: 15 }, (_, k) => 10 ** -(k + 1));

export type Method = "forward" | "central" | "complex";
export const METHODS: readonly Method[] = ["forward", "central", "complex"];

export interface StepRow {
  readonly h: number;
  /** The estimate of each method at h (null: the complex step does not apply). */
  readonly estimate: Readonly<Record<Method, number | null>>;
  /** |estimate − reference|. */
  readonly error: Readonly<Record<Method, number | null>>;
}

export interface StepStudy {
  /** The coordinate varied: its offset among the flattened inputs. */
  readonly offset: number;
  readonly x: number;
  /** The exact derivative the errors are measured against. */
  readonly reference: number;
  readonly rows: readonly StepRow[];
  /** The h of the smallest error of each method among the rows. */
  readonly best: Readonly<Record<Method, number | null>>;
  /** Where theory puts the bottom of the V: √ε·max(1,|x|), ∛ε·max(1,|x|). */
  readonly theory: { readonly forward: number; readonly central: number };
  /** Why the complex step does not apply, or null. */
  readonly complexReason: string | null;
}

/**
 * The three methods' errors against h along coordinate `offset` (of the inputs flattened in
 * the map's order), measured against `reference`, the exact derivative.
 * @example
 * const s = stepStudy(parse("sin(x^2)"), toValues({ x: 3 }), 0, 6 * Math.cos(9));
 * s.best.forward; // 1e-8
 */
export function stepStudy(
  expr: Expr,
  values: ReadonlyMap<string, Value>,
  offset: number,
  reference: number,
  steps: readonly number[] = LESSON_STEPS,
): StepStudy {
  const { x, layout } = flattenValues(values);
  const f = compileForward(expr, layout);
  const x0 = x[offset]!;
  const at = (h: number): number => {
    const p = x.slice();
    p[offset] = x0 + h;
    return f(p);
  };
  const f0 = at(0);
  let complexReason: string | null = null;
  let program: ReturnType<typeof compileComplex> | null = null;
  try {
    program = compileComplex(expr, layout);
  } catch (e) {
    complexReason = (e as Error).message;
  }
  const im = new Float64Array(x.length);
  const complex = (h: number): number | null => {
    if (program === null) return null;
    im[offset] = h;
    program.run(x, im);
    im[offset] = 0;
    const kink = program.kink();
    if (kink !== null) {
      complexReason = kink;
      return null;
    }
    return program.output.im[0]! / h;
  };
  const rows = steps.map((h): StepRow => {
    const estimate = {
      forward: (at(h) - f0) / h,
      central: (at(h) - at(-h)) / (2 * h),
      complex: complex(h),
    };
    const err = (v: number | null) => (v === null ? null : Math.abs(v - reference));
    return {
      h,
      estimate,
      error: {
        forward: err(estimate.forward),
        central: err(estimate.central),
        complex: err(estimate.complex),
      },
    };
  });
  const bestOf = (m: Method): number | null => {
    let best: StepRow | null = null;
    for (const r of rows) {
      const e = r.error[m];
      if (e !== null && Number.isFinite(e) && (best === null || e < best.error[m]!)) best = r;
    }
    return best?.h ?? null;
  };
  const scale = Math.max(1, Math.abs(x0));
  return {
    offset,
    x: x0,
    reference,
    rows,
    best: { forward: bestOf("forward"), central: bestOf("central"), complex: bestOf("complex") },
    theory: { forward: Math.sqrt(EPS) * scale, central: Math.cbrt(EPS) * scale },
    complexReason,
  };
}

/** Which error dominates at h for a finite difference: above its best h, truncation. */
export function regionOf(study: StepStudy, m: "forward" | "central", h: number): string {
  const best = study.best[m];
  if (best === null) return "";
  return h > best ? "truncation" : h < best ? "rounding" : "best";
}
