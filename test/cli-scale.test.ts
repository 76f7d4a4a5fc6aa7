// Scale, through the real bin: Ctrl-C (SIGINT) prints the summary so far and the replay of the
// case in flight and exits 130; progress off a terminal is one line at a steady interval; --workers
// gives the same result as one thread; gate --shard runs every entry exactly once over the shards.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const bin = join(root, "bin/gradtrio.js");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin; `interruptWhen` sends SIGINT once stderr matches it. */
function runBin(
  argv: string[],
  opts: { env?: Record<string, string>; interruptWhen?: RegExp } = {},
) {
  return new Promise<Run>((done) => {
    const child = spawn("node", [bin, ...argv], {
      cwd: root,
      env: { ...process.env, GRADTRIO_WORKERS: "", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let sent = false;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (!sent && opts.interruptWhen?.test(stderr)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

const json = (r: Run) =>
  JSON.parse(r.stdout, (k, v) => (k === "ms" ? undefined : v)) as Record<string, unknown>;

describe("fuzz at scale", () => {
  it("Ctrl-C prints the summary so far and the replay of the case in flight; exit 130", async () => {
    const r = await runBin(
      ["fuzz", "--ops", "test/fixtures/ops/second-arg.ok.ts", "--runs", "100000", "--seed", "3"],
      { env: { GRADTRIO_PROGRESS_MS: "200", GRADTRIO_WORKERS: "1" }, interruptWhen: /runs\/s/ },
    );
    expect(r.code).toBe(130);
    // Progress: one line at a steady interval, with runs done, the rate and counterexamples.
    expect(r.stderr).toMatch(
      /^fuzz: \d+\/100000 runs, [\d.]+ runs\/s, counterexamples so far: 0$/m,
    );
    expect(r.stdout).toMatch(
      /^gradtrio fuzz: 1 op\(s\) from test\/fixtures\/ops\/second-arg\.ok\.ts, seed 3$/m,
    );
    expect(r.stdout).toMatch(/^interrupted \(Ctrl-C\) after \d+ runs$/m);
    const flight = /^in flight: op 'hypot2Ok', case (\d+): (.*) at (.*)$/m.exec(r.stdout);
    expect(flight).not.toBeNull();
    expect(r.stdout).toContain(
      `gradtrio fuzz --ops test/fixtures/ops/second-arg.ok.ts --seed 3 --path ${flight![1]}`,
    );
    expect(r.stdout).toMatch(
      /gradtrio check '.*hypot2Ok\(.*' --at .* --ops test\/fixtures\/ops\/second-arg\.ok\.ts/,
    );
  });

  it("--workers 2 gives the same result as --workers 1", async () => {
    const argv = ["fuzz", "--ops", "test/fixtures/ops/mixed/correct-and-wrong.ts", "--seed", "4"];
    const [one, two] = await Promise.all([
      runBin([...argv, "--runs", "30", "--workers", "1", "--json"]),
      runBin([...argv, "--runs", "30", "--workers", "2", "--json"]),
    ]);
    expect([one.code, two.code]).toEqual([1, 1]);
    expect(json(two)).toEqual(json(one));
  });
});

describe("gate at scale", () => {
  it("--shard 1/2 and 2/2 run every entry exactly once, each writing its own JUnit file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-shard-"));
    const config = "test/fixtures/gate/failing.config.ts";
    const [whole, first, second] = await Promise.all([
      runBin(["gate", config, "--junit", join(dir, "all.xml")]),
      runBin(["gate", config, "--shard", "1/2", "--junit", join(dir, "1.xml")]),
      runBin(["gate", config, "--shard", "2/2", "--junit", join(dir, "2.xml"), "--workers", "2"]),
    ]);
    expect([whole.code, first.code, second.code]).toEqual([1, 1, 1]);
    const cases = (f: string) =>
      [...readFileSync(join(dir, f), "utf8").matchAll(/<testcase [^>]*name="([^"]+)"/g)].map(
        (m) => m[1],
      );
    const all = cases("all.xml");
    const [a, b] = [cases("1.xml"), cases("2.xml")];
    expect(all).toHaveLength(5);
    expect(a.filter((n) => b.includes(n))).toEqual([]);
    expect([...a, ...b].sort()).toEqual([...all].sort());
    expect(readFileSync(join(dir, "2.xml"), "utf8")).toContain(
      '<property name="shard" value="2/2"/>',
    );
    expect(second.stdout).toContain("(seed 7, shard 2/2)");
  });

  it("Ctrl-C prints the entries done and the case in flight, writes the JUnit file; exit 130", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-sigint-"));
    const r = await runBin(
      ["gate", "test/fixtures/gate/long-fuzz.config.ts", "--junit", join(dir, "g.xml")],
      // Once the fuzz entry runs (the check is done by then).
      {
        env: { GRADTRIO_PROGRESS_MS: "200", GRADTRIO_WORKERS: "1" },
        interruptWhen: /[1-9]\d*\/100000 runs/,
      },
    );
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(
      /^gate: \d+\/100000 runs, [\d.]+ runs\/s, counterexamples so far: 0$/m,
    );
    expect(r.stdout).toMatch(/PASS\s+check\s+square/);
    expect(r.stdout).toMatch(/^interrupted \(Ctrl-C\) after 1 entry; interrupted: 1, not run: 0$/m);
    expect(r.stdout).toContain("1 passed, 0 failed (1 entry)"); // not "1 entries"
    expect(r.stdout).toMatch(/^in flight: op 'hypot2Ok', case \d+: /m);
    expect(r.stdout).toMatch(
      // Relative to the working directory, where the replay is pasted (not to the config).
      /gradtrio fuzz --ops test\/fixtures\/ops\/second-arg\.ok\.ts --seed 3 --path \d+/,
    );
    // Not all green: the entry in flight is an error of the suite, the totals say so.
    const xml = readFileSync(join(dir, "g.xml"), "utf8");
    expect(xml).toMatch(
      /<testsuite name="gradtrio gate" tests="2" failures="0" errors="1" skipped="0">/,
    );
    expect(xml).toContain('<property name="interrupted" value="true"/>');
    expect(xml).toMatch(
      /<testcase classname="gradtrio.fuzz" name="fuzz\[0\] hypot" time="0.000">\s*<error message="interrupted \(Ctrl-C\) while it ran" type="interrupted"\/>/,
    );
  });

  it("rejects a bad --shard or --workers (exit 2)", async () => {
    const [shard, workers] = await Promise.all([
      runBin(["gate", "test/fixtures/gate/passing.config.ts", "--shard", "3/2"]),
      runBin(["fuzz", "--ops", "test/fixtures/ops/wrong-sign.ok.ts", "--workers", "0"]),
    ]);
    expect([shard.code, workers.code]).toEqual([2, 2]);
    expect(shard.stderr).toBe(
      "gradtrio: error: --shard must be I/N with 1 ≤ I ≤ N (e.g. 2/4), got '3/2'\n",
    );
    expect(workers.stderr).toMatch(
      /^gradtrio: error: .*--workers must be an integer from 1 to 256/,
    );
  });
});
