// A custom op whose backward throws, through the real bin: the one-line report names the op and
// says its backward threw; the exit codes stay docs/DESIGN.md's (check: 1, autograd blamed; fuzz:
// 1, the op failed its sanity check); GRADTRIO_DEBUG=1 adds the user's stack on stderr.
import { describe, expect, it } from "vitest";
import { runsTogether, UNSET_WORKERS } from "./run-bin.ts";

const OPS = "test/fixtures/ops/invalid/backward-throws.ts";
const DEBUG = { GRADTRIO_DEBUG: "1" };
const CHECK = ["check", "unfinished(x)", "--at", "x=2", "--ops", OPS, "--json"];
const FUZZ = ["fuzz", "--ops", OPS, "--runs", "5", "--seed", "1"];
const runs = runsTogether(
  {
    check: CHECK,
    checkDebug: { argv: CHECK, env: DEBUG },
    tensorDebug: {
      argv: ["check", "sum(unfinishedRows(x))", "--at", "x=[1,2]", "--ops", OPS],
      env: DEBUG,
    },
    fuzz: FUZZ,
    fuzzDebug: { argv: FUZZ, env: DEBUG },
  },
  { env: { GRADTRIO_DEBUG: "", ...UNSET_WORKERS } },
);

/** The stack's frame in the fixture, where the user's backward threw. */
const userFrame = /\n {4}at .*test\/fixtures\/ops\/invalid\/backward-throws\.ts:\d+:\d+/;

describe("a custom op's backward that throws", () => {
  it("check: autograd blamed (exit 1), the reason naming the op; no stack by default", () => {
    expect(runs.check.code).toBe(1);
    expect(JSON.parse(runs.check.stdout)).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
      reason: "the autograd leg failed: unfinished: its backward threw: backward not written yet",
    });
    expect(runs.check.stderr).toBe("");
  });

  it("check with GRADTRIO_DEBUG=1: the same report, and the user's stack once on stderr", () => {
    expect(runs.checkDebug.code).toBe(1);
    expect(runs.checkDebug.stdout).toBe(runs.check.stdout);
    const err = runs.checkDebug.stderr;
    expect(err).toMatch(
      /^gradtrio: debug: unfinished's backward threw:\nError: backward not written yet\n/,
    );
    expect(err).toMatch(userFrame);
    expect(err.match(/gradtrio: debug:/g)).toHaveLength(1);
    expect(runs.tensorDebug.code).toBe(1);
    expect(runs.tensorDebug.stdout).toMatch(
      /unfinishedRows: its backward threw: vjp not written yet/,
    );
    expect(runs.tensorDebug.stderr).toMatch(
      /^gradtrio: debug: unfinishedRows's backward threw:\nRangeError: vjp not written yet\n/,
    );
    expect(runs.tensorDebug.stderr).toMatch(userFrame);
  });

  it("fuzz: both ops fail their sanity check (exit 1), named, each saying its backward threw", () => {
    expect(runs.fuzz.code).toBe(1);
    expect(runs.fuzz.stdout).toMatch(
      /op 'unfinished': backward at \(.*\) threw: backward not written yet/,
    );
    expect(runs.fuzz.stdout).toMatch(/unfinishedRows: its backward threw: vjp not written yet/);
    expect(runs.fuzz.stderr).not.toMatch(/debug|\n {4}at /);
    expect(runs.fuzzDebug.code).toBe(1);
    const untimed = (s: string) => s.replace(/\d+\.\d s/g, "");
    expect(untimed(runs.fuzzDebug.stdout)).toBe(untimed(runs.fuzz.stdout));
    expect(runs.fuzzDebug.stderr).toMatch(
      /gradtrio: debug: unfinished's backward threw:\nError: backward not written yet\n/,
    );
    expect(runs.fuzzDebug.stderr).toMatch(
      /gradtrio: debug: unfinishedRows's backward threw:\nRangeError: vjp not written yet\n/,
    );
    expect(runs.fuzzDebug.stderr).toMatch(userFrame);
  });
});
