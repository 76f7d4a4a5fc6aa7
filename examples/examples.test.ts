// Each example's output against the text the seed printed, transcribed by hand into expected/.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXAMPLES } from "./run-all.ts";

/** Expected lines: "## " lines are notes; "~~ " lines are regular expressions. */
function expectedLines(name: string): string[] {
  const text = readFileSync(new URL(`./expected/${name}.txt`, import.meta.url), "utf8");
  return text
    .split("\n")
    .filter((line, i, all) => !line.startsWith("## ") && !(line === "" && i === all.length - 1));
}

function outputLines(run: (out: (line: string) => void) => void): string[] {
  const lines: string[] = [];
  run((line) => lines.push(...line.split("\n")));
  return lines;
}

describe("the seed notebooks, in TypeScript", () => {
  for (const [name, run] of EXAMPLES) {
    it(`${name} prints what the seed printed`, () => {
      const actual = outputLines(run);
      const expected = expectedLines(name).map((line, i) => {
        if (!line.startsWith("~~ ")) return line;
        // A pattern line stands for the printed line when it matches, so the diff shows the rest.
        const printed = actual[i];
        return printed !== undefined && new RegExp(line.slice(3)).test(printed) ? printed : line;
      });
      expect(actual).toEqual(expected);
    });
  }
});
