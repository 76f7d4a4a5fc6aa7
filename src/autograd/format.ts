/**
 * Printing tensors as PyTorch prints them: a port of `torch/_tensor_str.py` (`_Formatter`,
 * `_tensor_str`, `_str_intern`) with the default print options (precision 4, linewidth 80,
 * threshold 1000, edgeitems 3, sci_mode None).
 *
 * The values are formatted as the float64 numbers gradtrio holds, which is exactly what PyTorch
 * prints for a float64 tensor without its `dtype=torch.float64` suffix. For the values in the
 * seed notebooks this is also what PyTorch prints for its float32 default dtype; the two differ
 * only at a threshold, e.g. 1e-4 is below 1e-4 once rounded to float32, so PyTorch's default
 * dtype prints `tensor([1.0000e-04])` where gradtrio prints `tensor([0.0001])`.
 */
import { GradtrioError } from "../errors.ts";

export interface FormatOptions {
  readonly requiresGrad?: boolean;
  /** The grad_fn name, e.g. "PowBackward0", or null for leaves and constants. */
  readonly gradFn?: string | null;
  /** A dtype to name (`torch.float32`): PyTorch names any dtype but the default. */
  readonly dtype?: string | null;
  /**
   * Each value in full (its shortest round-trip text, `0.6666666666666666`) instead of at 4
   * decimals: what a tensor's text is while a function is traced (see `Tensor.toString`).
   */
  readonly exact?: boolean;
}

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGEITEMS = 3;
const LINEWIDTH = 80;
const PREFIX = "tensor(";

/**
 * The text PyTorch's `repr`/`print` shows for a tensor with these values and shape.
 *
 * @remarks `gradFn` wins over `requiresGrad`: PyTorch shows only the grad_fn of a non-leaf.
 * Tensors of more than 1000 elements are summarized with `...` (3 items at each edge).
 *
 * @example
 * ```ts
 * formatTensor(new Float64Array([9]), [], { gradFn: "PowBackward0" });
 * // "tensor(9., grad_fn=<PowBackward0>)"
 * formatTensor(new Float64Array([2 / 3, 4 / 3, 2]), [3]);
 * // "tensor([0.6667, 1.3333, 2.0000])"
 * ```
 */
export function formatTensor(
  data: Float64Array,
  shape: readonly number[],
  suffix: FormatOptions = {},
): string {
  const numel = checkShape(data, shape);
  const suffixes: string[] = [];
  let body: string;
  if (numel === 0) {
    body = "[]";
    // PyTorch shows the shape of an empty tensor unless it is the plain 1-D `[]`.
    if (shape.length !== 1) suffixes.push(`size=${pythonTuple(shape)}`);
  } else {
    body = tensorStr(data, shape, PREFIX.length, suffix.exact === true);
  }
  if (suffix.dtype) suffixes.push(`dtype=${suffix.dtype}`);
  if (suffix.gradFn) suffixes.push(`grad_fn=<${suffix.gradFn}>`);
  else if (suffix.requiresGrad) suffixes.push("requires_grad=True");
  return addSuffixes(PREFIX + body, suffixes, PREFIX.length);
}

function checkShape(data: Float64Array, shape: readonly number[]): number {
  let numel = 1;
  for (const n of shape) {
    if (!Number.isInteger(n) || n < 0) {
      throw new GradtrioError(
        "SHAPE",
        `invalid shape [${shape.join(", ")}]: sizes must be non-negative integers`,
      );
    }
    numel *= n;
  }
  if (numel !== data.length) {
    throw new GradtrioError(
      "SHAPE",
      `shape [${shape.join(", ")}] holds ${numel} elements but the data has ${data.length}`,
    );
  }
  return numel;
}

function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}

/** The indices kept along a dimension: all, or the edge items around the `...`. */
function keptIndices(size: number, summarize: boolean): { head: number[]; tail: number[] } {
  if (summarize && size > 2 * EDGEITEMS) {
    const head = Array.from({ length: EDGEITEMS }, (_, i) => i);
    const tail = Array.from({ length: EDGEITEMS }, (_, i) => size - EDGEITEMS + i);
    return { head, tail };
  }
  return { head: Array.from({ length: size }, (_, i) => i), tail: [] };
}

function tensorStr(
  data: Float64Array,
  shape: readonly number[],
  indent: number,
  exact: boolean,
): string {
  const summarize = data.length > THRESHOLD;
  const strides = stridesOf(shape);
  // Like `get_summarized_data`: the formatter only sees the values that will be printed.
  const formatter = new Formatter(summarize ? summarizedValues(data, shape, strides) : data, exact);

  const walk = (offset: number, dim: number, indent: number): string => {
    const rank = shape.length - dim;
    if (rank === 0) return formatter.format(data[offset]!);
    const { head, tail } = keptIndices(shape[dim]!, summarize);
    if (rank === 1) {
      const items = head.map((i) => formatter.format(data[offset + i * strides[dim]!]!));
      if (tail.length > 0) {
        items.push(" ...", ...tail.map((i) => formatter.format(data[offset + i * strides[dim]!]!)));
      }
      return vectorStr(items, formatter.width, indent);
    }
    const slices = head.map((i) => walk(offset + i * strides[dim]!, dim + 1, indent + 1));
    if (tail.length > 0) {
      slices.push("...", ...tail.map((i) => walk(offset + i * strides[dim]!, dim + 1, indent + 1)));
    }
    return `[${slices.join(`,${"\n".repeat(rank - 1)}${" ".repeat(indent + 1)}`)}]`;
  };
  return walk(0, 0, indent);
}

function summarizedValues(
  data: Float64Array,
  shape: readonly number[],
  strides: readonly number[],
): number[] {
  const out: number[] = [];
  const visit = (offset: number, dim: number): void => {
    if (dim === shape.length) {
      out.push(data[offset]!);
      return;
    }
    const { head, tail } = keptIndices(shape[dim]!, true);
    for (const i of [...head, ...tail]) visit(offset + i * strides[dim]!, dim + 1);
  };
  visit(0, 0);
  return out;
}

/** `_vector_str`: items joined by ", ", wrapped to the line width. */
function vectorStr(items: readonly string[], width: number, indent: number): string {
  const elementLength = width + 2;
  const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / elementLength));
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += perLine)
    lines.push(items.slice(i, i + perLine).join(", "));
  return `[${lines.join(`,\n${" ".repeat(indent + 1)}`)}]`;
}

/** `_add_suffixes`, including its count of the last line (two more than its length). */
function addSuffixes(tensorStr: string, suffixes: readonly string[], indent: number): string {
  const parts = [tensorStr];
  let lastLineLen = tensorStr.length - tensorStr.lastIndexOf("\n") + 1;
  for (const suffix of suffixes) {
    if (lastLineLen + suffix.length + 2 > LINEWIDTH) {
      parts.push(`,\n${" ".repeat(indent)}${suffix}`);
      lastLineLen = indent + suffix.length;
    } else {
      parts.push(`, ${suffix}`);
      lastLineLen += suffix.length + 2;
    }
  }
  parts.push(")");
  return parts.join("");
}

/** `_Formatter`: one notation and one width for all elements of a tensor. */
class Formatter {
  intMode = true;
  sciMode = false;
  width = 1;
  readonly exact: boolean;

  constructor(values: ArrayLike<number>, exact: boolean) {
    this.exact = exact;
    if (exact) {
      for (let i = 0; i < values.length; i++)
        this.width = Math.max(this.width, exactText(values[i]!).length);
      return;
    }
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    const nonzeroFinite: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v === 0 || !Number.isFinite(v)) continue;
      nonzeroFinite.push(v);
      const a = Math.abs(v);
      if (a < min) min = a;
      if (a > max) max = a;
      if (v !== Math.ceil(v)) this.intMode = false;
    }
    // No valid number (all zeros, nan or inf): int mode with width 1.
    if (nonzeroFinite.length === 0) return;

    const wide = max / min > 1000 || max > 1e8;
    this.sciMode = this.intMode ? wide : wide || min < 1e-4;
    for (const v of nonzeroFinite) {
      const text = this.sciMode
        ? pyExponential(v, PRECISION)
        : this.intMode
          ? `${pyFixed(v, 0)}.`
          : pyFixed(v, PRECISION);
      if (text.length > this.width) this.width = text.length;
    }
  }

  format(v: number): string {
    let text: string;
    if (this.exact) text = exactText(v);
    else if (this.sciMode) text = pyExponential(v, PRECISION);
    else if (this.intMode) text = Number.isFinite(v) ? `${pyFixed(v, 0)}.` : pyFixed(v, 0);
    else text = pyFixed(v, PRECISION);
    return text.padStart(this.width, " ");
  }
}

/** A value in full: JavaScript's shortest round-trip text, integers with PyTorch's `3.`. */
function exactText(v: number): string {
  const special = nonFinite(v);
  if (special !== undefined) return special;
  const text = sign(v) + String(Math.abs(v));
  return Number.isInteger(v) && !text.includes("e") ? `${text}.` : text;
}

function nonFinite(v: number): string | undefined {
  if (Number.isNaN(v)) return "nan";
  if (v === Number.POSITIVE_INFINITY) return "inf";
  if (v === Number.NEGATIVE_INFINITY) return "-inf";
  return undefined;
}

/** |x| = mant · 2^exp2 exactly, read from the IEEE-754 bits. */
function decompose(x: number): { mant: bigint; exp2: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { mant: fraction, exp2: -1074 };
  return { mant: fraction | (1n << 52n), exp2: biased - 1075 };
}

/** round(|x| · 10^k) with ties to even, on the exact binary value, as Python's formatting does. */
function scaledRound(x: number, k: number): bigint {
  const { mant, exp2 } = decompose(x);
  let num = mant;
  let den = 1n;
  if (exp2 >= 0) num <<= BigInt(exp2);
  else den <<= BigInt(-exp2);
  if (k >= 0) num *= 10n ** BigInt(k);
  else den *= 10n ** BigInt(-k);
  const q = num / den;
  const twice = 2n * (num - q * den);
  if (twice > den || (twice === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

function sign(x: number): string {
  return x < 0 || Object.is(x, -0) ? "-" : "";
}

/** Python's `"{:.Nf}".format(x)`: JS `toFixed` rounds ties up (0.03125 → "0.0313"), Python to even. */
function pyFixed(x: number, digits: number): string {
  const special = nonFinite(x);
  if (special !== undefined) return special;
  const a = Math.abs(x);
  // A tie needs |x|·2^(digits+1) to be an integer; otherwise toFixed's exact rounding is Python's.
  if (a < 1e21 && !Number.isInteger(a * 2 ** (digits + 1))) return sign(x) + a.toFixed(digits);
  const s = scaledRound(x, digits)
    .toString()
    .padStart(digits + 1, "0");
  return sign(x) + (digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`);
}

/** Python's `"{:.Ne}".format(x)`: ties to even, and an exponent of at least two digits. */
function pyExponential(x: number, digits: number): string {
  const special = nonFinite(x);
  if (special !== undefined) return special;
  const a = Math.abs(x);
  if (a !== 0) {
    const [fast, expText] = a.toExponential(digits).split("e") as [string, string];
    const e = Number(expText);
    // A tie needs |x|·2^(digits-e+1) to be an integer (one more power for a carried exponent).
    if (!Number.isInteger(a * 2 ** Math.max(1, digits - e + 2))) {
      return `${sign(x)}${fast}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
    }
  }
  let mantissa = 0n;
  let e = 0;
  if (x !== 0) {
    const lowest = 10n ** BigInt(digits);
    const highest = lowest * 10n;
    e = Math.floor(Math.log10(Math.abs(x)));
    // log10 can be off by one near powers of ten, and rounding can carry into a new digit.
    for (let tries = 0; tries < 4; tries++) {
      mantissa = scaledRound(x, digits - e);
      if (mantissa >= highest) e += 1;
      else if (mantissa < lowest) e -= 1;
      else break;
    }
  }
  const s = mantissa.toString().padStart(digits + 1, "0");
  const frac = digits === 0 ? "" : `.${s.slice(1)}`;
  const exp = `${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  return `${sign(x)}${s[0]}${frac}e${exp}`;
}
