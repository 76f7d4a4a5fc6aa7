// User code that misbehaves outside gradtrio's calls, through the real bin (src/fuzz/stray.ts):
// a promise rejected and never handled, a throw from a timer, process.exit(…). Each gives one
// line (exit 2) naming the module, or fails its gate entry alone; never a stack trace, never a
// silent exit 0; the gate writes its JUnit file in every case.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { oneError, runsTogether, tempDir, UNSET_WORKERS } from "./run-bin.ts";

const DIR = "test/fixtures/stray";
const out = tempDir("gradtrio-stray-");
const xml = (name: string) => join(out, name);
const gate = (config: string, junit: string, workers = "1") => [
  "gate",
  `${DIR}/${config}`,
  "--junit",
  xml(junit),
  "--workers",
  workers,
];

const runs = runsTogether(
  {
    fuzzReject: ["fuzz", "--ops", `${DIR}/reject-at-import.ts`, "--runs", "3"],
    fuzzExit: ["fuzz", "--ops", `${DIR}/exit-at-import.ts`, "--runs", "3"],
    fuzzTimer: ["fuzz", "--ops", `${DIR}/timer-throws.ts`, "--runs", "3000", "--workers", "1"],
    checkReject: ["check", "rejectSquare(x)", "--at", "x=3", "--ops", `${DIR}/reject-at-import.ts`],
    checkExit: ["check", "exitSquare(x)", "--at", "x=3", "--ops", `${DIR}/exit-at-import.ts`],
    checkBackward: [
      "check",
      "rejectingSquare(x)",
      "--at",
      "x=3",
      "--ops",
      `${DIR}/backward-rejects.ts`,
    ],
    checkBackwardExit: [
      "check",
      "exitingSquare(x)",
      "--at",
      "x=3",
      "--ops",
      `${DIR}/backward-exits.ts`,
      "--json",
    ],
    gateConfigReject: gate("reject-at-import.config.ts", "config-reject.xml"),
    gateConfigExit: gate("exit-at-import.config.ts", "config-exit.xml"),
    gateOpsReject: gate("ops-reject.config.ts", "ops-reject.xml"),
    gateEntries: gate("entries.config.ts", "entries.xml"),
    // The entries side by side: each stray still goes to the entry whose code made it.
    gateEntriesTogether: gate("entries.config.ts", "entries-together.xml", "2"),
    // The first entry's code throws after its entry ended, while the second runs.
    gateLate: gate("late.config.ts", "late.xml"),
    gateLateTogether: gate("late.config.ts", "late-together.xml", "2"),
    // With --workers, entries run on this thread one after another keep their own strays.
    gateSecondTogether: gate("second-strays.config.ts", "second-together.xml", "2"),
    // A timer of the ops' module throws once the command has returned.
    checkAfter: ["check", "afterSquare(x)", "--at", "x=3", "--ops", `${DIR}/after-command.ts`],
    gateAfter: gate("after-command.config.ts", "after.xml"),
    // User code printing with console: with --json, to stderr; without, where it always went.
    checkNoisyJson: [
      "check",
      "noisySquare(x)",
      "--at",
      "x=3",
      "--ops",
      `${DIR}/noisy.ts`,
      "--json",
    ],
    checkNoisy: ["check", "noisySquare(x)", "--at", "x=3", "--ops", `${DIR}/noisy.ts`],
    fuzzNoisyJson: ["fuzz", "--ops", `${DIR}/noisy.ts`, "--runs", "20", "--workers", "2", "--json"],
    // explain has no collector of its own: main's takes what its code leaves behind.
    explainBackward: [
      "explain",
      "rejectingSquare(x)",
      "--at",
      "x=3",
      "--ops",
      `${DIR}/backward-rejects.ts`,
    ],
  },
  // No progress line: on a loaded machine a run can pass the 10 s interval, and the tests read
  // stderr whole.
  { env: { GRADTRIO_DEBUG: "", GRADTRIO_PROGRESS_MS: "2147483647", ...UNSET_WORKERS } },
);

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at |Node\.js v/);

describe("a module that fails at import: one line naming it, exit 2", () => {
  it("a promise rejected at import (fuzz, check)", () => {
    const line = `ops module '${DIR}/reject-at-import.ts' failed to load: unhandled promise rejection: rejected at import`;
    oneError(runs.fuzzReject, line);
    oneError(runs.checkReject, line);
  });

  it("process.exit(0) at import (fuzz, check): no silent exit 0", () => {
    const line = `ops module '${DIR}/exit-at-import.ts' failed to load: called process.exit(0): a module must not end gradtrio's process`;
    oneError(runs.fuzzExit, line);
    oneError(runs.checkExit, line);
  });

  it("a timer that throws later stops the fuzz: one line naming the module", () => {
    expect(runs.fuzzTimer.code).toBe(2);
    expect(runs.fuzzTimer.stdout).toBe("");
    expect(runs.fuzzTimer.stderr).toMatch(
      /^gradtrio: error: (ops )?module '[^']*timer-throws\.ts'.*: uncaught exception: thrown from a timer\n$/,
    );
  });
});

describe("user code that misbehaves while a check runs", () => {
  it("a backward that rejects a promise: one line, exit 2, no report", () => {
    oneError(
      runs.checkBackward,
      `module '${DIR}/backward-rejects.ts': unhandled promise rejection: rejected inside backward`,
    );
  });

  it("a backward that calls process.exit(0): its backward threw, autograd blamed (exit 1)", () => {
    expect(runs.checkBackwardExit.code).toBe(1);
    expect(JSON.parse(runs.checkBackwardExit.stdout)).toMatchObject({
      blame: "autograd",
      reason: expect.stringContaining("exitingSquare: its backward threw: called process.exit(0)"),
    });
  });
});

describe("gate: bad input writes the error JUnit; a misbehaving entry fails alone", () => {
  it("a config that rejects a promise or exits at import: exit 2, JUnit written", () => {
    for (const [r, file, what] of [
      [
        runs.gateConfigReject,
        "config-reject.xml",
        "unhandled promise rejection: config rejected at import",
      ],
      [runs.gateConfigExit, "config-exit.xml", "called process.exit(0)"],
      [runs.gateOpsReject, "ops-reject.xml", "unhandled promise rejection: rejected at import"],
    ] as const) {
      expect(r.code).toBe(2);
      noStack(r.stderr);
      expect(r.stderr.split("\n")).toHaveLength(2);
      expect(r.stderr).toContain(what);
      expect(existsSync(xml(file))).toBe(true);
      const report = readFileSync(xml(file), "utf8");
      expect(report).toMatch(/failures="1"/);
      expect(report).toContain(what);
    }
  });

  it.each(["gateEntries", "gateEntriesTogether"] as const)(
    "%s: entries whose backward rejects a promise or calls process.exit fail; the others pass",
    (name) => {
      const r = runs[name];
      expect(r.code).toBe(1);
      noStack(r.stderr);
      expect(r.stdout).toMatch(
        /FAIL\s+check\s+rejects\s+—\s+module '[^']*backward-rejects\.ts': unhandled promise rejection: rejected inside backward/,
      );
      expect(r.stdout).toMatch(/FAIL\s+check\s+exits\s+—\s+disagree/);
      expect(r.stdout).toMatch(/PASS\s+check\s+plain/);
      const report = readFileSync(
        xml(name === "gateEntries" ? "entries.xml" : "entries-together.xml"),
        "utf8",
      );
      expect(report).toMatch(/tests="3" failures="2"/);
    },
  );
});

describe("gate: a stray that surfaces after its entry ended", () => {
  it.each(["gateLate", "gateLateTogether"] as const)(
    "%s: fails its own entry, not the entry running then",
    (name) => {
      const r = runs[name];
      expect(r.code).toBe(1);
      noStack(r.stderr);
      expect(r.stdout).toMatch(
        /FAIL\s+check\s+leaves a callback\s+—\s+module '[^']*late-timer\.ts': uncaught exception: thrown late by lateSquare's callback/,
      );
      expect(r.stdout).toMatch(/PASS\s+check\s+runs next/);
      expect(r.stdout).toContain("1 passed, 1 failed (2 entries)");
      const report = readFileSync(
        xml(name === "gateLate" ? "late.xml" : "late-together.xml"),
        "utf8",
      );
      expect(report).toMatch(/tests="2" failures="1"/);
      expect(report).toMatch(/<testcase[^>]*name="checks\[0\] leaves a callback"[^>]*>\s*<failure/);
    },
  );

  it("with --workers, the entry whose code strays fails, also when another ran before it here", () => {
    const r = runs.gateSecondTogether;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/PASS\s+check\s+plain/);
    expect(r.stdout).toMatch(
      /FAIL\s+check\s+rejects\s+—\s+module '[^']*backward-rejects\.ts': unhandled promise rejection: rejected inside backward/,
    );
  });
});

describe("a stray once the command has returned, or caught by main's collector", () => {
  const afterLine = `gradtrio: error: module '${DIR}/after-command.ts': uncaught exception: thrown after the command\n`;

  it("check: its report, then one line naming the module, exit 2", () => {
    const r = runs.checkAfter;
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("✓ agree: all three legs agree");
    expect(r.stderr).toBe(afterLine);
  });

  it("gate: the JUnit file written before it is written again, failing (its entry and `process`)", () => {
    const r = runs.gateAfter;
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/PASS\s+check\s+passes, then a timer throws/);
    expect(r.stderr).toBe(afterLine);
    const report = readFileSync(xml("after.xml"), "utf8");
    expect(report).toMatch(/tests="2" failures="1"/);
    expect(report).toMatch(/<testcase[^>]*name="checks\[0\] passes, then a timer throws"[^>]*\/>/);
    expect(report).toContain(`name="process ${DIR}/after-command.config.ts"`);
    expect(report).toContain("uncaught exception: thrown after the command");
  });

  it("explain: a backward that rejects a promise: one line naming the module, exit 2", () => {
    const r = runs.explainBackward;
    expect(r.code).toBe(2);
    noStack(r.stderr);
    expect(r.stderr).toBe(
      `gradtrio: error: module '${DIR}/backward-rejects.ts': unhandled promise rejection: rejected inside backward\n`,
    );
  });
});

describe("user code's console output", () => {
  it("goes to stderr with --json: stdout is the report alone (check, fuzz on two threads)", () => {
    for (const r of [runs.checkNoisyJson, runs.fuzzNoisyJson]) {
      expect(r.code).toBe(0);
      expect(() => JSON.parse(r.stdout)).not.toThrow();
      expect(r.stderr).toContain("noisy: loaded");
      expect(r.stderr).toContain("noisy: backward at");
    }
    expect(runs.checkNoisyJson.stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(runs.checkNoisyJson.stdout).verdict).toBe("agree");
    expect(JSON.parse(runs.fuzzNoisyJson.stdout).perOp[0].counterexample).toBeNull();
  });

  it("stays on stdout without --json", () => {
    expect(runs.checkNoisy.code).toBe(0);
    expect(runs.checkNoisy.stdout.split("\n").slice(0, 2)).toEqual([
      "noisy: loaded",
      "noisy: backward at 3",
    ]);
  });
});
