/**
 * `wrt`: the inputs to differentiate with respect to. The others are constants (data), as in
 * PyTorch where only parameters have `requires_grad`. Shared by `check()` and the CLI's `--wrt`.
 */
import { GradtrioError } from "../errors.ts";
import type { Binding } from "../expr/parse.ts";
import { didYouMean } from "../expr/suggest.ts";

const quote = (names: readonly string[]) => names.map((n) => `'${n}'`).join(", ");

/**
 * Validates `wrt` against the point's names and returns those names in the point's order
 * (undefined `wrt`: every name). `label` names the option in messages (`wrt`, `--wrt`).
 * Throws a GradtrioError (INVALID_ARGUMENT) for anything but known, distinct names.
 *
 * @example
 * wrtNames(["b", "w"], ["w", "b", "x", "y"]); // ["w", "b"]
 */
export function wrtNames(
  wrt: unknown,
  names: readonly string[],
  opts: { label?: string; bindings?: readonly Binding[] } = {},
): string[] {
  const label = opts.label ?? "wrt";
  if (names.length === 0 && (wrt === undefined || (Array.isArray(wrt) && wrt.length === 0)))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      "nothing to differentiate: the expression has no variables (it is a constant)",
    );
  if (wrt === undefined) return [...names];
  if (!Array.isArray(wrt) || wrt.some((n) => typeof n !== "string"))
    throw new GradtrioError("INVALID_ARGUMENT", `${label} must be a list of variable names`);
  if (wrt.length === 0)
    throw new GradtrioError("INVALID_ARGUMENT", `${label}: give at least one variable name`);
  const seen = new Set<string>();
  for (const name of wrt as string[]) {
    if (seen.has(name))
      throw new GradtrioError("INVALID_ARGUMENT", `${label}: '${name}' is given twice`);
    seen.add(name);
    if (names.includes(name)) continue;
    if (opts.bindings?.some((b) => b.name === name))
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `${label}: '${name}' is a named intermediate (${name} = …), not an input; give the inputs it is computed from`,
      );
    const guess = didYouMean(name, names);
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `${label}: '${name}' is not a variable of the expression (it uses ${names.length === 0 ? "no variables" : quote(names)})${guess === undefined ? "" : `; did you mean '${guess}'?`}`,
    );
  }
  return names.filter((n) => seen.has(n));
}

/**
 * A name both bound in the text (`z = …;`) and given a value is an error: a bound name is
 * computed, not an input. Throws a GradtrioError with a caret under the binding.
 */
export function checkBoundNotGiven(
  bindings: readonly Binding[],
  given: readonly string[],
  source: string,
): void {
  for (const b of bindings)
    if (given.includes(b.name))
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `'${b.name}' is bound in the expression (${b.name} = …) and also given a value; a bound name is computed from the inputs, so give it no value`,
        b.pos === undefined ? {} : { pos: b.pos, source },
      );
}
