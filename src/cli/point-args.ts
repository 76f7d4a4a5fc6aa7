/**
 * The point from the command line: `--at NAME=VALUE`, repeatable, several assignments after one
 * `--at` allowed (`--at w=1 b=0`). VALUE is a number, a JSON array, or `@FILE` (a JSON file
 * holding one, relative to the working directory). Checked against the expression's variables:
 * every variable needs a value, and a value for a name the expression does not use is an error.
 */
import { isAscii } from "node:buffer";
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { GradtrioError } from "../errors.ts";
import type { Expr } from "../expr/ast.ts";
import { variablesOf } from "../expr/ast.ts";
import type { NestedArray, Point } from "../expr/point.ts";
import { toValue } from "../expr/point.ts";
import { didYouMean } from "../expr/suggest.ts";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** `1,2,3`: numbers separated by commas, without the brackets of an array. */
const LIST =
  /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(\s*,\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)+\s*$/;

const bad = (message: string) => new GradtrioError("INVALID_ARGUMENT", message);

/**
 * Python's number forms JSON lacks, as a learner copies them from a notebook: `1.` and `.5`
 * (`[1.,2.,3.]`) become `1.0` and `0.5`.
 */
function pythonNumbers(text: string): string {
  return text.replace(/(^|[^\d.])\.(\d)/g, "$10.$2").replace(/(\d)\.(?![\d])/g, "$1.0");
}

/**
 * Parses the `--at` assignments into a point, in the order given.
 *
 * @example
 * parseAssignments(["w=1", "x=[1,2]"], "/tmp"); // { w: 1, x: [1, 2] }
 */
export function parseAssignments(items: readonly string[], cwd: string): Point {
  const point: Point = {};
  for (const item of items) {
    const { name, text } = splitAssignment(item);
    if (!NAME.test(name)) throw bad(`--at ${item}: '${name}' is not a variable name`);
    if (Object.hasOwn(point, name)) throw bad(`--at ${name} is given twice`);
    point[name] = parseValue(name, text, cwd);
  }
  return point;
}

/**
 * One `--at` item, `NAME=VALUE`, as its name and its value's text (both trimmed, not checked).
 *
 * @example
 * splitAssignment("x = @x.json"); // { name: "x", text: "@x.json" }
 */
export function splitAssignment(item: string): { name: string; text: string } {
  const eq = item.indexOf("=");
  if (eq < 0)
    throw bad(
      `--at expects NAME=VALUE, got '${item}' (give the expression before --at, e.g. gradtrio check 'sin(x)' --at x=1)`,
    );
  return { name: item.slice(0, eq).trim(), text: item.slice(eq + 1).trim() };
}

/** One VALUE: a number, a JSON array or `@FILE`; validated (finite numbers, rectangular). */
export function parseValue(name: string, text: string, cwd: string): NestedArray {
  let v: unknown;
  if (text === "") throw bad(`--at ${name}=: the value is missing`);
  if (text.startsWith("@")) v = readJsonFile(name, text.slice(1), cwd);
  else if (NUMBER.test(text)) {
    v = Number(text);
    checkUnderflow(name, text, text);
  } else if (text.startsWith("[")) {
    try {
      v = JSON.parse(pythonNumbers(text));
    } catch (e) {
      throw bad(`--at ${name}: not a valid JSON array (${(e as Error).message})`);
    }
    checkLiterals(name, text, text);
  } else if (LIST.test(text))
    throw bad(`--at ${name}=${text}: a vector is written in brackets: --at ${name}=[${text}]`);
  else
    throw bad(
      `--at ${name}=${text}: ${/^[+-]?(nan|inf|infinity)$/i.test(text) ? "not a finite number" : "expected a number, a JSON array or @FILE"}`,
    );
  if (typeof v !== "number" && !Array.isArray(v))
    throw bad(`--at ${name}: expected a number or an array, got ${v === null ? "null" : typeof v}`);
  if (Array.isArray(v) && isFiniteVector(v)) return v as number[]; // the common large input, fast
  try {
    toValue(v, name);
  } catch (e) {
    if (e instanceof GradtrioError) throw new GradtrioError(e.code, `--at ${e.message}`);
    throw e;
  }
  return v as NestedArray;
}

/**
 * A number written with nonzero digits that underflows to 0 in float64 is refused, on the
 * command line or in an @FILE, as one that overflows to ±Infinity is (toValue: not a finite
 * number); a subnormal that is not 0, 1e-310, is kept.
 */
function checkUnderflow(name: string, text: string, literal: string): void {
  if (Number(literal) !== 0 || !/[1-9]/.test(literal.split(/[eE]/)[0]!)) return;
  const where = literal === text ? `--at ${name}=${text}` : `--at ${name}=${text}: ${literal}`;
  throw bad(`${where} underflows to 0 in float64 (the smallest nonzero is ${Number.MIN_VALUE})`);
}

/** 100 zeros in a row. */
const ZEROS = "0".repeat(100);

/**
 * `checkUnderflow` on the literals of a JSON text that may underflow, found by a few searches
 * of the text (its 20 MB of 10^6 numbers stay fast): a literal below 2.5e-324 has its first
 * nonzero digit at 10^m and an exponent E with m + E ≤ −324, so 100 zeros in a row (m ≤ −101)
 * or E ≤ −100, and then E ≤ −324 or a mantissa below 1 (m < 0), where the search looks.
 * `shown`: the value as the message names it.
 */
function checkLiterals(name: string, shown: string, text: string): void {
  const start = (i: number) => {
    while (i > 0 && isLiteralChar(text.charCodeAt(i - 1))) i--;
    return i;
  };
  const end = (i: number) => {
    while (i < text.length && isLiteralChar(text.charCodeAt(i))) i++;
    return i;
  };
  const check = (i: number) => {
    const b = end(i);
    checkUnderflow(name, shown, text.slice(start(i), b));
    return b;
  };
  let i = text.indexOf(ZEROS);
  while (i >= 0) i = text.indexOf(ZEROS, check(i));
  for (const e of ["e-", "E-"])
    for (i = text.indexOf(e); i >= 0; i = text.indexOf(e, i + 2)) {
      let exponent = 0;
      for (let j = i + 2; exponent < 324 && isDigit(text.charCodeAt(j)); j++)
        exponent = 10 * exponent + text.charCodeAt(j) - 48;
      if (exponent < 100) continue;
      let a = start(i);
      if (text.charCodeAt(a) === 45) a++; // '-'
      const lead = text.charCodeAt(a); // '0' or '.': a mantissa below 1
      if (exponent >= 324 || lead === 48 || lead === 46) check(i);
    }
}

const isDigit = (c: number) => c >= 48 && c <= 57;
/** Digits, '.', 'e', 'E', '+', '-': what a JSON number is made of. */
const isLiteralChar = (c: number) =>
  isDigit(c) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;

function isFiniteVector(v: unknown[]): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== "number" || !Number.isFinite(x)) return false;
  }
  return true;
}

function readJsonFile(name: string, file: string, cwd: string): unknown {
  if (file === "") throw bad(`--at ${name}=@: the file name is missing`);
  const path = resolve(cwd, file);
  let text: string;
  try {
    const bytes = readFileSync(path);
    // The same text, decoded 2× faster where it is ASCII (JSON of numbers is).
    text = bytes.toString(isAscii(bytes) ? "latin1" : "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : code === "EACCES"
            ? "permission denied"
            : (e as Error).message;
    throw new GradtrioError("IO", `--at ${name}=@${file}: cannot read ${path}: ${why}`);
  }
  // A byte order mark (some Windows editors write one) is not part of the JSON.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new GradtrioError(
      "IO",
      `--at ${name}=@${file}: not valid JSON (${(e as Error).message})`,
    );
  }
  checkLiterals(name, `@${file}`, text);
  return v;
}

/**
 * Every variable of the expression must have a value, and every value a variable.
 * Throws a GradtrioError naming the missing or unexpected names.
 */
export function matchPoint(expr: Expr, point: Point): void {
  const vars = variablesOf(expr);
  const given = Object.keys(point);
  const missing = vars.filter((v) => !Object.hasOwn(point, v));
  const extra = given.filter((g) => !vars.includes(g));
  if (missing.length > 0) {
    const list = missing.map((m) => `${m}=…`).join(" ");
    const also =
      extra.length === 0
        ? ""
        : ` (${quoteList(extra)} ${extra.length === 1 ? "is not a variable" : "are not variables"} of the expression)`;
    const cased = missing.flatMap((m) => {
      const g = extra.find((e) => e.toLowerCase() === m.toLowerCase());
      return g === undefined ? [] : [`'${g}' is not '${m}'`];
    });
    const caseNote = cased.length === 0 ? "" : `; names are case-sensitive: ${cased.join(", ")}`;
    throw bad(
      `missing --at for ${quoteList(missing)}: the expression uses ${quoteList(vars)}; add --at ${list}${also}${caseNote}`,
    );
  }
  if (extra.length > 0) {
    const hint = extra.length === 1 ? didYouMean(extra[0]!, vars) : undefined;
    throw bad(
      `--at ${quoteList(extra)}: not ${extra.length === 1 ? "a variable" : "variables"} of the expression (it uses ${vars.length === 0 ? "no variables" : quoteList(vars)})${hint === undefined ? "" : `; did you mean '${hint}'?`}`,
    );
  }
}

function quoteList(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(", ");
}

/**
 * The bytes of the `@FILE` values on a command line (`x=@x.json`, `--at=x=@x.json`), files that
 * cannot be read counting 0 (the command reports them), to size the input before it is read.
 */
export function fileInputBytes(argv: readonly string[], cwd: string): number {
  let bytes = 0;
  for (const arg of argv) {
    const at = arg.indexOf("=@");
    if (at < 0) continue;
    try {
      bytes += statSync(resolve(cwd, arg.slice(at + 2))).size;
    } catch {
      // No size.
    }
  }
  return bytes;
}
