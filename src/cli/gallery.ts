/**
 * `gradtrio gallery` (`npm start`): the seed notebooks' examples, each checked three ways, in one
 * table. Exit 0 when every case agrees.
 */
import { check } from "../check/check.ts";
import type { Report } from "../check/report.ts";
import type { Point } from "../expr/point.ts";
import { colorsFor, flat, short, table, valueText } from "./format.ts";
import { type CliIO, EXIT } from "./io.ts";
import { reportError } from "./report-error.ts";

export interface GalleryCase {
  readonly name: string;
  readonly expr: string;
  readonly at: Point;
}

/** The cases of the seed notebooks (x², sin(x²), mean(x²), binary cross-entropy with clamp). */
export const GALLERY: readonly GalleryCase[] = [
  { name: "x²", expr: "x^2", at: { x: 3 } },
  { name: "sin(x²)", expr: "sin(x^2)", at: { x: 3 } },
  { name: "sin(x²)", expr: "sin(x^2)", at: { x: 4 } },
  { name: "mean(x²)", expr: "mean(x^2)", at: { x: [1, 2, 3] } },
  {
    name: "BCE",
    expr: "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)",
    at: { w: 1, b: 0, x: 6.7, y: 0 },
  },
];

const DIGITS = 10;
const num = (v: number) => short(v, DIGITS);

export async function galleryCommand(io: CliIO): Promise<number> {
  const c = colorsFor(io.isTTY);
  const reports: Report[] = [];
  try {
    for (const g of GALLERY) reports.push(check(g.expr, { at: g.at }));
  } catch (e) {
    return reportError(e, io);
  }
  const rows: string[][] = [];
  let gradients = 0;
  GALLERY.forEach((g, i) => {
    const r = reports[i]!;
    const mark =
      r.verdict === "agree"
        ? c.green("✓ agree")
        : r.verdict === "disagree"
          ? c.red(`✗ disagree${r.blame === null ? "" : ` (${r.blame})`}`)
          : c.yellow("? inconclusive");
    let first = true;
    for (const [name, grad] of Object.entries(r.gradients)) {
      gradients += flat(r.at[name]!)!.length;
      const cell = (v: typeof grad.symbolic) => (v === null ? "—" : valueText(v, num));
      rows.push([
        first ? g.name : "",
        first ? `${c.dim("at")} ${atText(g.at)}` : "",
        `∂/∂${name}`,
        cell(grad.symbolic),
        cell(grad.numeric),
        cell(grad.autograd),
        first ? mark : "",
      ]);
      first = false;
    }
  });
  io.out(c.bold("gradtrio gallery — the seed notebooks' gradients, three ways"));
  io.out("");
  for (const line of table(
    ["case", "point", "gradient", "symbolic (CAS)", "numeric (FD)", "autograd", "verdict"],
    rows,
    { numeric: [false, false, false, true, true, true, false], c },
  ))
    io.out(line);
  io.out("");
  const bad = reports.filter((r) => r.verdict !== "agree");
  for (const [i, r] of reports.entries())
    if (r.verdict !== "agree") io.out(`${GALLERY[i]!.expr}: ${r.reason ?? r.verdict}`);
  if (bad.length === 0)
    io.out(
      `${c.green(c.bold("✓"))} ${GALLERY.length} cases, ${gradients} partial derivatives: symbolic, numeric and autograd agree on every one.`,
    );
  else
    io.out(
      `${c.red(c.bold("✗"))} ${bad.length} of ${GALLERY.length} cases do not agree (see above).`,
    );
  return bad.length === 0 ? EXIT.ok : EXIT.fail;
}

function atText(at: Point): string {
  return Object.entries(at)
    .map(([k, v]) => `${k}=${valueText(v, num)}`)
    .join(", ");
}
