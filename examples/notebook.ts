/**
 * Helpers that let the examples print what Python and Jupyter printed in the seed notebooks.
 */
import { pathToFileURL } from "node:url";
import { setWarningHandler } from "../src/autograd/warnings.ts";

/** Receives one printed line (a line may hold newlines, as a multi-line tensor does). */
export type Out = (line: string) => void;

/**
 * Python's `repr` of a float: shortest round-trip digits, `.0` on integral values, and
 * scientific notation below 1e-4 or from 1e16 on (JavaScript switches at 1e-7 and 1e21).
 *
 * @example
 * pyFloat(6); // "6.0"
 * pyFloat(-5.466781571308061); // "-5.466781571308061"
 * pyFloat(1e-5); // "1e-05"
 */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const exp = Number(expText);
  const sign = x < 0 ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : "";
    const expSign = exp < 0 ? "-" : "+";
    return `${sign}${digits[0]}${frac}e${expSign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const fracPart = digits.slice(exp + 1) || "0";
  return `${sign}${intPart}.${fracPart}`;
}

/**
 * Python's `str` of a value as `print` shows it: `None` for null, the tensor's own text otherwise.
 *
 * @example
 * pyStr(null); // "None"
 */
export function pyStr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  return String(value);
}

/**
 * Python's `print(*args)`: the `str` of each argument, separated by spaces.
 *
 * @example
 * print(console.log, tensor(1), null); // tensor(1.) None
 */
export function print(out: Out, ...args: unknown[]): void {
  out(args.map(pyStr).join(" "));
}

/**
 * Runs `fn`, collecting the autograd warnings it emits instead of printing them at once.
 *
 * @example
 * const { value, warnings } = captureWarnings(() => y.grad);
 */
export function captureWarnings<T>(fn: () => T): { value: T; warnings: string[] } {
  const warnings: string[] = [];
  const previous = setWarningHandler((message) => warnings.push(message));
  try {
    return { value: fn(), warnings };
  } finally {
    setWarningHandler(previous);
  }
}

/**
 * Whether the module with this `import.meta.url` is the script node was started with.
 *
 * @example
 * if (isMain(import.meta.url)) run(console.log);
 */
export function isMain(metaUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(script).href === metaUrl;
}
