// The gate's replay commands, run where the gate ran: from a parent directory of the config, the
// printed `gradtrio fuzz …` and `gradtrio check …` (terminal and JUnit) replay the counterexample
// (exit 1), paths relative to the working directory, not to the config's.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { bin, root, runsTogether, tempDir, UNSET_WORKERS } from "./run-bin.ts";

const FIXTURES = resolve(root, "test/fixtures");
const out = tempDir("gradtrio-gate-replay-");
const junit = join(out, "r.xml");
const runs = runsTogether(
  { gate: ["gate", "gate/failing.config.ts", "--junit", junit, "--workers", "1"] },
  { cwd: FIXTURES, env: UNSET_WORKERS },
);

/** The replay lines of a text (the JUnit's CDATA closes on the last): `gradtrio fuzz …`, `gradtrio check …`. */
const replays = (text: string) =>
  text
    .split("\n")
    .map((l) => l.replace("]]></failure>", "").trim())
    .filter((l) => /^gradtrio (fuzz|check) /.test(l));

/** Runs a printed command line in a shell, in `cwd`, with the checkout's bin for `gradtrio`. */
function replay(line: string, cwd: string): number | null {
  const command = line.replace(/^gradtrio /, `node ${JSON.stringify(bin)} `);
  return spawnSync("sh", ["-c", command], { cwd, env: { ...process.env, ...UNSET_WORKERS } })
    .status;
}

describe("gate replay commands, run from the gate's working directory", () => {
  it("name the ops module relative to the working directory", () => {
    expect(runs.gate.code).toBe(1);
    const lines = replays(runs.gate.stdout);
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toContain("--ops ops/wrong-sign.bug.ts");
    expect(replays(readFileSync(junit, "utf8"))).toEqual(lines);
  });

  it("replay the counterexample when pasted there (exit 1, not 2)", () => {
    const lines = replays(runs.gate.stdout);
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(replay(l, FIXTURES)).toBe(1);
  });
});
