/**
 * `--at x=@FILE` on 10^6 numbers: what reading a value costs beside `JSON.parse` of the same text
 * alone (the floor: the file read, the parse, no checks), for an ordinary file (numbers like
 * 0.123…, the logistic bench's) and for one whose every number has an exponent ≤ −100 (1.23e-200
 * …), where the underflow scan (`checkLiterals`, src/cli/point-args.ts) reads each literal again.
 * Medians of REPS alternating pairs in one process. `npm run bench at-file`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseValue } from "../src/cli/point-args.ts";
import { mulberry32 } from "../src/random.ts";
import { loadAverage, ratio } from "./timing.ts";

const N = 1_000_000;
const REPS = Number(process.env.AT_FILE_REPS ?? 21);

function numbers(tiny: boolean): string {
  const rand = mulberry32(7);
  const xs: string[] = [];
  for (let i = 0; i < N; i++) {
    const v = 2 * rand() - 1;
    xs.push(tiny ? (v * 1e-200).toString() : v.toString());
  }
  return `[${xs.join(",")}]`;
}

export function run(): void {
  const dir = mkdtempSync(join(tmpdir(), "gradtrio-at-file-"));
  try {
    console.log(`load average at the start: ${loadAverage()}`);
    for (const tiny of [false, true]) {
      const file = join(dir, tiny ? "tiny.json" : "plain.json");
      writeFileSync(file, numbers(tiny));
      let read = 0;
      const r = ratio(
        () => {
          read += (parseValue("x", `@${file}`, dir) as number[]).length;
        },
        () => {
          read += (JSON.parse(readFileSync(file, "latin1")) as number[]).length;
        },
        REPS,
      );
      if (read !== 2 * N * (REPS + 1)) throw new Error(`read ${read} numbers`);
      console.log(
        `${tiny ? "every exponent ≤ −100 (1.2e-200 …)" : "ordinary numbers (0.12 …)"}: --at x=@FILE ${r.candidateMs.toFixed(0)} ms, ${r.ratio.toFixed(2)}× JSON.parse of the file alone (quartiles ${r.q1.toFixed(2)}–${r.q3.toFixed(2)}×, CPU ${r.cpuRatio.toFixed(2)}×)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
