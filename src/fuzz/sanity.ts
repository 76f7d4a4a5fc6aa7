/**
 * Checks one custom op alone before fuzzing it: its forward is finite on its domain, its backward
 * returns exactly one finite number per argument, and its `formula` (if any) computes what its
 * forward computes — evaluated through gradtrio's own parser and evaluator, never `eval`.
 */

import { describeValue, firstLine, GradtrioError, userThrew } from "../errors.ts";
import { formulaDefect } from "../expr/op-formula.ts";
import { type CustomOpDefinition, formulaPlaceholders, formulaText } from "../expr/ops.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { evaluate } from "../numeric/evaluate.ts";
import { mulberry32 } from "../random.ts";
import { argDomain, workingInterval } from "./domain.ts";

export interface SanityReport {
  readonly op: string;
  /** Points of the domain tried. */
  readonly samples: number;
  /** Whether the formula was compared with the forward (false: no formula; one that cannot be read fails the check). */
  readonly formulaChecked: boolean;
  /** Why the formula was not compared, when it exists but could not be (a tensor op's, at some shapes). */
  readonly note: string | null;
}

const fmt = (xs: readonly number[]) => `(${xs.join(", ")})`;

/**
 * Runs the per-op checks at `samples` random points of the op's working domain.
 * Throws a GradtrioError (code DEFINE_OP) naming the op, the point and what went wrong.
 *
 * @example
 * ```ts
 * sanityCheck(cube.definition); // { op: "cube", samples: 64, formulaChecked: true, note: null }
 * ```
 */
export function sanityCheck(
  def: CustomOpDefinition,
  options: { seed?: number; samples?: number } = {},
): SanityReport {
  const samples = options.samples ?? 64;
  // The same seed tries the same points.
  const rand = mulberry32(options.seed ?? 1);
  const fail = (msg: string): never => {
    throw new GradtrioError("DEFINE_OP", `op '${def.name}': ${msg}`);
  };
  const intervals = Array.from({ length: def.arity }, (_, i) => workingInterval(argDomain(def, i)));

  // Every op of the module is defined by now: a formula calling an unknown op is malformed too.
  // (An ops module loaded from a file stops earlier, at load.ts's same test: exit 2 for the
  // module; this one reports the op of a library `fuzz({ ops })` and fuzzes the others.)
  const defect = formulaDefect(def, false);
  if (defect !== null) fail(defect);
  let formula: ((args: readonly number[]) => number) | null = null;
  const text = formulaText(def);
  if (text !== undefined) {
    const names = formulaPlaceholders(def.arity);
    const expr = parse(text);
    formula = (args) =>
      evaluate(expr, toValues(Object.fromEntries(names.map((n, i) => [n, args[i]!])))).data[0]!;
  }

  for (let s = 0; s < samples; s++) {
    const args = intervals.map(([lo, hi]) => lo + (hi - lo) * rand());
    let out: unknown;
    try {
      out = def.forward(...args);
    } catch (e) {
      userThrew(`${def.name}'s forward`, e); // the stack, with GRADTRIO_DEBUG=1
      fail(`forward${fmt(args)} threw: ${firstLine(e)}`);
    }
    if (typeof out !== "number" || !Number.isFinite(out))
      fail(
        `forward${fmt(args)} gave ${describeValue(out)}, not a finite number, inside its domain${def.domain === undefined ? " (it declares none: the whole line; declare one, e.g. domain: [[0, Infinity]])" : ""}`,
      );
    const y = out as number;
    const grad = 0.5 + rand();
    let g: unknown;
    try {
      g = def.backward({ args, out: y, grad });
    } catch (e) {
      userThrew(`${def.name}'s backward`, e); // the stack, with GRADTRIO_DEBUG=1
      fail(`backward at ${fmt(args)} threw: ${firstLine(e)}`);
    }
    if (!Array.isArray(g) || g.length !== def.arity)
      fail(
        `backward at ${fmt(args)} returned ${Array.isArray(g) ? `${g.length} value(s)` : typeof g}; it must return an array of ${def.arity} number(s), one per argument`,
      );
    (g as unknown[]).forEach((v, k) => {
      if (typeof v !== "number" || !Number.isFinite(v))
        fail(
          `backward at ${fmt(args)} returned ${describeValue(v)} for argument ${k + 1}, not a finite number`,
        );
    });
    if (formula !== null) {
      let f = Number.NaN;
      try {
        f = formula(args);
      } catch (e) {
        fail(`formula could not be evaluated at ${fmt(args)}: ${firstLine(e)}`);
      }
      if (!(Math.abs(f - y) <= 1e-8 * Math.max(Math.abs(f), Math.abs(y)) + 1e-12))
        fail(
          `formula gives ${f} but forward gives ${y} at ${fmt(args)}: they define different functions`,
        );
    }
  }
  return { op: def.name, samples, formulaChecked: formula !== null, note: null };
}
