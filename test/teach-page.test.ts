// The page of `gradtrio teach` in a checkout (src/ through tsx, the script bundled by esbuild)
// in headless Chromium: test/teach-page/suite.ts.
import { statSync } from "node:fs";
import { expect } from "vitest";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";
import { describePage } from "./teach-page/suite.ts";

describePage("a checkout: esbuild's bundle", async (file) => {
  const io = memoryIO();
  expect(await main(["teach", "--out", file], io)).toBe(0);
  expect(io.stdout[0]).toMatch(/^wrote .*page\.html \(\d+ kB, self-contained\)/);
  // kB of the file as written (UTF-8 bytes / 1000), not UTF-16 units / 1024.
  const kB = Number(/\((\d+) kB/.exec(io.stdout[0]!)![1]);
  expect(kB).toBe(Math.round(statSync(file).size / 1000));
});
