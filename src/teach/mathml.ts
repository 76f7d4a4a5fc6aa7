/**
 * LaTeX → MathML for the formulas gradtrio itself writes (src/symbolic/print.ts's `toLatex`, the
 * rules' masks, the chain rule's steps), so the teach page shows them as math with no network and
 * no fonts: browsers render MathML Core natively. A small subset of LaTeX, by design: fractions,
 * roots, sub- and superscripts, `\left…\right` fences, the function names and symbols gradtrio
 * prints. An unknown command is shown as its name, never an error.
 *
 * Pure: no DOM, the result is markup (text escaped).
 */

/** Symbols: a command → the operator or identifier it stands for. */
const OPERATORS: Readonly<Record<string, string>> = {
  cdot: "⋅",
  times: "×",
  le: "≤",
  ge: "≥",
  leq: "≤",
  geq: "≥",
  ne: "≠",
  mapsto: "↦",
  odot: "⊙",
  sum: "∑",
  to: "→",
  pm: "±",
};
const IDENTIFIERS: Readonly<Record<string, string>> = {
  partial: "∂",
  pi: "π",
  top: "⊤",
  sigma: "σ",
  varepsilon: "ε",
  epsilon: "ϵ",
};
const FUNCTIONS = new Set([
  ...["sin", "cos", "tan", "sec", "csc", "cot", "sinh", "cosh", "tanh", "coth"],
  ...["arcsin", "arccos", "arctan", "log", "ln", "exp", "max", "min"],
]);
/** Commands that only set a style or a space: dropped. */
const IGNORED = new Set(["textstyle", "displaystyle", ",", ";", ":", "!", "quad", " "]);
/** Blackboard bold, the indicator 𝟙 of a mask. */
const DOUBLE_STRUCK: Readonly<Record<string, string>> = { "1": "𝟙", R: "ℝ", N: "ℕ" };

/** Text safe in HTML (and MathML) markup: & < > " escaped. */
export const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

const mi = (s: string, normal = false) =>
  `<mi${normal || [...s].length > 1 ? ' mathvariant="normal"' : ""}>${escapeHtml(s)}</mi>`;
const mo = (s: string, attrs = "") => `<mo${attrs}>${escapeHtml(s)}</mo>`;
const mn = (s: string) => `<mn>${escapeHtml(s)}</mn>`;
const row = (items: readonly string[]) =>
  items.length === 1 ? items[0]! : `<mrow>${items.join("")}</mrow>`;

/**
 * `<math>` markup for `latex`.
 * @example toMathML("\\frac{1}{x}") // '<math><mfrac><mn>1</mn><mi>x</mi></mfrac></math>'
 */
export function toMathML(latex: string, display: "block" | "inline" = "inline"): string {
  const p = new Parser(latex);
  const body = p.sequence(null);
  return `<math${display === "block" ? ' display="block"' : ""}>${row(body)}</math>`;
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  /** Items up to `end` ("}" or a `\right`), or the end of the text. */
  sequence(end: "}" | "right" | null): string[] {
    const items: string[] = [];
    for (;;) {
      this.skipSpace();
      if (this.i >= this.s.length) return items;
      const ch = this.s[this.i]!;
      if (end === "}" && ch === "}") {
        this.i++;
        return items;
      }
      if (end === "right" && this.s.startsWith("\\right", this.i)) return items;
      if (ch === "^" || ch === "_") {
        this.i++;
        const arg = row(this.argument());
        const base = items.pop() ?? "<mrow></mrow>";
        items.push(this.script(base, ch, arg));
        continue;
      }
      const atom = this.atom();
      if (atom !== null) items.push(atom);
    }
  }

  /** base with a sub- or superscript (`x_1^2` nests: msup around msub). */
  private script(base: string, kind: "^" | "_", arg: string): string {
    return kind === "^" ? `<msup>${base}${arg}</msup>` : `<msub>${base}${arg}</msub>`;
  }

  /** A braced group or a single token, as items. */
  private argument(): string[] {
    this.skipSpace();
    if (this.s[this.i] === "{") {
      this.i++;
      return this.sequence("}");
    }
    const a = this.atom();
    return a === null ? [] : [a];
  }

  private group(): string {
    return row(this.argument());
  }

  private atom(): string | null {
    const s = this.s;
    const ch = s[this.i]!;
    if (ch === "{") {
      this.i++;
      return row(this.sequence("}"));
    }
    if (ch === "}") {
      this.i++; // unbalanced: dropped
      return null;
    }
    if (ch === "\\") return this.command();
    // A number as gradtrio prints it, an exponent included (1e-8).
    const number = /^\d+(?:\.\d+)?(?:e[-+]?\d+)?/.exec(s.slice(this.i));
    if (number !== null) {
      this.i += number[0].length;
      return mn(number[0]);
    }
    this.i++;
    if (/[A-Za-z]/.test(ch)) return mi(ch);
    if (ch === "-") return mo("−");
    if (ch === "'") return mo("′");
    return mo(ch);
  }

  private command(): string | null {
    const m = /^\\([A-Za-z]+|.)/.exec(this.s.slice(this.i));
    if (m === null) {
      this.i++;
      return mo("\\");
    }
    this.i += m[0].length;
    const name = m[1]!;
    if (IGNORED.has(name)) return null;
    if (name === "frac") {
      const num = this.group();
      const den = this.group();
      return `<mfrac>${num}${den}</mfrac>`;
    }
    if (name === "sqrt") return `<msqrt>${this.group()}</msqrt>`;
    if (name === "left") {
      const open = this.delimiter();
      const inner = this.sequence("right");
      let close = "";
      if (this.s.startsWith("\\right", this.i)) {
        this.i += "\\right".length;
        close = this.delimiter();
      }
      const fence = (d: string) => (d === "" ? [] : [mo(d, ' fence="true" stretchy="true"')]);
      return `<mrow>${[...fence(open), row(inner), ...fence(close)].join("")}</mrow>`;
    }
    if (name === "operatorname" || name === "mathrm" || name === "text")
      return mi(this.rawGroup(), true);
    if (name === "mathbb") {
      const t = this.rawGroup();
      return mi(DOUBLE_STRUCK[t] ?? t, true);
    }
    if (name in OPERATORS) return mo(OPERATORS[name]!);
    if (name in IDENTIFIERS) return mi(IDENTIFIERS[name]!);
    if (FUNCTIONS.has(name)) return mi(name, true);
    if (name.length === 1) return mo(name); // \_ \{ \} \|
    return mi(name, true);
  }

  /** The delimiter after \left or \right: "(", "|", "[", or "." for none. */
  private delimiter(): string {
    this.skipSpace();
    if (this.s[this.i] === "\\") {
      const m = /^\\([A-Za-z]+|.)/.exec(this.s.slice(this.i))!;
      this.i += m[0].length;
      return m[1] === "{" ? "{" : m[1] === "}" ? "}" : m[1] === "|" ? "‖" : "";
    }
    const d = this.s[this.i] ?? "";
    this.i++;
    return d === "." ? "" : d;
  }

  /** A braced group's text as written (`\operatorname{erf}`), `\_` read as `_`. */
  private rawGroup(): string {
    this.skipSpace();
    if (this.s[this.i] !== "{") return this.s[this.i++] ?? "";
    let depth = 0;
    let out = "";
    for (; this.i < this.s.length; this.i++) {
      const ch = this.s[this.i]!;
      if (ch === "{" && depth++ === 0) continue;
      if (ch === "}" && --depth === 0) {
        this.i++;
        break;
      }
      if (ch === "\\" && this.i + 1 < this.s.length) out += this.s[++this.i]!;
      else out += ch;
    }
    return out;
  }

  private skipSpace(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }
}
