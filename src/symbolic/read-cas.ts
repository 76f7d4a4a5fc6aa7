/**
 * Reads the CAS's text into gradtrio's `Formula` AST over an allowlist: numbers, + - * / ^,
 * parentheses, the functions in `FORMULA_FUNCTIONS` and the symbols the caller resolves.
 * Anything else (an unevaluated `diff(`, an unknown function or name) is unreadable, with a
 * reason: the leg then says "not available", never guesses.
 */
import {
  type Formula,
  fadd,
  ffn,
  fmul,
  fnum,
  fpow,
  fratio,
  isFormulaFunction,
  simplify,
} from "./formula.ts";
import { Unavailable } from "./outcome.ts";

type Token = { t: "num" | "id" | "op"; text: string };

/** How deep `readCas` nests: the text of a node `CasWriter.reader` reads must stay within it. */
export const MAX_DEPTH = 1500;

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/^(),]))/y;
  const blankRest = /\s*$/y;
  let i = 0;
  while (i < text.length) {
    blankRest.lastIndex = i;
    if (blankRest.test(text)) break;
    re.lastIndex = i;
    const m = re.exec(text);
    if (m === null)
      throw new Unavailable(
        `unexpected character ${JSON.stringify(text.slice(i).trimStart()[0])} in "${text}"`,
      );
    if (m[1] !== undefined) out.push({ t: "num", text: m[1] });
    else if (m[2] !== undefined) out.push({ t: "id", text: m[2] });
    else out.push({ t: "op", text: m[3]! });
    i = re.lastIndex;
  }
  return out;
}

/**
 * Parses CAS output. `resolve` maps a bare name to a formula (a leaf symbol, a constant), or
 * returns undefined for a name that must not appear.
 * @example readCas("2*cos(v0^2)*v0", (n) => (n === "v0" ? fsym("x") : undefined))
 */
export function readCas(text: string, resolve: (name: string) => Formula | undefined): Formula {
  return simplify(parseCas(text, resolve));
}

/**
 * `readCas` before it simplifies: the formula as the text writes it (`a-b` as `a + -1*b`).
 * @example parseCas("v0-1", fsym) // add(v0, mul(-1, 1))
 */
export function parseCas(text: string, resolve: (name: string) => Formula | undefined): Formula {
  const toks = tokenize(text);
  let k = 0;
  let depth = 0;
  const peek = (): Token | undefined => toks[k];
  const isOp = (s: string): boolean => {
    const t = toks[k];
    return t !== undefined && t.t === "op" && t.text === s;
  };
  const expect = (s: string): void => {
    if (!isOp(s)) throw new Unavailable(`expected '${s}' in "${text}"`);
    k++;
  };
  const enter = (): void => {
    if (++depth > MAX_DEPTH) throw new Unavailable("the CAS answer is nested too deeply");
  };

  const sum = (): Formula => {
    enter();
    const terms = [product()];
    while (isOp("+") || isOp("-")) {
      const minus = toks[k++]!.text === "-";
      const t = product();
      terms.push(minus ? fmul(fnum(-1), t) : t);
    }
    depth--;
    return terms.length === 1 ? terms[0]! : fadd(...terms);
  };
  const product = (): Formula => {
    const factors = [unary()];
    while (isOp("*") || isOp("/")) {
      const div = toks[k++]!.text === "/";
      const f = unary();
      factors.push(div ? fpow(f, fnum(-1)) : f);
    }
    return factors.length === 1 ? factors[0]! : fmul(...factors);
  };
  const unary = (): Formula => {
    enter();
    let out: Formula;
    if (isOp("-")) {
      k++;
      out = fmul(fnum(-1), unary());
    } else if (isOp("+")) {
      k++;
      out = unary();
    } else out = power();
    depth--;
    return out;
  };
  const power = (): Formula => {
    const base = primary();
    if (isOp("^")) {
      k++;
      return fpow(base, unary());
    }
    return base;
  };
  const primary = (): Formula => {
    const t = peek();
    if (t === undefined) throw new Unavailable(`unexpected end of "${text}"`);
    k++;
    if (t.t === "num") {
      const v = Number(t.text);
      if (!Number.isFinite(v)) throw new Unavailable(`number ${t.text} out of range`);
      return Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? fratio(v, 1) : fnum(v);
    }
    if (t.t === "op") {
      if (t.text !== "(") throw new Unavailable(`unexpected '${t.text}' in "${text}"`);
      const inner = sum();
      expect(")");
      return inner;
    }
    if (isOp("(")) {
      if (t.text === "diff") throw new Unavailable(`the CAS gave up: it returned ${text}`);
      if (!isFormulaFunction(t.text))
        throw new Unavailable(
          `the CAS answered with the function '${t.text}', which gradtrio does not read`,
        );
      k++;
      const arg = sum();
      if (isOp(",")) throw new Unavailable(`'${t.text}' with several arguments in "${text}"`);
      expect(")");
      return ffn(t.text, arg);
    }
    const f = resolve(t.text);
    if (f === undefined)
      throw new Unavailable(`the CAS answer names '${t.text}', which is not an input`);
    return f;
  };

  if (toks.length === 0) throw new Unavailable("the CAS returned nothing");
  const out = sum();
  if (k !== toks.length) throw new Unavailable(`unexpected '${toks[k]!.text}' in "${text}"`);
  return out;
}
