// The gate takes tensor ops like any op: checks that call them and fuzz entries (the examples
// confirmed, a planted tensor bug failed). Its own file: the gate loads the modules itself.
import { resolve } from "node:path";
import { expect, it } from "vitest";
import { gateCommand } from "../src/cli/gate.ts";
import { memoryIO } from "../src/cli/io.ts";

it("gradtrio gate: tensor-op checks and fuzz entries; the planted bias-add bug fails", async () => {
  const io = memoryIO({ cwd: resolve(import.meta.dirname, "fixtures/gate") });
  const code = await gateCommand({ config: "tensor-ops.config.ts" }, io);
  const out = io.stdout.join("\n");
  expect(code).toBe(1);
  expect(out).toContain("4 passed, 1 failed (5 entries)");
  expect(out).toMatch(/PASS\s+check\s+softmax loss/);
  expect(out).toMatch(/PASS\s+check\s+layer norm, random/);
  expect(out).toMatch(/PASS\s+fuzz\s+.*tensor-ops\.ts: layerNorm/);
  expect(out).toMatch(/PASS\s+fuzz\s+.*tensor-ops\.ts: mySoftmax/);
  expect(out).toMatch(/FAIL\s+fuzz\s+.*bias-add\.bug\.ts: biasAddBug/);
}, 120_000);
