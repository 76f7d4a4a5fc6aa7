/**
 * Formulas for people: plain text as a textbook writes it (`2*x*cos(x^2)`: coefficient first,
 * then variables, then functions; negative powers as a denominator) and LaTeX
 * (`2 x \cos\left(x^{2}\right)`).
 */
import type { Formula } from "./formula.ts";

/** How a leaf symbol is shown, and its rank (variables sort by rank inside a product). */
export interface SymbolNames {
  plain(name: string): string;
  latex(name: string): string;
  rank?(name: string): number;
}

export const IDENTITY_NAMES: SymbolNames = {
  plain: (n) => n,
  latex: (n) => latexName(n),
};

/** LaTeX for an identifier: `x`, `x_{1}`, `\mathrm{name}`. */
export function latexName(n: string): string {
  if (/^[A-Za-z]$/.test(n)) return n;
  const m = /^([A-Za-z])_?(\d+)$/.exec(n);
  if (m) return `${m[1]}_{${m[2]}}`;
  return `\\mathrm{${n.replace(/_/g, "\\_")}}`;
}

type Num = Formula & { kind: "num" };
const isNum = (f: Formula): f is Num => f.kind === "num";
const negNum = (f: Num): Num =>
  (f.ratio
    ? { kind: "num", value: -f.value, ratio: [-f.ratio[0], f.ratio[1]] }
    : { kind: "num", value: -f.value }) as Num;

/** A term of a sum split into its sign and magnitude. */
function splitSign(f: Formula): { negative: boolean; abs: Formula } {
  if (isNum(f) && f.value < 0) return { negative: true, abs: negNum(f) };
  if (f.kind === "mul" && isNum(f.args[0]!) && f.args[0].value < 0) {
    const c = negNum(f.args[0]);
    const rest = f.args.slice(1);
    const abs: Formula =
      c.value === 1
        ? rest.length === 1
          ? rest[0]!
          : { kind: "mul", args: rest }
        : { ...f, args: [c, ...rest] };
    return { negative: true, abs };
  }
  return { negative: false, abs: f };
}

/** Numerator and denominator factors of a product, coefficient split out. */
function splitFraction(
  f: Formula,
  names: SymbolNames,
): { negative: boolean; coef: Num | undefined; num: Formula[]; den: Formula[] } {
  const factors = f.kind === "mul" ? f.args : [f];
  let coef: Num | undefined;
  const num: Formula[] = [];
  const den: Formula[] = [];
  for (const g of factors) {
    if (isNum(g)) {
      coef = coef ? ({ kind: "num", value: coef.value * g.value } as Num) : g;
    } else if (g.kind === "pow" && isNum(g.exp) && g.exp.value < 0) {
      const e = negNum(g.exp);
      den.push(e.value === 1 ? g.base : { kind: "pow", base: g.base, exp: e });
    } else num.push(g);
  }
  let negative = false;
  if (coef && coef.value < 0) {
    negative = true;
    coef = negNum(coef);
  }
  const rank = (g: Formula): number => {
    const leaf = g.kind === "pow" ? g.base : g;
    // Plain symbols, then powers of symbols: y*x^(y-1).
    if (leaf.kind === "sym")
      return 1 + (g.kind === "pow" ? 0.5 : 0) + (names.rank?.(leaf.name) ?? 0) / 1e6;
    if (leaf.kind === "const") return 0.5;
    return 3;
  };
  const order = (xs: Formula[]): Formula[] =>
    xs
      .map((g, i) => ({ g, i, r: rank(g) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.g);
  return { negative, coef, num: order(num), den: order(den) };
}

const numText = (v: number): string => {
  if (Object.is(v, -0)) return "0";
  return String(v);
};

// Precedence: 1 sum, 2 product/quotient/unary minus, 3 power, 4 atom.
export function toPlain(f: Formula, names: SymbolNames = IDENTITY_NAMES): string {
  return plain(f, names).text;
}

function plain(f: Formula, names: SymbolNames): { text: string; prec: number } {
  switch (f.kind) {
    case "num": {
      if (f.ratio && f.ratio[1] !== 1) {
        const t = `${f.ratio[0]}/${f.ratio[1]}`;
        return { text: t, prec: 2 };
      }
      return { text: numText(f.value), prec: f.value < 0 ? 2 : 4 };
    }
    case "sym":
      return { text: names.plain(f.name), prec: 4 };
    case "const":
      return { text: f.name, prec: 4 };
    case "fn":
      if (f.name === "exp") return { text: `exp(${plain(f.arg, names).text})`, prec: 4 };
      return { text: `${f.name}(${plain(f.arg, names).text})`, prec: 4 };
    case "display":
      return { text: `${f.name}(${f.args.map((a) => plain(a, names).text).join(", ")})`, prec: 4 };
    case "add": {
      const terms = orderTerms(f.args);
      let out = "";
      terms.forEach((t, i) => {
        const { negative, abs } = splitSign(t);
        const s = wrap(plain(abs, names), 2);
        out += i === 0 ? (negative ? `-${s}` : s) : negative ? `-${s}` : `+${s}`;
      });
      return { text: out, prec: 1 };
    }
    case "pow": {
      if (isNum(f.exp) && f.exp.value < 0) return plainProduct(f, names);
      if (isNum(f.exp) && f.exp.value === 0.5)
        return { text: `sqrt(${plain(f.base, names).text})`, prec: 4 };
      const base = wrap(plain(f.base, names), 4, true);
      const e = plain(f.exp, names);
      const simpleExp = e.prec === 4 && !(isNum(f.exp) && f.exp.ratio && f.exp.ratio[1] !== 1);
      return { text: `${base}^${simpleExp ? e.text : `(${e.text})`}`, prec: 3 };
    }
    case "mul":
      return plainProduct(f, names);
  }
}

function plainProduct(f: Formula, names: SymbolNames): { text: string; prec: number } {
  const { negative, coef, num, den } = splitFraction(f, names);
  const top: string[] = [];
  const bottom: string[] = [];
  if (coef) {
    if (coef.ratio) {
      if (coef.ratio[0] !== 1) top.push(String(coef.ratio[0]));
      if (coef.ratio[1] !== 1) bottom.push(String(coef.ratio[1]));
    } else if (coef.value !== 1) top.push(numText(coef.value));
  }
  for (const g of num) top.push(wrap(plain(g, names), 2));
  for (const g of den) bottom.push(wrap(plain(g, names), 2));
  let text = top.length === 0 ? "1" : top.join("*");
  // A lone denominator needs parentheses unless it is an atom or a power: x/3, 1/x^2, x/(x^2+1).
  if (bottom.length === 1) {
    const lone = den.length === 1 ? plain(den[0]!, names) : { text: bottom[0]!, prec: 4 };
    text += `/${lone.prec >= 3 ? lone.text : `(${lone.text})`}`;
  } else if (bottom.length > 1) text += `/(${bottom.join("*")})`;
  return { text: negative ? `-${text}` : text, prec: 2 };
}

// Terms with variables first, a bare number last: `x^2+1`, as a textbook writes it.
// A sum starts with a positive term when it has one: `1-y`, `x^3-2*x`.
function orderTerms(args: readonly Formula[]): Formula[] {
  const numbers = args.filter(isNum);
  const terms = [...args.filter((a) => !isNum(a)), ...numbers];
  const firstPositive = terms.findIndex((t) => !splitSign(t).negative);
  if (firstPositive > 0) terms.unshift(...terms.splice(firstPositive, 1));
  return terms;
}

function wrap(p: { text: string; prec: number }, need: number, strict = false): string {
  return p.prec < need || (strict && p.prec === need && p.text.startsWith("-"))
    ? `(${p.text})`
    : p.text;
}

const LATEX_FN: Record<string, string> = {
  sin: "\\sin",
  cos: "\\cos",
  tan: "\\tan",
  sec: "\\sec",
  csc: "\\csc",
  cot: "\\cot",
  sinh: "\\sinh",
  cosh: "\\cosh",
  tanh: "\\tanh",
  coth: "\\coth",
  asin: "\\arcsin",
  acos: "\\arccos",
  atan: "\\arctan",
  erf: "\\operatorname{erf}",
  sech: "\\operatorname{sech}",
  csch: "\\operatorname{csch}",
  log: "\\log",
  log1p: "\\operatorname{log1p}",
  expm1: "\\operatorname{expm1}",
  sign: "\\operatorname{sign}",
};

export function toLatex(f: Formula, names: SymbolNames = IDENTITY_NAMES): string {
  return latex(f, names).text;
}

function latex(f: Formula, names: SymbolNames): { text: string; prec: number } {
  switch (f.kind) {
    case "num":
      if (f.ratio && f.ratio[1] !== 1) {
        const s = f.ratio[0] < 0 ? "-" : "";
        return { text: `${s}\\frac{${Math.abs(f.ratio[0])}}{${f.ratio[1]}}`, prec: s ? 2 : 4 };
      }
      return { text: latexNumber(f.value), prec: f.value < 0 ? 2 : 4 };
    case "sym":
      return { text: names.latex(f.name), prec: 4 };
    case "const":
      return { text: f.name === "pi" ? "\\pi" : "e", prec: 4 };
    case "fn": {
      const a = latex(f.arg, names).text;
      if (f.name === "exp") return { text: `e^{${a}}`, prec: 3 };
      if (f.name === "sqrt") return { text: `\\sqrt{${a}}`, prec: 4 };
      if (f.name === "abs") return { text: `\\left|${a}\\right|`, prec: 4 };
      return { text: `${LATEX_FN[f.name]}\\left(${a}\\right)`, prec: 4 };
    }
    case "display":
      return {
        text: `\\operatorname{${f.name}}\\left(${f.args.map((a) => latex(a, names).text).join(", ")}\\right)`,
        prec: 4,
      };
    case "add": {
      let out = "";
      orderTerms(f.args).forEach((t, i) => {
        const { negative, abs } = splitSign(t);
        const s = latexWrap(latex(abs, names), 2);
        out += i === 0 ? (negative ? `-${s}` : s) : negative ? ` - ${s}` : ` + ${s}`;
      });
      return { text: out, prec: 1 };
    }
    case "pow": {
      if (isNum(f.exp) && f.exp.value < 0) return latexProduct(f, names);
      if (isNum(f.exp) && f.exp.value === 0.5)
        return { text: `\\sqrt{${latex(f.base, names).text}}`, prec: 4 };
      const b = latex(f.base, names);
      const base = b.prec < 4 || f.base.kind === "fn" ? `\\left(${b.text}\\right)` : b.text;
      return { text: `${base}^{${latex(f.exp, names).text}}`, prec: 3 };
    }
    case "mul":
      return latexProduct(f, names);
  }
}

function latexNumber(v: number): string {
  const s = numText(v);
  const m = /^(-?[\d.]+)e([+-]\d+)$/.exec(s);
  return m ? `${m[1]} \\cdot 10^{${Number(m[2])}}` : s;
}

function latexProduct(f: Formula, names: SymbolNames): { text: string; prec: number } {
  const { negative, coef, num, den } = splitFraction(f, names);
  const top: string[] = [];
  const bottom: string[] = [];
  if (coef) {
    if (coef.ratio) {
      if (coef.ratio[0] !== 1) top.push(String(coef.ratio[0]));
      if (coef.ratio[1] !== 1) bottom.push(String(coef.ratio[1]));
    } else if (coef.value !== 1) top.push(latexNumber(coef.value));
  }
  // Inside \frac a lone factor needs no parentheses: \frac{2 x}{x^{2} + 1}.
  const fraction = den.length > 0 || (coef?.ratio !== undefined && coef.ratio[1] !== 1);
  const alone = (xs: Formula[], others: number): boolean =>
    xs.length === 1 && others === 0 && (fraction || !negative);
  const topAlone = alone(num, top.length);
  for (const g of num) top.push(topAlone ? latex(g, names).text : latexWrap(latex(g, names), 2));
  const bottomAlone = alone(den, bottom.length);
  for (const g of den)
    bottom.push(bottomAlone ? latex(g, names).text : latexWrap(latex(g, names), 2));
  const join = (xs: string[]): string =>
    xs.reduce(
      (acc, s, i) => (i === 0 ? s : `${acc}${/^[\d.]/.test(s) ? " \\cdot " : " "}${s}`),
      "",
    );
  let text = top.length === 0 ? "1" : join(top);
  if (bottom.length > 0) text = `\\frac{${text}}{${join(bottom)}}`;
  return { text: negative ? `-${text}` : text, prec: 2 };
}

function latexWrap(p: { text: string; prec: number }, need: number): string {
  return p.prec < need ? `\\left(${p.text}\\right)` : p.text;
}
