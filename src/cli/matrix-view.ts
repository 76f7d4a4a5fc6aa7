/**
 * A Jacobian or Hessian for people: a small one as the matrix (the autograd leg's, which is the
 * code under test) and every entry where a leg differs; a large one as its worst entries (the
 * largest spread between legs) and its largest ones. Used by `check` and `explain`.
 */
import { jacobianEntry } from "../check/jacobian.ts";
import type { MatrixReport } from "../check/report.ts";
import { type Colors, errorText, full, short, table } from "./format.ts";

/** Matrices up to this many rows and columns are shown whole. */
const SMALL = 6;
/** Entries listed for a large matrix. */
const WORST = 5;

type Leg = "symbolic" | "numeric" | "autograd";

/**
 * The lines showing `m` under `title` ("Jacobian", "Hessian"); `failing` holds the labels the
 * vote found failing (`∂out[1]/∂x[0]`, `∂²f/∂x[0]∂x[1]`), `label(i, j)` makes them.
 */
export function renderMatrix(
  title: string,
  m: MatrixReport,
  label: (i: number, j: number) => string,
  failing: ReadonlySet<string>,
  c: Colors,
): string[] {
  const rowLabels = m.outputs ?? m.inputs;
  const base = m.autograd ?? m.symbolic ?? m.numeric;
  const lines: string[] = [];
  const dims = `${rowLabels.length}×${m.inputs.length}`;
  if (base === null) return [`${c.bold(title)} ${dims}: no leg ran`];
  const get = (leg: Leg, i: number, j: number) => m[leg]?.[i]?.[j] ?? null;
  const spread = (i: number, j: number): number => {
    const vs = (["symbolic", "numeric", "autograd"] as const)
      .map((l) => get(l, i, j))
      .filter((v): v is number => v !== null);
    return vs.length < 2 ? 0 : Math.max(...vs) - Math.min(...vs);
  };
  const small = rowLabels.length <= SMALL && m.inputs.length <= SMALL;
  lines.push(
    `${c.bold(title)} ${dims}${small ? ` (${m.autograd === null ? "first leg" : "autograd"}):` : ""}`,
  );
  if (small)
    lines.push(
      ...table(
        ["", ...m.inputs],
        base.map((row, i) => [rowLabels[i]!, ...row.map((v) => short(v))]),
        { numeric: [false, ...m.inputs.map(() => true)], indent: "  ", c },
      ),
    );
  // Entries to list: the failing ones, then (large matrices) those with the largest spread and
  // the largest in magnitude.
  const picked = new Map<string, [number, number]>();
  const all: [number, number][] = [];
  base.forEach((row, i) => {
    row.forEach((_, j) => {
      all.push([i, j]);
      if (failing.has(label(i, j))) picked.set(label(i, j), [i, j]);
    });
  });
  if (!small) {
    const by = (f: (e: [number, number]) => number) =>
      [...all].sort((a, b) => f(b) - f(a)).slice(0, WORST);
    for (const e of by(([i, j]) => spread(i, j))) picked.set(label(...e), e);
    for (const e of by(([i, j]) => Math.abs(base[i]![j]!))) picked.set(label(...e), e);
    lines.push(c.dim(`  the entries with the largest spread between legs, and the largest:`));
  } else if (picked.size > 0) lines.push(c.dim("  where the legs differ:"));
  if (picked.size === 0) return lines;
  const rows = [...picked.values()]
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([i, j]) => [
      label(i, j),
      full(get("symbolic", i, j)),
      `${full(get("numeric", i, j))} ${c.dim(`± ${errorText(m.numericError?.[i]?.[j] ?? null)}`)}`,
      full(get("autograd", i, j)),
      failing.has(label(i, j)) ? c.red("✗") : c.green("✓"),
    ]);
  lines.push(
    ...table(["entry", "symbolic", "numeric ± error", "autograd", ""], rows, {
      numeric: [false, true, true, true, false],
      indent: "  ",
      c,
    }),
  );
  return lines;
}

/** The label of a Jacobian entry, as the vote names it. */
export const jacobianLabel = (m: MatrixReport) => (i: number, j: number) =>
  jacobianEntry(m.outputs![i]!, m.inputs[j]!);

/** The label of a Hessian entry, as the vote names it. */
export const hessianLabel = (m: MatrixReport) => (i: number, j: number) =>
  `∂²f/∂${m.inputs[i]}∂${m.inputs[j]}`;
