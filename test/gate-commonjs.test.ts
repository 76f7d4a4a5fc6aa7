// A project without "type": "module": its .ts config and ops modules are CommonJS. The gate and
// the fuzzer read the module's own exports. (`require("gradtrio")` from a CommonJS module of an
// installed package: test/package.test.ts.)
import { resolve } from "node:path";
import { expect, it } from "vitest";
import { type CustomOpDefinition, lookupCustomOp } from "../src/expr/ops.ts";
import { loadConfig, runGate } from "../src/fuzz/gate.ts";
import { loadOps } from "../src/fuzz/load.ts";

const gate = resolve(import.meta.dirname, "fixtures/gate");
const cjs = resolve(gate, "commonjs");

it("loadOps finds `export default defineOp(...)` and named ops in a CommonJS module", async () => {
  const ops = await loadOps("ops.ts", cjs);
  expect(ops.map((o) => [o.exportName, o.definition.name])).toEqual([
    ["cjsSquare", "cjsSquare"],
    ["default", "cjsCube"],
  ]);
  expect((lookupCustomOp("cjsCube") as CustomOpDefinition | undefined)?.forward(2)).toBe(8);
});

it("loadConfig reads the default export of a CommonJS config, and its gate runs", async () => {
  const { config, dir } = await loadConfig("gradtrio.config.ts", cjs);
  expect(config.seed).toBe(3);
  expect(config.checks?.map((c) => c.name)).toEqual(["cube op"]);
  expect(config.fuzz?.map((f) => f.ops)).toEqual(["./ops.ts"]);
  const r = await runGate(config, { dir });
  expect(r.entries.map((e) => [e.name, e.passed])).toEqual([
    ["cube op", true],
    ["./ops.ts: cjsSquare", true],
    ["./ops.ts: cjsCube", true],
  ]);
});
