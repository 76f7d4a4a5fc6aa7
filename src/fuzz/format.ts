/**
 * Plain-text renderings shared by `gradtrio fuzz`, `gradtrio gate` and the vitest matcher:
 * a check report as the three legs per input, and a counterexample with its replay commands.
 */
import type { Report } from "../check/report.ts";
import type { NestedArray, Point } from "../expr/point.ts";
import type { Counterexample, LegValues } from "./fuzz.ts";

const num = (v: NestedArray | null): string =>
  v === null ? "—" : typeof v === "number" ? String(v) : JSON.stringify(v);

/** `x = 0.25, y = [1,2]` */
export function formatPoint(at: Point): string {
  return Object.entries(at)
    .map(([k, v]) => `${k} = ${num(v)}`)
    .join(", ");
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join("  ")
      .trimEnd(),
  );
}

/** The three legs per input, one row each. */
export function formatLegs(gradients: Record<string, LegValues>): string[] {
  const rows = [["input", "symbolic", "numeric", "± error", "autograd"]];
  for (const [name, g] of Object.entries(gradients))
    rows.push([name, num(g.symbolic), num(g.numeric), num(g.numericError), num(g.autograd)]);
  return table(rows);
}

/**
 * A report for people: the expression and point, the verdict (and blame, reason), the legs.
 *
 * @example
 * ```ts
 * formatReport(check("sin(x^2)", { at: { x: 3 } })).join("\n");
 * // sin(x^2) at x = 3: agree …
 * ```
 */
export function formatReport(r: Report): string[] {
  const head = `${r.expr} at ${formatPoint(r.at)}: ${r.verdict}${r.blame === null ? "" : ` (blame: ${r.blame})`}`;
  const lines = [head];
  if (r.reason !== null) lines.push(`  reason: ${r.reason}`);
  lines.push(...formatLegs(r.gradients).map((l) => `  ${l}`));
  for (const [leg, l] of Object.entries(r.legs))
    if (l.status !== "ok")
      lines.push(`  ${leg} leg: ${l.status}${l.reason ? ` (${l.reason})` : ""}`);
  return lines;
}

/** A shrunk counterexample: where, the legs, the blame and why, and how to replay it. */
export function formatCounterexample(cx: Counterexample): string[] {
  return [
    `counterexample for op '${cx.op}':`,
    `  ${cx.expr}   at ${formatPoint(cx.at)}`,
    ...(cx.value === null ? [] : [`  value: ${cx.value}`]),
    // A case that errs (check threw) has no legs to show, and no vote.
    ...(Object.keys(cx.gradients).length === 0
      ? []
      : formatLegs(cx.gradients).map((l) => `  ${l}`)),
    `  blame: ${cx.blame ?? (cx.verdict === "error" ? "none (an error, not a vote)" : "none (no majority)")}`,
    `  reason: ${cx.reason}`,
    "replay:",
    `  ${cx.replay.fuzz}`,
    `  ${cx.replay.check}`,
  ];
}
