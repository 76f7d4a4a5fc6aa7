/**
 * The tokenizer of the expression language: numbers, names, `+ - * / ^`, parentheses, commas,
 * and `=` and `;` for named intermediates (`z = w*x+b; sigmoid(z)`).
 * Positions are 0-based UTF-16 offsets into the source, as `GradtrioError.format()` expects.
 */
import { GradtrioError } from "../errors.ts";
import { arityOf } from "./ops.ts";

export type TokenKind =
  | "num"
  | "name"
  | "op"
  | "lparen"
  | "rparen"
  | "comma"
  | "assign"
  | "semicolon"
  | "end";

export interface Token {
  readonly kind: TokenKind;
  /** The source text of the token ("" for `end`). */
  readonly text: string;
  readonly pos: number;
  /** The value of a `num` token (finite, non-negative). */
  readonly value?: number;
}

// `3`, `0.5`, `1.`, `.5`, `1e-8`, `2E+3`; an `e` not followed by digits is not an exponent.
const NUMBER = /(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const WHITESPACE = /[ \t\r\n]+/y;

/**
 * Splits source text into tokens, ending with an `end` token at `source.length`.
 * Throws a `GradtrioError` (code `PARSE`) at the first character that starts no token.
 *
 * @example
 * ```ts
 * tokenize("2*x").map((t) => t.kind); // ["num", "op", "name", "end"]
 * ```
 */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    WHITESPACE.lastIndex = i;
    if (WHITESPACE.test(source)) {
      i = WHITESPACE.lastIndex;
      continue;
    }
    const ch = source[i]!;
    NUMBER.lastIndex = i;
    const numMatch = NUMBER.exec(source);
    if (numMatch !== null) {
      const text = numMatch[0];
      const value = Number(text);
      if (!Number.isFinite(value))
        throw new GradtrioError("PARSE", `number '${text}' is too large`, { pos: i, source });
      // As --at x=1e-400: nonzero digits that float64 reads as 0 are refused, not silently 0.
      if (value === 0 && /[1-9]/.test(text.split(/[eE]/)[0]!))
        throw new GradtrioError(
          "PARSE",
          `number '${text}' underflows to 0 in float64 (the smallest nonzero is ${Number.MIN_VALUE})`,
          { pos: i, source },
        );
      tokens.push({ kind: "num", text, pos: i, value });
      i += text.length;
      continue;
    }
    NAME.lastIndex = i;
    const nameMatch = NAME.exec(source);
    if (nameMatch !== null) {
      tokens.push({ kind: "name", text: nameMatch[0], pos: i });
      i += nameMatch[0].length;
      continue;
    }
    if (ch === "*" && source[i + 1] === "*")
      throw new GradtrioError("PARSE", "unexpected '**'; write powers with '^'", {
        pos: i,
        source,
      });
    if ("+-*/^".includes(ch)) tokens.push({ kind: "op", text: ch, pos: i });
    else if (ch === "(") tokens.push({ kind: "lparen", text: ch, pos: i });
    else if (ch === ")") tokens.push({ kind: "rparen", text: ch, pos: i });
    else if (ch === ",") tokens.push({ kind: "comma", text: ch, pos: i });
    else if (ch === "=") tokens.push({ kind: "assign", text: ch, pos: i });
    else if (ch === ";") tokens.push({ kind: "semicolon", text: ch, pos: i });
    else if (ch === ".") throw dotError(source, i);
    else {
      const whole = String.fromCodePoint(source.codePointAt(i)!);
      throw new GradtrioError("PARSE", `unexpected character ${quoteChar(whole)}`, {
        pos: i,
        source,
      });
    }
    i += 1;
  }
  tokens.push({ kind: "end", text: "", pos: source.length });
  return tokens;
}

/** Module prefixes from Python and JavaScript code (`torch.sin`, `math.cos`, `Math.exp`). */
const MODULES = new Set([
  "torch",
  "math",
  "np",
  "numpy",
  "F",
  "nn",
  "functional",
  "jnp",
  "tf",
  "Math",
]);

/**
 * A '.' that starts no number: `torch.sin(x)` or `x.pow(2)` copied from Python. The message
 * says how the language writes it.
 */
function dotError(source: string, i: number): GradtrioError {
  const before = /[A-Za-z_][A-Za-z0-9_]*$/.exec(source.slice(0, i))?.[0];
  // `torch.nn.functional.relu(x)`: the last name of a dotted chain, then its argument text.
  const rest = /^(?:[A-Za-z_][A-Za-z0-9_]*\.)*([A-Za-z_][A-Za-z0-9_]*)(?:\(([^()]*)\))?/.exec(
    source.slice(i + 1),
  );
  const fail = (hint: string) =>
    new GradtrioError("PARSE", `unexpected '.'; ${hint}`, { pos: i, source });
  if (before === undefined || rest === null) return fail("a number is written 0.5 or .5");
  const [, name, args] = rest as unknown as [string, string, string | undefined];
  // The argument text as one line: the message is one line (`x.pow(2,\n3)`).
  const inner = args?.trim().replace(/\s+/g, " ") ?? "";
  if (MODULES.has(before))
    return fail(
      `write ${name}(${inner || "…"}) without '${before}.': functions are called by name`,
    );
  if (arityOf(name) === undefined)
    return fail(
      `a name cannot contain '.' (method and attribute syntax is not part of the language)`,
    );
  const call = `${name}(${[before, inner].filter((s) => s !== "").join(", ")})`;
  const power =
    name === "pow" && inner !== ""
      ? ` or ${before}^${/^[A-Za-z0-9_.]+$/.test(inner) ? inner : `(${inner})`}`
      : "";
  return fail(`method syntax is not part of the language: write ${call}${power}`);
}

// Control and invisible characters are shown escaped so the message stays one readable line.
function quoteChar(ch: string): string {
  if (/^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch)) return `'${ch}'`;
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}
