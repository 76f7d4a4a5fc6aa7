/**
 * `gradtrio check EXPR --at NAME=VALUE… [--json] [--strict]`: the three-way check at a point, as
 * a table for people or as the JSON object of the contract. Exit 0 autograd confirmed (the legs
 * agree, or a reference leg is outvoted), 1 autograd contradicted (or, with --strict, any
 * disagreement), 3 inconclusive (docs/DESIGN.md, "Exit codes of check").
 */
import type { DType } from "../autograd/float32.ts";
import { check, type NumericMethod } from "../check/check.ts";
import { outcome, outvotedLegs, referenceOutvoted } from "../check/outcome.ts";
import { type Report, reportToJson } from "../check/report.ts";
import type { LegName } from "../check/verdict.ts";
import { loadOps } from "../fuzz/load.ts";
import { collectStrays } from "../fuzz/stray.ts";
import { FAST_MODE_THRESHOLD } from "../numeric/leg.ts";
import {
  type Colors,
  colorsFor,
  elementLabel,
  errorText,
  flat,
  full,
  shapeOf,
  table,
  valueText,
} from "./format.ts";
import { type CliIO, EXIT } from "./io.ts";
import { jsonPieces, ParallelJson } from "./json-stream.ts";
import { hessianLabel, jacobianLabel, renderMatrix } from "./matrix-view.ts";
import { type Prepared, prepare } from "./prepare.ts";
import { reportError } from "./report-error.ts";

export interface CheckFlags {
  readonly at: readonly string[];
  readonly json?: boolean;
  readonly method?: NumericMethod;
  readonly rtol?: number;
  readonly atol?: number;
  readonly seed?: number;
  /** Modules of custom ops to load, in order, before parsing (`--ops FILE`, repeatable). */
  readonly ops?: readonly string[];
  /** Exit 1 on any disagreement, an outvoted reference leg too (`--strict`). */
  readonly strict?: boolean;
  /** `--wrt w,b`: differentiate with respect to these inputs only. */
  readonly wrt?: string;
  /** `--dtype float32`: autograd and the value in float32. */
  readonly dtype?: DType;
  /** `--order 2`: the Hessian too. */
  readonly order?: 2;
}

/** Elements of a tensor input shown in the table before "… (n elements)". */
const SHOWN = 5;

/** 0 autograd confirmed, 1 contradicted, 3 inconclusive: `outcome`, the one rule. */
export function exitCodeOf(r: Report, strict = false): number {
  const o = outcome(r, { strict });
  return o === "pass" ? EXIT.ok : o === "fail" ? EXIT.fail : EXIT.inconclusive;
}

/**
 * Runs `check()` on prepared input with the command's options; `json` (--json) is handed the
 * large arrays of the report as they come (the point's first, each leg's gradients as the leg
 * finishes), to format them while the rest runs.
 */
export function runCheck(p: Prepared, flags: CheckFlags, json?: ParallelJson): Report {
  // The report echoes the point: its arrays are formatted while the legs run.
  if (json !== undefined) for (const v of Object.values(p.point)) json.submit(v);
  return check(p.source, {
    at: p.point,
    ...(flags.method === undefined ? {} : { method: flags.method }),
    ...(flags.rtol === undefined ? {} : { rtol: flags.rtol }),
    ...(flags.atol === undefined ? {} : { atol: flags.atol }),
    ...(flags.seed === undefined ? {} : { seed: flags.seed }),
    wrt: p.wrt,
    ...(flags.dtype === undefined ? {} : { dtype: flags.dtype }),
    ...(flags.order === undefined ? {} : { order: flags.order }),
    ...(json === undefined
      ? {}
      : {
          onGradients: (_leg, gradients) => {
            for (const a of Object.values(gradients)) json.submit(a);
          },
        }),
  });
}

export async function checkCommand(source: string, flags: CheckFlags, io: CliIO): Promise<number> {
  let report: Report;
  let prepared: Prepared;
  const json = flags.json === true ? new ParallelJson() : undefined;
  // A promise the ops reject unhandled (in a backward) fails the check before its report.
  const strays = collectStrays();
  try {
    try {
      for (const file of flags.ops ?? []) await loadOps(file, io.cwd);
      prepared = prepare(source, flags.at, io.cwd, flags.wrt, { vectorOutput: true });
      report = runCheck(prepared, flags, json);
      const note = seedNote(report, prepared, flags);
      if (note !== null) report = { ...report, notes: [...report.notes, note] };
      await strays.endOrThrow();
    } catch (e) {
      await strays.end();
      return reportError(e, io);
    }
    // Streamed: the JSON of 10^6-element gradients is ~100 MB, never built as one string.
    if (json !== undefined) io.outPieces(jsonPieces(reportToJson(report), json.items));
    else for (const line of renderReport(report, colorsFor(io.isTTY))) io.out(line);
    return exitCodeOf(report, flags.strict === true);
  } finally {
    json?.close();
  }
}

/**
 * Why `--seed` changed nothing, or null where it chose fast mode's random direction (its only
 * use). Scripts pass it uniformly, so it is no error; the notes say so (check's and explain's).
 */
export function seedNote(r: Report, p: Prepared, flags: CheckFlags): string | null {
  if (flags.seed === undefined) return null;
  const method = flags.method ?? "auto";
  let n = 0;
  for (const v of Object.values(p.point)) n += flat(v)!.length;
  const why =
    r.jacobian !== undefined
      ? "the output is not a scalar: its Jacobian is checked element by element"
      : method !== "auto" && method !== "fast"
        ? `--method ${method} checks every element`
        : method === "auto" && n <= FAST_MODE_THRESHOLD
          ? `${n} input element${n === 1 ? "" : "s"} (fast mode runs above ${FAST_MODE_THRESHOLD}, or with --method fast), so every element is checked`
          : null;
  return why === null
    ? null
    : `--seed ${flags.seed} had no effect: it seeds fast mode's random direction u, and fast mode did not run: ${why}`;
}

/** The verdict as one coloured line with its mark. */
export function verdictLine(r: Report, c: Colors): string {
  if (r.verdict === "agree") {
    // An unreliable numeric leg has no vote: it did not take part in the agreement.
    const legs = (["symbolic", "numeric", "autograd"] as const).filter(
      (l) => r.legs[l].status === "ok" && r.legs[l].unreliable !== true,
    );
    const who = legs.length === 3 ? "all three legs agree" : `${legs.join(" and ")} agree`;
    return `${c.green(c.bold("✓ agree"))}: ${who}${r.reason === null ? "" : ` (${r.reason})`}`;
  }
  if (referenceOutvoted(r))
    return `${c.green(c.bold("✓ autograd confirmed"))} (disagree: ${r.blame === null ? "outvoted" : "blame"} ${c.bold(outvotedLegs(r))})${r.reason === null ? "" : ` — ${r.reason}`}`;
  if (r.verdict === "disagree")
    return `${c.red(c.bold("✗ disagree"))}${r.blame === null ? "" : `: blame ${c.bold(r.blame)}`}${r.reason === null ? "" : ` — ${r.reason}`}`;
  return `${c.yellow(c.bold("? inconclusive"))}: ${r.reason ?? "no verdict"}`;
}

/** Characters of a formula the table shows: a longer one would widen every row past reading. */
const FORMULA_CELL = 100;

/** A gradient's formula in the table: whole up to FORMULA_CELL characters, else its start. */
function formulaCell(formula: string | null): string {
  if (formula === null) return "—";
  if (formula.length <= FORMULA_CELL) return formula;
  return `${formula.slice(0, FORMULA_CELL - 40)}… (${formula.length} characters; --json has it whole)`;
}

/** The human report: header, the table of gradients, leg notes, the verdict line. */
export function renderReport(r: Report, c: Colors): string[] {
  const lines: string[] = [];
  const at = Object.entries(r.at)
    .map(([k, v]) => `${k}=${valueText(v, full)}`)
    .join(", ");
  lines.push(`${c.bold(r.expr)}  ${c.dim("at")} ${at}`);
  lines.push(`${c.dim("value")} ${r.value === null ? "—" : valueText(r.value, full)}`);
  lines.push("");
  // The elements the vote found failing (check() judged them; nothing is re-voted here).
  const failing = new Set(r.failing);
  const rows: string[][] = [];
  for (const [name, g] of Object.entries(r.gradients)) {
    const shape = shapeOf(r.at[name]!);
    const s = flat(g.symbolic);
    const n = flat(g.numeric);
    const a = flat(g.autograd);
    const ne = flat(g.numericError);
    const size = flat(r.at[name]!)!.length;
    const fails = (k: number) => failing.has(elementLabel(name, shape, k));
    const show = new Set<number>();
    for (let k = 0; k < Math.min(size, SHOWN); k++) show.add(k);
    // A disagreement beyond the first elements is shown too (a few of them).
    if (failing.size > 0)
      for (let k = SHOWN; k < size && show.size < 2 * SHOWN; k++) if (fails(k)) show.add(k);
    let first = true;
    let last = -1;
    for (const k of [...show].sort((x, y) => x - y)) {
      if (k !== last + 1) rows.push([c.dim("…"), "", "", "", "", ""]);
      last = k;
      const mark =
        r.verdict === "agree"
          ? c.green("✓")
          : r.verdict === "inconclusive"
            ? c.yellow("?")
            : fails(k)
              ? c.red("✗")
              : c.green("✓");
      const num = n === null ? "—" : `${full(n[k]!)} ${c.dim(`± ${errorText(ne?.[k] ?? null)}`)}`;
      rows.push([
        elementLabel(name, shape, k),
        first ? formulaCell(g.formula) : "",
        full(s?.[k] ?? null),
        num,
        full(a?.[k] ?? null),
        mark,
      ]);
      first = false;
    }
    if (last < size - 1) rows.push([c.dim(`… (${size} elements)`), "", "", "", "", ""]);
  }
  if (r.directional !== null) {
    const d = r.directional;
    rows.push([
      "uᵀ∇f",
      c.dim("random direction u"),
      full(d.symbolic),
      `${full(d.numeric)} ${c.dim(`± ${errorText(d.numericError)}`)}`,
      full(d.autograd),
      r.verdict === "agree" ? c.green("✓") : r.verdict === "disagree" ? c.red("✗") : c.yellow("?"),
    ]);
  }
  if (r.jacobian === undefined)
    lines.push(
      ...table(["input", "formula", "symbolic", "numeric ± error", "autograd", ""], rows, {
        numeric: [false, false, true, true, true, false],
        c,
      }),
    );
  else lines.push(...renderMatrix("Jacobian", r.jacobian, jacobianLabel(r.jacobian), failing, c));
  if (r.hessian !== undefined)
    lines.push("", ...renderMatrix("Hessian", r.hessian, hessianLabel(r.hessian), failing, c));
  lines.push("");
  // An agreement of two legs has its reason name the missing leg and why: not repeated here.
  for (const leg of ["symbolic", "numeric", "autograd"] as LegName[]) {
    const l = r.legs[leg];
    if (r.verdict === "agree") break;
    if (l.status !== "ok")
      lines.push(c.dim(`${leg} leg: ${l.status}${l.reason ? ` — ${l.reason}` : ""}`));
  }
  if (r.method !== null) lines.push(c.dim(`numeric method: ${r.method}`));
  for (const note of r.notes) lines.push(c.dim(`note: ${note}`));
  lines.push(verdictLine(r, c));
  return lines;
}
