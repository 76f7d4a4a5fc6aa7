/**
 * `gradtrio teach [EXPR --at …] [--wrt NAMES] --out FILE.html`: writes the interactive page
 * (src/teach/page), starting from EXPR at the point, or from the seed notebooks' BCE.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { DType } from "../autograd/index.ts";
import { GradtrioError } from "../errors.ts";
import { teachPage } from "../teach/page/bundle.ts";
import { chainOf } from "./explain.ts";
import { type CliIO, EXIT } from "./io.ts";
import { splitAssignment } from "./point-args.ts";
import { prepare } from "./prepare.ts";
import { reportError } from "./report-error.ts";

/** The seed notebooks' BCE, the page's default. */
export const SEED_PAGE = {
  expr: "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)",
  at: ["w=1", "b=0", "x=6.7", "y=0"],
  wrt: "w,b",
} as const;

export interface TeachFlags {
  readonly at: readonly string[];
  /** `w,b`: the inputs to differentiate with respect to (default all; the seed: w,b). */
  readonly wrt?: string;
  readonly out: string;
  /** The page's starting dtype (the chain rule and autograd in float32 as PyTorch's default). */
  readonly dtype?: DType;
}

export async function teachCommand(
  source: string | undefined,
  flags: TeachFlags,
  io: CliIO,
): Promise<number> {
  try {
    const seeded = source === undefined;
    if (seeded && flags.at.length > 0)
      throw new GradtrioError("INVALID_ARGUMENT", "--at needs an expression before it");
    const expr = source ?? SEED_PAGE.expr;
    const at = seeded ? SEED_PAGE.at : flags.at;
    const wrt = flags.wrt ?? (seeded ? SEED_PAGE.wrt : undefined);
    // Bad input is reported here, once, before the page is written.
    const dtype = flags.dtype ?? "float64";
    const prepared = prepare(expr, at, io.cwd, wrt);
    chainOf(prepared, dtype);
    const { point } = prepared;
    // The page cannot read files: an `@FILE` value goes in as the values it holds.
    const shown = at.map((item) => {
      const { name, text } = splitAssignment(item);
      return text.startsWith("@") ? `${name}=${JSON.stringify(point[name])}` : item;
    });
    const html = await teachPage({ expr, at: shown.join(" "), wrt: wrt ?? "", dtype });
    const file = resolve(io.cwd, flags.out);
    try {
      writeFileSync(file, html);
    } catch (e) {
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `cannot write ${flags.out}: ${(e as Error).message}`,
      );
    }
    io.out(
      `wrote ${flags.out} (${Math.round(Buffer.byteLength(html) / 1000)} kB, self-contained): open it in a browser`,
    );
    return EXIT.ok;
  } catch (e) {
    return reportError(e, io);
  }
}
