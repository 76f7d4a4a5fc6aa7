/**
 * Errors are values with a code and, where it applies, a position in the source text.
 * They are printed once, at the edge (the CLI), never as a stack trace.
 */
export type ErrorCode =
  | "PARSE" // unexpected token, malformed number, empty expression
  | "UNBALANCED" // unbalanced parenthesis or bracket
  | "TOO_DEEP" // nesting beyond what the parser accepts
  | "UNKNOWN_FUNCTION"
  | "UNKNOWN_VARIABLE"
  | "ARITY" // wrong number of arguments
  | "SHAPE" // shape mismatch, non-broadcastable shapes, bad matmul
  | "NON_SCALAR" // the output must be a scalar
  | "DOMAIN" // a point outside an op's domain
  | "NON_FINITE" // a NaN or infinity where a finite number is needed
  | "INVALID_ARGUMENT" // a bad option, value or call
  | "AUTOGRAD" // misuse of the autograd engine (backward twice, implicit grad of non-scalar…)
  | "DEFINE_OP" // an invalid custom op definition
  | "CAS" // the computer algebra system failed or gave up
  | "MODULE" // a user module failed to load or exports nothing usable
  | "IO"; // an unreadable file

export class GradtrioError extends Error {
  readonly code: ErrorCode;
  /** 0-based character offset into `source`, when the error points into text. */
  readonly pos: number | undefined;
  /** The text the position points into. */
  readonly source: string | undefined;

  constructor(code: ErrorCode, message: string, options: { pos?: number; source?: string } = {}) {
    super(message);
    this.name = "GradtrioError";
    this.code = code;
    this.pos = options.pos;
    this.source = options.source;
  }

  /** The message, then the source line and a caret under the position when there is one. */
  format(): string {
    if (this.pos === undefined || this.source === undefined) return this.message;
    const { line, column } = lineAt(this.source, this.pos);
    return `${this.message}\n  ${line}\n  ${" ".repeat(column)}^`;
  }
}

function lineAt(source: string, pos: number): { line: string; column: number } {
  const start = source.lastIndexOf("\n", pos - 1) + 1;
  const endIdx = source.indexOf("\n", pos);
  const end = endIdx === -1 ? source.length : endIdx;
  return { line: source.slice(start, end), column: Math.max(0, Math.min(pos, end) - start) };
}

export function isGradtrioError(e: unknown): e is GradtrioError {
  return e instanceof GradtrioError;
}
