/**
 * The printer: an `Expr` back to the expression language with as few parentheses as the grammar
 * allows, so that `parse(print(e))` equals `e` for every tree the parser can produce.
 * Iterative (an explicit stack of pieces), so a traced chain 10^5 deep prints without overflow.
 */
import type { Expr } from "./ast.ts";
import type { Program } from "./parse.ts";

// Binding strength of what a node prints as; an operand weaker than its slot needs parentheses.
const SUM = 1; // a + b, a - b (left-associative)
const PRODUCT = 2; // a * b, a / b (left-associative)
const UNARY = 3; // -a, and a ^ b (right-associative; the exponent is a unary)
const ATOM = 4; // numbers, names, calls, anything in parentheses

const BINARY: Record<string, { text: string; prec: number; left: number; right: number }> = {
  add: { text: " + ", prec: SUM, left: SUM, right: PRODUCT },
  sub: { text: " - ", prec: SUM, left: SUM, right: PRODUCT },
  mul: { text: "*", prec: PRODUCT, left: PRODUCT, right: UNARY },
  div: { text: "/", prec: PRODUCT, left: PRODUCT, right: UNARY },
  pow: { text: "^", prec: UNARY, left: ATOM, right: UNARY },
};

/**
 * Prints an expression as text the parser reads back. `pow` prints as `^`, `neg` as a prefix
 * `-`; numbers use JavaScript's shortest round-trip form (`1e-8`). A negative literal (which only
 * tracing produces) prints as `(-3)`, a non-finite one as `(1/0)`, `(-1/0)` or `(0/0)`.
 *
 * @example
 * ```ts
 * print(parse("(-x)^2 + -(x^2)")); // "(-x)^2 + -x^2"
 * ```
 */
export function print(expr: Expr, names?: ReadonlyMap<Expr, string>): string {
  const out: string[] = [];
  // Each item is either text to emit or a node to print in a slot needing at least `min`.
  const stack: (string | { e: Expr; min: number })[] = [{ e: expr, min: SUM }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === "string") {
      out.push(item);
      continue;
    }
    const { e, min } = item;
    // A named node below the root prints as its name (the root is what is being printed).
    const name = e === expr ? undefined : names?.get(e);
    if (name !== undefined) {
      out.push(name);
      continue;
    }
    const parts = pieces(e);
    const wrap = precedence(e) < min;
    if (wrap) stack.push(")");
    for (let k = parts.length - 1; k >= 0; k--) stack.push(parts[k]!);
    if (wrap) stack.push("(");
  }
  return out.join("");
}

/**
 * Prints a program with its named intermediates, `z = w*x + b; sigmoid(z)`: each use of a bound
 * node prints as its name, so the text parses back to the same DAG.
 *
 * @example
 * ```ts
 * printProgram(parseProgram("z=w*x+b;p=sigmoid(z);bce(p,y)")); // "z = w*x + b; p = sigmoid(z); bce(p, y)"
 * ```
 */
export function printProgram(program: Program): string {
  const names = new Map<Expr, string>();
  const parts: string[] = [];
  for (const { name, expr } of program.bindings) {
    // An alias of an earlier binding (`b = a`, or an output that is a bound name) prints as it.
    parts.push(`${name} = ${names.get(expr) ?? print(expr, names)}`);
    names.set(expr, name);
  }
  parts.push(names.get(program.output) ?? print(program.output, names));
  return parts.join("; ");
}

function precedence(e: Expr): number {
  if (e.kind !== "call") return ATOM;
  if (e.op === "neg" && e.args.length === 1) return UNARY;
  const b = BINARY[e.op];
  return b !== undefined && e.args.length === 2 ? b.prec : ATOM;
}

/** What a node prints as, left to right: text, and its operands with the slot each sits in. */
function pieces(e: Expr): (string | { e: Expr; min: number })[] {
  switch (e.kind) {
    case "num":
      return [formatNumber(e.value)];
    case "var":
    case "const":
      return [e.name];
    case "call": {
      const [a, b] = e.args;
      if (e.op === "neg" && e.args.length === 1) return ["-", { e: a!, min: UNARY }];
      const bin = Object.hasOwn(BINARY, e.op) ? BINARY[e.op] : undefined;
      if (bin !== undefined && e.args.length === 2)
        return [{ e: a!, min: bin.left }, bin.text, { e: b!, min: bin.right }];
      const parts: (string | { e: Expr; min: number })[] = [`${e.op}(`];
      e.args.forEach((arg, k) => {
        if (k > 0) parts.push(", ");
        parts.push({ e: arg, min: SUM });
      });
      parts.push(")");
      return parts;
    }
  }
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "(0/0)";
  if (v === Infinity) return "(1/0)";
  if (v === -Infinity) return "(-1/0)";
  if (v < 0 || Object.is(v, -0)) return `(-${String(-v)})`;
  return String(v);
}
