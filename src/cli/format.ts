/**
 * Text for people: numbers as a reader takes them in, aligned tables, colours that switch off
 * when standard output is not a terminal or NO_COLOR is set.
 */
import pc from "picocolors";
import type { NestedArray } from "../expr/point.ts";

export type Colors = ReturnType<typeof pc.createColors>;

/** Colours on for a terminal, unless NO_COLOR is set (https://no-color.org). */
export function colorsFor(isTTY: boolean): Colors {
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "";
  return pc.createColors(isTTY && !noColor);
}

/** Shortest round-trip text of a number: every digit that a float64 holds, no more. */
export function full(v: number | null): string {
  if (v === null) return "—";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

/**
 * A number the way a person reads it: integers as they are, others to 6 significant digits
 * without trailing zeros, exponent form only when very large or small.
 *
 * @example
 * short(6.691763029237442); // "6.69176"
 * short(1e-8); // "1e-8"
 */
export function short(v: number | null, digits = 6): string {
  if (v === null) return "—";
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return Object.is(v, -0) ? "0" : String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e15)) {
    const [m, e] = v.toExponential(digits - 1).split("e");
    return `${trimZeros(m!)}e${Number(e)}`;
  }
  return trimZeros(v.toPrecision(digits));
}

function trimZeros(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** An error estimate: two significant digits, exponent form (NaN and Infinity as they are). */
export function errorText(v: number | null): string {
  if (v === null) return "—";
  if (v === 0) return "0";
  if (!Number.isFinite(v)) return String(v);
  const [m, e] = v.toExponential(1).split("e");
  return `${m}e${Number(e)}`;
}

/** Flattens a nested array row-major (a number is one element). */
export function flat(v: NestedArray | null): number[] | null {
  if (v === null) return null;
  if (typeof v === "number") return [v];
  // A vector of numbers (the common large case) is already flat.
  if (v.length === 0 || typeof v[0] === "number") return v as number[];
  const out: number[] = [];
  const stack: NestedArray[] = [v];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (typeof x === "number") out.push(x);
    else for (let i = x.length - 1; i >= 0; i--) stack.push(x[i]!);
  }
  return out;
}

/** The shape of a nested array. */
export function shapeOf(v: NestedArray): number[] {
  const shape: number[] = [];
  let p: NestedArray = v;
  while (Array.isArray(p)) {
    shape.push(p.length);
    p = p[0]!;
  }
  return shape;
}

export { elementLabel } from "../expr/point.ts";

/** A value for a person: a number, or a short list `[1, 2, 3]`, `[1, 2, 3, … (1000 elements)]`. */
export function valueText(v: NestedArray, format: (x: number) => string = short, keep = 4): string {
  const fmt = (x: number) => format(x); // never pass map's index on as an argument
  if (typeof v === "number") return fmt(v);
  const xs = flat(v)!;
  const shape = shapeOf(v);
  if (shape.length === 1 && xs.length <= keep + 1) return `[${xs.map(fmt).join(", ")}]`;
  if (shape.length === 1)
    return `[${xs.slice(0, keep).map(fmt).join(", ")}, … (${xs.length} elements)]`;
  if (xs.length <= 9) return JSON.stringify(mapNested(v, fmt)).replaceAll('"', "");
  return `${shape.join("×")} array [${xs.slice(0, keep).map(fmt).join(", ")}, …]`;
}

function mapNested(v: NestedArray, fmt: (x: number) => string): unknown {
  return typeof v === "number" ? fmt(v) : v.map((x) => mapNested(x, fmt));
}

const ANSI = /\u001b\[[0-9;]*m/g;

/** Visible width of text (colour codes excluded; every code point one column). */
export function width(s: string): number {
  return [...s.replace(ANSI, "")].length;
}

function pad(s: string, w: number, right: boolean): string {
  const fill = " ".repeat(Math.max(0, w - width(s)));
  return right ? fill + s : s + fill;
}

/**
 * Aligns rows into columns separated by two spaces. `numeric[i]` right-aligns column i.
 * The header is underlined with a rule.
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  opts: { numeric?: readonly boolean[]; indent?: string; c?: Colors } = {},
): string[] {
  const indent = opts.indent ?? "";
  const w = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((s, i) => pad(s, w[i]!, opts.numeric?.[i] === true))
      .join("  ")
      .trimEnd();
  const head = line(header); // numeric columns: header right-aligned like the numbers
  const rule = indent + w.map((n) => "─".repeat(n)).join("  ");
  const bold = opts.c?.bold ?? ((s: string) => s);
  const dim = opts.c?.dim ?? ((s: string) => s);
  return [bold(head), dim(rule), ...rows.map(line)];
}
