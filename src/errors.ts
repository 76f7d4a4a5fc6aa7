/**
 * Errors are values with a code and, where it applies, a position in the source text.
 * They are printed once, at the edge (the CLI), never as a stack trace.
 */
import { didYouMean } from "./expr/suggest.ts";

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

/** The function of an op that failed: its forward, or its backward rule. */
export type OpPhase = "forward" | "backward";

export class GradtrioError extends Error {
  readonly code: ErrorCode;
  /** 0-based character offset into `source`, when the error points into text. */
  readonly pos: number | undefined;
  /** The text the position points into. */
  readonly source: string | undefined;
  /** The op whose code failed (a custom op's forward or backward), when one did. */
  readonly op: string | undefined;
  /** Which of the op's functions failed. */
  readonly phase: OpPhase | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { pos?: number; source?: string; op?: string; phase?: OpPhase } = {},
  ) {
    super(message);
    this.name = "GradtrioError";
    this.code = code;
    this.pos = options.pos;
    this.source = options.source;
    this.op = options.op;
    this.phase = options.phase;
  }

  /** The message, then the source line and a caret under the position when there is one. */
  format(): string {
    if (this.pos === undefined || this.source === undefined) return this.message;
    const { line, column } = lineAt(this.source, this.pos);
    // Tabs stay tabs under the line, so the caret lines up however wide a terminal draws them.
    const pad = line.slice(0, column).replace(/[^\t]/g, " ");
    return `${this.message}\n  ${line}\n  ${pad}^`;
  }
}

function lineAt(source: string, pos: number): { line: string; column: number } {
  const start = source.lastIndexOf("\n", pos - 1) + 1;
  const endIdx = source.indexOf("\n", pos);
  const end = endIdx === -1 ? source.length : endIdx;
  return { line: source.slice(start, end), column: Math.max(0, Math.min(pos, end) - start) };
}

/**
 * A custom op's forward returned what no point can excuse (the wrong length or type, a NaN or a
 * throw from finite inputs inside its domain): a defect of the op's definition, so bad input for
 * a check (exit 2), not a leg that failed at this point.
 */
export class OpResultError extends GradtrioError {}

/**
 * What the user's code (a custom op's forward or backward, checkFunction's grad) threw, as one
 * line of text: an Error's message, else the value. With GRADTRIO_DEBUG=1 the user's stack goes
 * to stderr too, which the one-line error leaves out: once per `who` (a backward runs once per
 * element).
 */
export function userThrew(who: string, e: unknown): string {
  if (typeof process !== "undefined" && process.env?.GRADTRIO_DEBUG && !stacksShown.has(who)) {
    stacksShown.add(who);
    const stack =
      e instanceof Error && e.stack ? e.stack : `${thrownText(e)} (thrown without a stack)`;
    process.stderr.write(`gradtrio: debug: ${who} threw:\n${stack}\n`);
  }
  return thrownText(e).replace(/\s*\n\s*/g, " ");
}

/** String(v), or its tag where it has no conversion (an object made by Object.create(null)). */
function safeString(v: object): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/**
 * What was thrown, as text: an Error's message; a value that is not an Error (`throw { code: 42 }`,
 * `throw 42`) as itself, an object as JSON where it has one (String() reads "[object Object]"),
 * cut at 200 characters.
 */
function thrownText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e !== "object" || e === null) return typeof e === "string" ? e : String(e);
  let json: string | undefined;
  try {
    json = JSON.stringify(e);
  } catch {
    // A cycle, a BigInt: its String() then.
  }
  const text =
    json === undefined || json === "{}"
      ? safeString(e)
      : json.length > 200
        ? `${json.slice(0, 200)}…`
        : json;
  return `a non-Error value: ${text}`;
}

const stacksShown = new Set<string>();

/**
 * The first line of an error's message: a module's failure is shown in one line. jiti's syntax
 * error ("ParseError: Unexpected token" over "/path/file.ts:2:18") becomes
 * `/path/file.ts:2:18: ParseError: Unexpected token`.
 * A GradtrioError, also one thrown by a module's own copy of gradtrio, shows no class name.
 */
export function firstLine(e: unknown): string {
  const m = thrownText(e);
  const lines = m
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length === 2 && /^\S.*:\d+:\d+$/.test(lines[1]!)) return `${lines[1]}: ${lines[0]}`;
  const line = lines[0] ?? m.trim();
  const name =
    e instanceof Error && e.name !== "Error" && e.name !== "GradtrioError" ? `${e.name}: ` : "";
  return name + line;
}

/**
 * An exception from a custom op's forward or backward as the error that names the op and says
 * which of its functions threw (`mySquare: its backward threw: …`), also one of gradtrio's own
 * (a Tensor call inside the rule); an error that names an op already (another custom op's, called
 * from this one) or an op's defective result stays as it is.
 */
export function opThrew(op: string, phase: OpPhase, e: unknown): GradtrioError {
  if (e instanceof GradtrioError && (e.op !== undefined || e instanceof OpResultError)) return e;
  return new GradtrioError(
    "DEFINE_OP",
    `${op}: its ${phase} threw: ${userThrew(`${op}'s ${phase}`, e)}`,
    { op, phase },
  );
}

export function isGradtrioError(e: unknown): e is GradtrioError {
  return e instanceof GradtrioError;
}

/**
 * Rejects option names a function does not know, so that a misspelt option is never silently
 * ignored. PyTorch's snake_case spellings (`requires_grad`, `retain_graph`) get the camelCase
 * name; other names the closest known one, if close, and the list. `where` (if not "") leads
 * the message; `what` names the keys ("field" for a definition's), `code` the error's code.
 *
 * @example
 * checkOptionNames({ requires_grad: true }, ["requiresGrad", "shape"], "tensor");
 * // GradtrioError: tensor: unknown option 'requires_grad'; write requiresGrad (…)
 * checkOptionNames({ at: {}, wtr: ["x"] }, ["at", "wrt"], "check");
 * // GradtrioError: check: unknown option 'wtr' (did you mean 'wrt'?; known: at, wrt)
 */
export function checkOptionNames(
  options: object | null | undefined,
  known: readonly string[],
  where: string,
  { what = "option", code = "INVALID_ARGUMENT" }: { what?: string; code?: ErrorCode } = {},
): void {
  if (options === null || options === undefined || typeof options !== "object") return;
  // for…in: no array is made for the usual empty or valid options (backward runs this each call).
  for (const key in options) {
    if (known.includes(key) || !Object.hasOwn(options, key)) continue;
    const camel = key.replace(/_+([a-z])/g, (_, c: string) => c.toUpperCase());
    const lower = key.toLowerCase().replace(/_/g, "");
    const match = known.find((k) => k === camel || k.toLowerCase() === lower);
    const near = match === undefined ? didYouMean(key, known) : undefined;
    const head = `${where === "" ? "" : `${where}: `}unknown ${what} '${key}'`;
    throw new GradtrioError(
      code,
      match !== undefined
        ? `${head}; write ${match} (gradtrio spells PyTorch's options in camelCase)`
        : `${head} (${near === undefined ? "" : `did you mean '${near}'?; `}known: ${known.join(", ")})`,
    );
  }
}

/**
 * Whether an option or argument that counts something (a seed, runs, a depth, threads, a shard)
 * is an integer from `min` to `max`, both included. Each caller words its own error.
 *
 * @example
 * isIntegerIn(3, 1, 8); // true
 * isIntegerIn(2.5, 1, 8); // false
 * isIntegerIn(2 ** 53, 0, Number.MAX_SAFE_INTEGER); // false: past the integers a double holds exactly
 */
export function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

/**
 * A value user code returned where a number belongs, in a message: a number as written, a string
 * quoted and named (`the string "2"`, not `2`, which reads as the number), else its kind.
 */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string")
    return `the string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`;
  return typeof v === "number" ? String(v) : typeof v;
}
