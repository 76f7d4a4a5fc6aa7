/**
 * Runs every seed notebook example in order (npm run examples), each under a title line.
 */
import { run as run000 } from "./000-day2-autograd.ts";
import { run as run001 } from "./001-autograd-practice.ts";
import { run as run002 } from "./002-autograd-steps.ts";
import { run as run003 } from "./003-pytorch-autograd.ts";
import { run as run004 } from "./004-autograd.ts";
import { isMain, type Out } from "./notebook.ts";

/** Every example, by the name of its file (without `.ts`), which is also its expected file's. */
export const EXAMPLES: ReadonlyArray<readonly [name: string, run: (out: Out) => void]> = [
  ["000-day2-autograd", run000],
  ["001-autograd-practice", run001],
  ["002-autograd-steps", run002],
  ["003-pytorch-autograd", run003],
  ["004-autograd", run004],
];

/**
 * Runs all examples, printing a `==> name` line before each.
 *
 * @example
 * runAll(console.log);
 */
export function runAll(out: Out): void {
  for (const [name, run] of EXAMPLES) {
    out(`==> ${name}`);
    run(out);
  }
}

if (isMain(import.meta.url)) runAll(console.log);
