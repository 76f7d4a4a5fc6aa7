// The gate's replay commands, run where the gate ran: from a parent directory of the config, the
// printed `gradtrio fuzz …` and `gradtrio check …` (terminal and JUnit) replay the counterexample
// or the failing check (its exit code), paths relative to the working directory, not to the
// config's. A check at random points of a domain replays its shrunk point too, and its shrink
// keeps a conviction of autograd (review 11, finding 6).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { bin, root, runsTogether, tempDir, UNSET_WORKERS } from "./run-bin.ts";

const FIXTURES = resolve(root, "test/fixtures");
const out = tempDir("gradtrio-gate-replay-");
const junit = join(out, "r.xml");
const junitRandom = join(out, "random.xml");
const RANDOM = "gate/random-point.config.ts";
const runs = runsTogether(
  {
    gate: ["gate", "gate/failing.config.ts", "--junit", junit, "--workers", "1"],
    random: ["gate", RANDOM, "--junit", junitRandom, "--workers", "1"],
    // The check entries on worker threads: the replay's ops modules travel with the task.
    randomThreads: ["gate", RANDOM, "--workers", "2"],
  },
  { cwd: FIXTURES, env: UNSET_WORKERS },
);

/** The replay lines of a text (the JUnit's CDATA closes on the last): `gradtrio fuzz …`, `gradtrio check …`. */
const replays = (text: string) =>
  text
    .split("\n")
    .map((l) => l.replace("]]></failure>", "").trim())
    .filter((l) => /^gradtrio (fuzz|check) /.test(l));

/** Runs a printed command line in a shell, in `cwd`, with the checkout's bin for `gradtrio`. */
function run(line: string, cwd: string) {
  const command = line.replace(/^gradtrio /, `node ${JSON.stringify(bin)} `);
  return spawnSync("sh", ["-c", command], {
    cwd,
    env: { ...process.env, ...UNSET_WORKERS },
    encoding: "utf8",
  });
}
const replay = (line: string, cwd: string) => run(line, cwd).status;

describe("gate replay commands, run from the gate's working directory", () => {
  it("name the ops module relative to the working directory", () => {
    expect(runs.gate.code).toBe(1);
    expect(replays(runs.gate.stdout)).toEqual([
      // The failing checks at a point: the op's module, none for built-ins.
      "gradtrio check 'sin(mycos(x))' --at x=0.5 --ops ops/wrong-sign.bug.ts",
      "gradtrio check 'relu(x)' --at x=0",
      expect.stringMatching(/^gradtrio fuzz --ops ops\/wrong-sign\.bug\.ts --seed 7 --path \S+$/),
      expect.stringMatching(/^gradtrio check '.*' --at .* --ops ops\/wrong-sign\.bug\.ts$/),
    ]);
    expect(replays(readFileSync(junit, "utf8"))).toEqual(replays(runs.gate.stdout));
  });

  it("replay the failure when pasted there (its exit code: 1 contradicted, 3 the kink)", () => {
    const lines = replays(runs.gate.stdout);
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => replay(l, FIXTURES))).toEqual([1, 3, 1, 1]);
  });
});

describe("a failing check at random points of a domain", () => {
  it("prints its replay at the shrunk point, terminal and JUnit, on worker threads too", () => {
    expect(runs.random.code).toBe(1);
    const lines = replays(runs.random.stdout);
    const check = lines.find((l) => l.startsWith("gradtrio check 'sinOff(x)*sum(v^2)' "));
    expect(check).toMatch(
      /^gradtrio check 'sinOff\(x\)\*sum\(v\^2\)' --at x=\S+ --at 'v=\[[^\]]+\]' --ops gate\/sin-off-ops\.ts$/,
    );
    expect(replays(readFileSync(junitRandom, "utf8"))).toEqual(lines);
    expect(runs.randomThreads.code).toBe(1);
    expect(replays(runs.randomThreads.stdout)).toEqual(lines);
    // The kink at a point: no ops module to load.
    expect(lines).toContain("gradtrio check 'relu(x)' --at x=0");
  });

  it("keeps the conviction while shrinking: blame autograd at the shrunk point, never 'no majority'", () => {
    const block = runs.random.stdout.slice(runs.random.stdout.indexOf("checks[0] rand sinOff:"));
    // It had shrunk to x = 0, v = [0,0,-9.3e-10], where sum(v²) ≈ 9e-19 leaves numeric unable to tell.
    expect(block).toMatch(
      /^ {2}sinOff\(x\)\*sum\(v\^2\) at x = .*: disagree \(blame: autograd\)$/m,
    );
    expect(runs.random.stdout).not.toMatch(/cannot tell which is right/);
    // The replay convicts autograd there too (exit 1).
    const check = replays(runs.random.stdout).find((l) => l.includes("sinOff(x)*sum"))!;
    const r = run(`${check} --json`, FIXTURES);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: "disagree", blame: "autograd" });
  });
});
