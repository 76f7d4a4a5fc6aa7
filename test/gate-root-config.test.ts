// The repo's own gradtrio.config.ts (the README's example) passes its gate.
import { resolve } from "node:path";
import { expect, it } from "vitest";
import { gateCommand } from "../src/cli/gate.ts";
import { memoryIO } from "../src/cli/io.ts";

it("gradtrio gate passes on the repository's gradtrio.config.ts", async () => {
  const io = memoryIO({ cwd: resolve(import.meta.dirname, "..") });
  const code = await gateCommand({}, io);
  expect(io.stderr).toEqual([]);
  expect(io.stdout.join("\n")).toMatch(/\d+ passed, 0 failed/);
  expect(code).toBe(0);
});
