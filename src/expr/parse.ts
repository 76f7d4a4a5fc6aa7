/**
 * The parser of the expression language (grammar in docs/DESIGN.md), precedence from loose to tight:
 *
 *   expr  := term (("+" | "-") term)*
 *   term  := unary (("*" | "/") unary)*
 *   unary := ("-" | "+")* power            -x^2 is -(x^2)
 *   power := primary ("^" unary)?          right-associative: 2^-x is 2^(-x)
 *   primary := number | name | name "(" args ")" | "(" expr ")"
 *
 * Prefix signs and `^` chains are parsed with loops, and a pre-pass bounds the parenthesis depth
 * at MAX_DEPTH, so no input can overflow the stack. No constant folding: the tree is as written.
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

/**
 * Parses an expression into an `Expr`; every node carries the offset of its token (`pos`).
 * Throws a `GradtrioError` (PARSE, UNBALANCED, TOO_DEEP, UNKNOWN_FUNCTION or ARITY) whose
 * `format()` shows a caret under the offending position.
 *
 * @example
 * ```ts
 * parse("-x^2"); // neg(pow(x, 2))
 * parse("clamp(sigmoid(z), 1e-8, 1-1e-8)");
 * ```
 */
export function parse(source: string): Expr {
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

class Parser {
  private i = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly source: string,
  ) {}

  parseAll(): Expr {
    const e = this.expr();
    const t = this.peek();
    if (t.kind !== "end") throw this.unexpected(t, "expected an operator or the end");
    return e;
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
    const hint = juxtaposed ? " (missing '*'?)" : "";
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
    if (isConstant(name)) return constant(name, t.pos);
    if (isBuiltinOp(name) || lookupCustomOp(name) !== undefined)
      throw this.error("PARSE", `'${name}' is a function; call it as ${name}(…)`, t.pos);
    return variable(name, t.pos);
  }

  private call(t: Token): CallExpr {
    const name = t.text;
    const open = this.next();
    if (isConstant(name))
      throw this.error("UNKNOWN_FUNCTION", `'${name}' is a constant, not a function`, t.pos);
    const arity = arityOf(name);
    if (arity === undefined) {
      const guess = didYouMean(name, [...Object.keys(BUILTIN_OPS), ...customOpNames()]);
      const hint = guess === undefined ? "" : `; did you mean '${guess}'?`;
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
        `${name} takes ${arity} argument${arity === 1 ? "" : "s"}, got ${args.length}`,
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
