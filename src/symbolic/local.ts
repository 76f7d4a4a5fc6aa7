/**
 * Local derivatives for the teaching view (`gradtrio explain`): ∂op/∂argₖ of one op at symbolic
 * arguments, as the CAS derives it, in plain text and LaTeX, and evaluated at numbers.
 */
import { GradtrioError } from "../errors.ts";
import { call, type Expr, variable } from "../expr/ast.ts";
import { arityOf, BUILTIN_OPS, branchesOf, isBuiltinOp } from "../expr/ops.ts";
import { casDiff } from "./cas.ts";
import { evaluateAt } from "./evaluate.ts";
import { type Formula, fconst, fsym, simplify, substitute } from "./formula.ts";
import { KinkFound, Unavailable } from "./outcome.ts";
import { latexName, toLatex, toPlain } from "./print.ts";
import { readCas } from "./read-cas.ts";
import { type Branch, CasWriter } from "./to-cas.ts";

export interface LocalDerivative {
  readonly status: "ok";
  /** Which argument (0-based). */
  readonly arg: number;
  /** ∂op/∂argₖ with the argument formulas in place, e.g. `cos(x^2)` for sin at `x^2`. */
  readonly formula: string;
  readonly latex: string;
  /** The derivative at numeric argument values (one per argument), on the branch fixed by `at`. */
  evaluate(args: readonly number[]): number;
}

export type LocalDerivativeResult =
  | LocalDerivative
  | { readonly status: "unavailable" | "kink"; readonly arg: number; readonly reason: string };

/**
 * ∂op/∂argₖ for every argument k of a built-in or custom op, at the argument formulas `args`
 * (text such as `"x^2"`; default `u`, `v`, `w`…). Piecewise ops (abs, relu, clamp) need the
 * argument values `at` to pick the active branch; on a breakpoint the result is a kink.
 * @example
 * localDerivative("sin", ["x^2"])[0].formula // "cos(x^2)"
 * localDerivative("bce", ["p", "t"])[1].evaluate([0.25, 1]) // log(1-p) - log(p) = log(3)
 */
export function localDerivative(
  op: string,
  args?: readonly string[],
  at?: readonly number[],
): LocalDerivativeResult[] {
  const n = arityOf(op);
  if (n === undefined || (isBuiltinOp(op) && BUILTIN_OPS[op].kind !== "elementwise"))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `localDerivative: '${op}' is not an elementwise op (built-in or defined)`,
    );
  const texts = args ?? ["u", "v", "w", "s", "t", "r", "q", "p"].slice(0, n);
  if (texts.length !== n)
    throw new GradtrioError("ARITY", `${op} takes ${n} argument(s), got ${texts.length}`);
  const piecewise = branchesOf(op) !== undefined;
  if (piecewise && (at === undefined || at.length !== n))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `localDerivative: ${op} is piecewise; give the ${n} argument value(s) to pick its branch`,
    );

  const slots = Array.from({ length: n }, (_, i) => `a${i}`);
  const root = call(
    op,
    slots.map((s) => variable(s)),
  );
  const argFormulas = texts.map(argFormula);
  const results: LocalDerivativeResult[] = [];
  const writer = new CasWriter((e: Expr) => (e.kind === "var" ? e.name : undefined));
  const branch = (): Branch => (piecewise ? branchAt(op, at!) : 0);
  let casTexts: string[];
  try {
    casTexts = slots.map((s) => writer.write(root, branch, s));
  } catch (e) {
    if (e instanceof Unavailable || e instanceof KinkFound) {
      const status = e instanceof KinkFound ? "kink" : "unavailable";
      return slots.map((_, arg) => ({ status, arg, reason: e.message }));
    }
    throw e;
  }
  for (let k = 0; k < n; k++) {
    const answer = casDiff(casTexts[k]!, writer.symbol(slots[k]!));
    if (!answer.ok) {
      results.push({ status: "unavailable", arg: k, reason: answer.reason });
      continue;
    }
    let d: Formula;
    try {
      d = readCas(answer.text, writer.resolve);
    } catch (e) {
      if (!(e instanceof Unavailable)) throw e;
      results.push({ status: "unavailable", arg: k, reason: e.message });
      continue;
    }
    const shown = simplify(substitute(d, (s) => argFormulas[slots.indexOf(s)]));
    const names = opaqueNames(texts);
    results.push({
      status: "ok",
      arg: k,
      formula: toPlain(shown, names),
      latex: toLatex(shown, names),
      evaluate: (values) => {
        if (values.length !== n)
          throw new GradtrioError(
            "ARITY",
            `${op} takes ${n} argument value(s), got ${values.length}`,
          );
        return evaluateAt(d, (s) => values[slots.indexOf(s)]!);
      },
    });
  }
  return results;
}

function branchAt(op: string, at: readonly number[]): Branch {
  const c = branchesOf(op)!.at(at[0]!, at[1] ?? 0, at[2] ?? 0);
  if (c < 0) throw new KinkFound({ op, text: op, element: 0, value: at[0]! });
  return c as Branch;
}

// An argument written in the formula vocabulary becomes a formula; anything else an opaque leaf.
function argFormula(text: string, i: number): Formula {
  try {
    return readCas(text, (name) =>
      name === "e" ? fconst("e") : name === "pi" ? fconst("pi") : fsym(name),
    );
  } catch {
    return fsym(`\u0000${i}`);
  }
}

function opaqueNames(texts: readonly string[]): {
  plain(n: string): string;
  latex(n: string): string;
} {
  const opaque = (n: string): string | undefined => {
    if (!n.startsWith("\u0000")) return undefined;
    const t = texts[Number(n.slice(1))]!;
    return /^[A-Za-z_][A-Za-z0-9_]*(\(.*\))?$/.test(t) ? t : `(${t})`;
  };
  return {
    plain: (n) => opaque(n) ?? n,
    latex: (n) => {
      const o = opaque(n);
      return o === undefined ? latexName(n) : `\\texttt{${o}}`;
    },
  };
}
