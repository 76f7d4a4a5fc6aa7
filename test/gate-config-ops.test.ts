// Ops the config module exports are registered for its checks (the config loads with its own
// copy of gradtrio's registry, so defineOp there alone would not make them known here).
import { resolve } from "node:path";
import { expect, it } from "vitest";
import { type CustomOpDefinition, lookupCustomOp } from "../src/expr/ops.ts";
import { loadConfig, runGate } from "../src/fuzz/gate.ts";

const gate = resolve(import.meta.dirname, "fixtures/gate");

it("the checks of a config may call the ops the config exports", async () => {
  const { config, dir, ops } = await loadConfig("own-ops.config.ts", gate);
  expect(ops.map((o) => o.definition.name)).toEqual(["configBadSquare", "configSoftsign"]);
  expect((lookupCustomOp("configSoftsign") as CustomOpDefinition | undefined)?.forward(1)).toBe(
    0.5,
  );
  const r = await runGate(config, { dir });
  expect(r.entries.map((e) => [e.name, e.outcome])).toEqual([
    ["softsign", "agree"],
    // d/dx x² = 6 at 3; the op's backward gives 3.
    ["bad square", "disagree"],
  ]);
  expect(r.entries[1]!.details.join("\n")).toMatch(/x\s+6\s+6(\.0+)?\s+\S+\s+3\b/);
});
