/**
 * The parser of the expression language (grammar in docs/DESIGN.md), precedence from loose to tight:
 *
 *   program := (name "=" expr ";")* expr    named intermediates, then the output
 *   expr  := term (("+" | "-") term)*
 *   term  := unary (("*" | "/") unary)*
 *   unary := ("-" | "+")* power            -x^2 is -(x^2)
 *   power := primary ("^" unary)?          right-associative: 2^-x is 2^(-x)
 *   primary := number | name | name "(" args ")" | "(" expr ")"
 *
 * Prefix signs and `^` chains are parsed with loops, and a pre-pass bounds the parenthesis depth
 * at MAX_DEPTH, so no input can overflow the stack. No constant folding: the tree is as written.
 *
 * A bound name is bound once, before it is used; each use of it is the very node of its binding
 * (the tree becomes a DAG, computed once, as PyTorch records `z = w*x+b` once however often `z`
 * is used).
 */
import { GradtrioError } from "../errors.ts";
import { type CallExpr, call, constant, type Expr, num, variable } from "./ast.ts";
import {
  arityOf,
  BUILTIN_OPS,
  customOpNames,
  INFIX_OPS,
  isBuiltinOp,
  isConstant,
  lookupCustomOp,
} from "./ops.ts";
import { didYouMean } from "./suggest.ts";
import { type Token, tokenize } from "./tokenize.ts";

/** The deepest nesting of parentheses (grouping or calls) the parser accepts. */
export const MAX_DEPTH = 1000;

/** A named intermediate `name = expr`: `expr` is the node every use of `name` refers to. */
export interface Binding {
  readonly name: string;
  readonly expr: Expr;
  /** Offset of the name in the source. */
  readonly pos?: number;
}

/** A parsed text: its bindings in the order written, and the output (the last part). */
export interface Program {
  readonly output: Expr;
  readonly bindings: readonly Binding[];
}

/**
 * Parses an expression into an `Expr` (the output; bindings are folded in as shared nodes);
 * every node carries the offset of its token (`pos`). Throws a `GradtrioError` (PARSE,
 * UNBALANCED, TOO_DEEP, UNKNOWN_FUNCTION or ARITY) whose `format()` shows a caret under the
 * offending position.
 *
 * @example
 * ```ts
 * parse("-x^2"); // neg(pow(x, 2))
 * parse("clamp(sigmoid(z), 1e-8, 1-1e-8)");
 * parse("z = w*x+b; sigmoid(z)*z"); // both operands of mul are the one node add(mul(w, x), b)
 * ```
 */
export function parse(source: string): Expr {
  return parseProgram(source).output;
}

/**
 * Parses a text with named intermediates, `z = w*x+b; p = sigmoid(z); bce(p, y)`: the output
 * `Expr` (as `parse` gives it) and the bindings, so that a view can name their nodes. A name is
 * bound once, before any use, and cannot be a function or a constant; an unused binding is fine.
 *
 * @example
 * ```ts
 * const { output, bindings } = parseProgram("z = w*x+b; sigmoid(z)");
 * bindings[0].name; // "z"
 * (output as CallExpr).args[0] === bindings[0].expr; // true
 * ```
 */
export function parseProgram(source: string): Program {
  if (typeof source !== "string")
    throw new GradtrioError("INVALID_ARGUMENT", "parse: expected the expression as a string");
  const tokens = tokenize(source);
  if (tokens.length === 1) throw new GradtrioError("PARSE", "empty expression", { pos: 0, source });
  checkParentheses(tokens, source);
  return new Parser(tokens, source).parseAll();
}

/** Reports an unmatched parenthesis, or nesting beyond MAX_DEPTH, before any recursion. */
function checkParentheses(tokens: readonly Token[], source: string): void {
  const open: number[] = [];
  let tooDeep: number | undefined;
  for (const t of tokens) {
    if (t.kind === "lparen") {
      open.push(t.pos);
      if (open.length > MAX_DEPTH && tooDeep === undefined) tooDeep = t.pos;
    } else if (t.kind === "rparen") {
      if (open.pop() === undefined)
        throw new GradtrioError("UNBALANCED", "unbalanced parenthesis: this ')' has no '('", {
          pos: t.pos,
          source,
        });
    }
  }
  // The innermost unclosed '(' is the one a reader closes first.
  if (open.length > 0)
    throw new GradtrioError("UNBALANCED", "unbalanced parenthesis: this '(' is never closed", {
      pos: open[open.length - 1]!,
      source,
    });
  if (tooDeep !== undefined)
    throw new GradtrioError(
      "TOO_DEEP",
      `expression nested too deeply (more than ${MAX_DEPTH} levels of parentheses)`,
      { pos: tooDeep, source },
    );
}

/** Other names of the language's functions (NumPy's, mathematics'), for "did you mean". */
const ALIASES: Readonly<Record<string, string>> = {
  ln: "log",
  arcsin: "asin",
  arccos: "acos",
  arctan: "atan",
  power: "pow",
  clip: "clamp",
  logistic: "sigmoid",
  expit: "sigmoid",
  average: "mean",
  binary_cross_entropy: "bce",
  dot: "matmul",
  mm: "matmul",
};

/**
 * The reductions whose two-argument form in NumPy and PyTorch (`torch.max(a, b)`) is another op
 * here: the hint names it.
 */
const PAIRWISE_HINT: Readonly<Record<string, (given: number) => string>> = {
  max: (n) => (n === 2 ? "; the elementwise maximum of two is maximum(a, b)" : ""),
  min: (n) => (n === 2 ? "; the elementwise minimum of two is minimum(a, b)" : ""),
};

class Parser {
  private i = 0;
  /** Bound names and their nodes. */
  private readonly bound = new Map<string, Binding>();
  /** Free variables and the offset of their first use (a later binding of one is an error). */
  private readonly uses = new Map<string, number>();

  constructor(
    private readonly tokens: readonly Token[],
    private readonly source: string,
  ) {}

  parseAll(): Program {
    while (this.peek().kind === "name" && this.tokens[this.i + 1]!.kind === "assign")
      this.binding();
    if (this.peek().kind === "end")
      throw this.error(
        "PARSE",
        "expected the output expression after the last ';'",
        this.peek().pos,
      );
    const output = this.expr();
    const t = this.peek();
    if (t.kind === "semicolon")
      throw this.error(
        "PARSE",
        "';' ends a binding NAME = EXPR; the output expression comes last, with no ';' after it",
        t.pos,
      );
    if (t.kind !== "end") throw this.unexpected(t, "expected an operator or the end");
    return { output, bindings: [...this.bound.values()] };
  }

  /** `name = expr ;` */
  private binding(): void {
    const t = this.next();
    const name = t.text;
    this.next(); // '='
    if (isConstant(name))
      throw this.error("PARSE", `'${name}' is a constant; bind another name`, t.pos);
    if (isBuiltinOp(name) || lookupCustomOp(name) !== undefined)
      throw this.error("PARSE", `'${name}' is a function; bind another name`, t.pos);
    const first = this.bound.get(name);
    if (first !== undefined)
      throw this.error(
        "PARSE",
        `'${name}' is bound twice (first at offset ${first.pos}); a name is bound once`,
        t.pos,
      );
    const expr = this.expr();
    const used = this.uses.get(name);
    if (used !== undefined)
      throw this.error(
        "PARSE",
        used > t.pos
          ? `'${name}' is used in its own binding; bind a new name (e.g. ${name}2 = …)`
          : `'${name}' is used before its binding '${name} = …' at offset ${t.pos}; bind a name before using it`,
        used,
      );
    const end = this.peek();
    if (end.kind === "end")
      throw this.error(
        "PARSE",
        `'${name} = …' is a binding; the output expression must come last (add '; EXPR')`,
        t.pos,
      );
    if (end.kind !== "semicolon") throw this.unexpected(end, "expected an operator or ';'");
    this.next();
    this.bound.set(name, { name, expr, pos: t.pos });
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === "op" && t.text === text;
  }

  private error(code: "PARSE" | "UNKNOWN_FUNCTION" | "ARITY", message: string, pos: number) {
    return new GradtrioError(code, message, { pos, source: this.source });
  }

  private unexpected(t: Token, expected: string): GradtrioError {
    if (t.kind === "end")
      return this.error("PARSE", `unexpected end of expression; ${expected}`, t.pos);
    const prev = this.tokens[this.i - 1];
    const juxtaposed =
      prev !== undefined &&
      (prev.kind === "num" || prev.kind === "name" || prev.kind === "rparen") &&
      (t.kind === "num" || t.kind === "name" || t.kind === "lparen");
    const hint = juxtaposed
      ? " (missing '*'?)"
      : t.kind === "assign"
        ? " (a named intermediate is written 'NAME = EXPR;' before the output)"
        : "";
    return this.error("PARSE", `unexpected '${t.text}'; ${expected}${hint}`, t.pos);
  }

  private expr(): Expr {
    let left = this.term();
    while (this.isOp("+") || this.isOp("-")) {
      const op = this.next();
      left = call(INFIX_OPS[op.text as "+" | "-"], [left, this.term()], op.pos);
    }
    return left;
  }

  private term(): Expr {
    let left = this.unary();
    while (this.isOp("*") || this.isOp("/")) {
      const op = this.next();
      left = call(INFIX_OPS[op.text as "*" | "/"], [left, this.unary()], op.pos);
    }
    return left;
  }

  /** Prefix signs, then a `^` chain; each exponent may carry its own prefix signs. */
  private unary(): Expr {
    const signs = this.prefixSigns();
    const bases: Expr[] = [this.primary()];
    const exponentSigns: number[][] = [];
    const carets: number[] = [];
    while (this.isOp("^")) {
      carets.push(this.next().pos);
      exponentSigns.push(this.prefixSigns());
      bases.push(this.primary());
    }
    // Fold right to left: a^-b^c is a^(-(b^c)).
    let acc = bases[bases.length - 1]!;
    for (let k = bases.length - 2; k >= 0; k--)
      acc = call("pow", [bases[k]!, negate(acc, exponentSigns[k]!)], carets[k]);
    return negate(acc, signs);
  }

  /** Positions of the `-` signs in a run of prefix signs; unary `+` is dropped. */
  private prefixSigns(): number[] {
    const minus: number[] = [];
    while (this.isOp("-") || this.isOp("+")) {
      const t = this.next();
      if (t.text === "-") minus.push(t.pos);
    }
    return minus;
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.kind) {
      case "num":
        return num(t.value!, t.pos);
      case "lparen": {
        if (this.peek().kind === "rparen")
          throw this.error("PARSE", "empty parentheses; expected an expression", this.peek().pos);
        const e = this.expr();
        this.expectClose(t);
        return e;
      }
      case "name":
        return this.peek().kind === "lparen" ? this.call(t) : this.name(t);
      default:
        this.i--;
        throw this.unexpected(t, "expected a number, a name or '('");
    }
  }

  private name(t: Token): Expr {
    const name = t.text;
    const binding = this.bound.get(name);
    if (binding !== undefined) return binding.expr;
    if (isConstant(name)) return constant(name, t.pos);
    if (isBuiltinOp(name) || lookupCustomOp(name) !== undefined)
      throw this.error("PARSE", `'${name}' is a function; call it as ${name}(…)`, t.pos);
    if (!this.uses.has(name)) this.uses.set(name, t.pos);
    return variable(name, t.pos);
  }

  private call(t: Token): CallExpr {
    const name = t.text;
    const open = this.next();
    if (isConstant(name))
      throw this.error("UNKNOWN_FUNCTION", `'${name}' is a constant, not a function`, t.pos);
    const arity = arityOf(name);
    if (arity === undefined) {
      const alias = Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
      const guess =
        alias !== undefined && arityOf(alias) !== undefined
          ? alias
          : didYouMean(name, [...Object.keys(BUILTIN_OPS), ...customOpNames()]);
      const hint =
        guess === undefined
          ? ""
          : `; did you mean '${guess}'?${name === "ln" ? " (log is the natural logarithm)" : ""}`;
      throw this.error("UNKNOWN_FUNCTION", `unknown function '${name}'${hint}`, t.pos);
    }
    const args: Expr[] = [];
    if (this.peek().kind !== "rparen") {
      args.push(this.expr());
      while (this.peek().kind === "comma") {
        this.next();
        args.push(this.expr());
      }
    }
    this.expectClose(open, true);
    if (args.length !== arity)
      throw this.error(
        "ARITY",
        `${name} takes ${arity} argument${arity === 1 ? "" : "s"}, got ${args.length}${PAIRWISE_HINT[name]?.(args.length) ?? ""}`,
        t.pos,
      );
    return call(name, args, t.pos);
  }

  private expectClose(open: Token, inCall = false): void {
    const t = this.peek();
    if (t.kind === "rparen") {
      this.i++;
      return;
    }
    const want = inCall ? "',' or ')'" : "')'";
    throw this.unexpected(t, `expected ${want} to close the '(' at offset ${open.pos}`);
  }
}

function negate(e: Expr, minusPositions: readonly number[]): Expr {
  for (let k = minusPositions.length - 1; k >= 0; k--) e = call("neg", [e], minusPositions[k]);
  return e;
}
