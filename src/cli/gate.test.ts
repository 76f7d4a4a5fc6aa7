import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { GradtrioError } from "../errors.ts";
import { defineConfig } from "../fuzz/config.ts";
import { type GateEntryResult, plannedEntries, unfinishedEntries } from "../fuzz/gate.ts";
import { gateCommand, gateJUnit } from "./gate.ts";
import { memoryIO } from "./io.ts";
import { main } from "./main.ts";
import { reportError } from "./report-error.ts";

const gate = resolve(import.meta.dirname, "../../test/fixtures/gate");

async function run(config: string, junit?: string) {
  const io = memoryIO({ cwd: gate });
  const code = await gateCommand({ config, ...(junit === undefined ? {} : { junit }) }, io);
  return { code, out: io.stdout.join("\n"), err: io.stderr };
}

describe("gradtrio gate", () => {
  it("exits 0 when every check and fuzzed op agrees (an allowed kink included)", async () => {
    const { code, out } = await run("passing.config.ts");
    expect(code).toBe(0);
    expect(out).toContain("6 passed, 0 failed (6 entries)");
    expect(out).toMatch(/PASS\s+check\s+kink allowed\s+—\s+inconclusive at x = 0/);
    expect(out).toMatch(/PASS\s+fuzz\s+\.\.\/ops\/ignores-grad\.ok\.ts: cubeOk/);
  });

  it("passes a check whose CAS is outvoted (autograd confirmed), fails it with strict: true", async () => {
    const { code, out } = await run("outvoted.config.ts");
    expect(code).toBe(1);
    expect(out).toContain("1 passed, 1 failed (2 entries)");
    expect(out).toMatch(
      /PASS\s+check\s+CAS outvoted\s+—\s+symbolic outvoted at y = -2: symbolic is outvoted: symbolic gives 1 at y where numeric gives -1 and autograd gives -1/,
    );
    expect(out).toMatch(/FAIL\s+check\s+CAS outvoted, strict\s+—\s+disagree at y = -2/);
  });

  it("fails the checks of a custom op whose forward is not its formula's function", async () => {
    // sqBug: forward x², backward and formula x³. The CAS sided with the backward and outvoted
    // the finite differences (PASS, "numeric outvoted at 20 random points"); it has no vote now.
    const { code, out } = await run("collude.config.ts");
    expect(code).toBe(1);
    expect(out).toContain("0 passed, 2 failed (2 entries)");
    expect(out).toMatch(
      /FAIL\s+check\s+my square\s+—\s+disagree at x = 1.5: numeric and autograd differ at x: 3 vs 6.75/,
    );
    expect(out).toMatch(/FAIL\s+check\s+my square, random\s+—\s+disagree at a random point/);
    expect(out).toContain("the symbolic leg has no vote: custom op 'sqBug': its formula gives");
  });

  it("exits 1 on a disagreement, an inconclusive check and a fuzzed bug, and writes JUnit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-gate-"));
    const xmlPath = join(dir, "reports", "gradients.xml");
    const { code, out } = await run("failing.config.ts", xmlPath);
    expect(code).toBe(1);
    expect(out).toContain("2 passed, 3 failed (5 entries)");
    expect(out).toMatch(/FAIL\s+check\s+buggy op nested\s+—\s+disagree at x = 0.5/);
    expect(out).toMatch(/FAIL\s+check\s+kink\s+—\s+inconclusive/);
    expect(out).toMatch(/FAIL\s+fuzz\s+wrong sign: mycos/);
    const xml = readFileSync(xmlPath, "utf8");
    // The JUnit message says the outcome once ('inconclusive: inconclusive at …' before).
    expect(xml).toMatch(/<failure message="inconclusive at x = 0: /);
    expect(xml).not.toMatch(/message="(\w+): \1/);
    expect(xml).toMatch(/<testsuite name="gradtrio gate" tests="5" failures="3"/);
    expect(xml.match(/<testcase /g)).toHaveLength(5);
    expect(xml).toContain('<testcase classname="gradtrio.check" name="checks[0] agrees"');
    expect(xml).toMatch(
      /<failure message="disagree at x = 0.5: [^"]*" type="disagree"><!\[CDATA\[sin\(mycos\(x\)\) at x = 0.5: disagree \(blame: autograd\)/,
    );
    expect(xml).toMatch(
      /<failure message="counterexample: [^"]*" type="counterexample"><!\[CDATA\[counterexample for op 'mycos'/,
    );
    expect(xml).toContain('<testcase classname="gradtrio.fuzz" name="fuzz[1] twin: mycosOk"');
  });

  it("an error reported after the JUnit file is written fails it: its test cases and one more", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-gate-"));
    const xmlPath = join(dir, "after.xml");
    const { code } = await run("passing.config.ts", xmlPath);
    expect(code).toBe(0);
    expect(readFileSync(xmlPath, "utf8")).toMatch(/tests="6" failures="0"/);
    // What main (or the process's guard) does with user code's stray after the command returned.
    const io = memoryIO();
    const stray = "module 'ops.ts': uncaught exception: thrown from a timer";
    expect(reportError(new GradtrioError("MODULE", stray), io)).toBe(2);
    expect(io.stderr).toEqual([`gradtrio: error: ${stray}`]);
    const xml = readFileSync(xmlPath, "utf8");
    expect(xml).toMatch(/tests="7" failures="1"/);
    expect(xml).toMatch(/<testcase[^>]*name="checks\[0\] [^"]*"/); // the entries are still there
    expect(xml).toMatch(
      new RegExp(
        `<testcase[^>]*name="process passing.config.ts"[^>]*>\\s*<failure message="error: ${stray}"`,
      ),
    );
    // Once: a second error (another command of this process) leaves the file as it is.
    reportError(new GradtrioError("MODULE", "another"), memoryIO());
    expect(readFileSync(xmlPath, "utf8")).toBe(xml);
    rmSync(dir, { recursive: true, force: true });
  });

  it("an op failing its sanity check is a failing test case; every entry runs; JUnit written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-gate-"));
    const xmlPath = join(dir, "gradients.xml");
    const { code, out, err } = await run("sanity-failing.config.ts", xmlPath);
    expect(err.filter((l) => l.startsWith("gradtrio: error"))).toEqual([]);
    expect(code).toBe(1);
    expect(out).toContain("2 passed, 2 failed (4 entries)");
    expect(out).toMatch(/FAIL\s+fuzz\s+broken: mylogNoDomain\s+—\s+op 'mylogNoDomain': forward\(/);
    expect(out).toMatch(/PASS\s+fuzz\s+mixed: cubeRight/);
    expect(out).toMatch(/FAIL\s+fuzz\s+mixed: sinWrong/);
    const xml = readFileSync(xmlPath, "utf8");
    expect(xml).toMatch(/<testsuite name="gradtrio gate" tests="4" failures="2"/);
    expect(xml).toMatch(/<failure message="sanity check failed: op 'mylogNoDomain'/);
  });

  it("a config that cannot run still leaves a JUnit file saying why (exit 2)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-gate-"));
    const xmlPath = join(dir, "reports", "gradients.xml");
    const { code, err } = await run("missing-ops.config.ts", xmlPath);
    expect(code).toBe(2);
    expect(err[0]).toContain("cannot read ops module");
    const xml = readFileSync(xmlPath, "utf8");
    expect(xml).toMatch(/<testsuite name="gradtrio gate" tests="1" failures="1"/);
    expect(xml).toContain(
      `<failure message="error: config: fuzz[0].ops: cannot read ops module './nowhere/ops.ts': no such file" type="error">`,
    );
  });

  it.each([
    ["absent.config.ts", "cannot read config 'absent.config.ts': no such file"],
    ["throws.config.ts", "config 'throws.config.ts' failed to load: CONFIG_ENV is not set"],
    ["no-default.config.ts", "config 'no-default.config.ts' has no default export"],
    ["bad-shape.config.ts", 'config: checks[2].at must be an object of NAME: value, got "x=3"'],
    ["bad-expr.config.ts", "config: checks[1].expr: unknown function 'sine'"],
    // These had been a FAIL test case (exit 1); the message had read "unknown variable 'x' (the point has y)".
    [
      "bad-variable.config.ts",
      "config: checks[1]: the expression uses 'x', but the point gives no value for it (it gives y)",
    ],
    [
      "bad-matmul.config.ts",
      "config: checks[0]: matmul: inner dimensions differ (2 vs 1) for shapes [2, 2] and [1, 3]",
    ],
    [
      "bad-domain-variable.config.ts",
      "config: checks[0]: the expression uses 'x', but the point gives no value for it (it gives y)",
    ],
    ["missing-ops.config.ts", "config: fuzz[0].ops: cannot read ops module './nowhere/ops.ts'"],
  ])("bad config %s → exit 2, one error line", async (config, message) => {
    const { code, err } = await run(config);
    expect(code).toBe(2);
    expect(err[0]).toContain(`gradtrio: error: ${message}`);
    expect(err.filter((l) => l.startsWith("gradtrio:"))).toHaveLength(1);
  });

  it("an unwritable --junit path exits 2 before running anything", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-gate-"));
    const { code, out, err } = await run("failing.config.ts", dir);
    expect(code).toBe(2);
    expect(err[0]).toBe(
      `gradtrio: error: cannot write the JUnit report '${dir}': it is a directory`,
    );
    expect(out).toBe("");
    // A file where the report's directory should be.
    writeFileSync(join(dir, "reports"), "");
    const under = join(dir, "reports", "gradients.xml");
    const second = await run("failing.config.ts", under);
    expect(second.code).toBe(2);
    expect(second.err[0]).toMatch(
      new RegExp(`^gradtrio: error: cannot write the JUnit report '${under}': EEXIST`),
    );
    expect(second.out).toBe("");
  });

  it("with no CONFIG and none in the working directory, exits 2 naming what it looked for", async () => {
    const io = memoryIO({ cwd: gate });
    expect(await gateCommand({}, io)).toBe(2);
    expect(io.stderr).toEqual([
      "gradtrio: error: no config given and no gradtrio.config.{ts,mts,js,mjs,cjs} in the working directory",
    ]);
  });

  // A directory under the OS temp dir has no package.json above it: its .js files are CommonJS
  // to Node, so the ESM .js config is the case of a project without "type": "module".
  const configs: [string, string][] = [
    ["gradtrio.config.ts", "export default { checks: [{ expr: 'x^2', at: { x: 3 } as const }] };"],
    ["gradtrio.config.mts", "export default { checks: [{ expr: 'x^2', at: { x: 3 } }] };"],
    ["gradtrio.config.js", "export default { checks: [{ expr: 'x^2', at: { x: 3 } }] };"],
    ["gradtrio.config.mjs", "export default { checks: [{ expr: 'x^2', at: { x: 3 } }] };"],
    ["gradtrio.config.cjs", "module.exports = { checks: [{ expr: 'x^2', at: { x: 3 } }] };"],
  ];
  it.each(configs)("with no CONFIG, finds %s in the working directory", async (name, text) => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-gate-"));
    writeFileSync(join(dir, name), text);
    const io = memoryIO({ cwd: dir });
    expect(await gateCommand({}, io)).toBe(0);
    expect(io.stderr).toEqual([]);
    expect(io.stdout[0]).toBe(`gradtrio gate: ${name} (seed 20261122)`);
  });

  // A .cts config in either syntax, given as CONFIG (it is not looked up by default).
  it.each([
    ["module.exports", "module.exports = { checks: [{ expr: 'x^2', at: { x: 3 } }] };"],
    ["export default", "export default { checks: [{ expr: 'x^2', at: { x: 3 } as const }] };"],
  ])("takes a .cts config written with %s", async (_, text) => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-gate-"));
    writeFileSync(join(dir, "suite.config.cts"), text);
    const io = memoryIO({ cwd: dir });
    expect(await gateCommand({ config: "suite.config.cts" }, io)).toBe(0);
    expect(io.stderr).toEqual([]);
    expect(io.stdout.at(-1)).toMatch(/^1 passed, 0 failed/);
  });

  it("takes .ts before .mts, .js, .mjs and .cjs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-gate-"));
    for (const [name, text] of configs) writeFileSync(join(dir, name), text);
    const io = memoryIO({ cwd: dir });
    await gateCommand({}, io);
    expect(io.stdout[0]).toBe("gradtrio gate: gradtrio.config.ts (seed 20261122)");
    rmSync(join(dir, "gradtrio.config.ts"));
    const next = memoryIO({ cwd: dir });
    await gateCommand({}, next);
    expect(next.stdout[0]).toBe("gradtrio gate: gradtrio.config.mts (seed 20261122)");
  });
});

describe("gateJUnit", () => {
  it("escapes names and messages, keeps ]]> inside CDATA, drops characters XML cannot hold", () => {
    const xml = gateJUnit({
      seed: 7,
      passed: 1,
      failed: 1,
      entries: [
        {
          kind: "check",
          path: "checks[0]",
          name: 'a & <b> "c"',
          passed: true,
          outcome: "agree",
          summary: "agree",
          details: [],
          // JUnit's time is seconds to the ms (it printed 0.01581123500000001).
          ms: 15.81123500000001,
        },
        {
          kind: "fuzz",
          path: "fuzz[0]",
          name: "op",
          passed: false,
          outcome: "counterexample",
          summary: "x < 1",
          details: ["a ]]> b", "\u001b[31mred\u001b[39m"],
          ms: 1500,
        },
      ],
    });
    expect(xml).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites tests="2" failures="1" errors="0" skipped="0">',
        '  <testsuite name="gradtrio gate" tests="2" failures="1" errors="0" skipped="0">',
        "    <properties>",
        '      <property name="seed" value="7"/>',
        "    </properties>",
        '    <testcase classname="gradtrio.check" name="checks[0] a &amp; &lt;b> &quot;c&quot;" time="0.016"/>',
        '    <testcase classname="gradtrio.fuzz" name="fuzz[0] op" time="1.500">',
        '      <failure message="counterexample: x &lt; 1" type="counterexample"><![CDATA[a ]]]]><![CDATA[> b',
        "[31mred[39m]]></failure>",
        "    </testcase>",
        "  </testsuite>",
        "</testsuites>",
      ].join("\n"),
    );
  });
});

describe("an interrupted gate's JUnit", () => {
  it("has every planned entry: the running one an error, the others skipped; never all green", () => {
    const planned = plannedEntries(
      defineConfig({
        checks: [
          { name: "done", expr: "x^2", at: { x: 3 } },
          { name: "running", expr: "x^3", at: { x: 3 } },
        ],
        fuzz: [{ ops: "./ops.ts" }],
      }),
    );
    const done: GateEntryResult[] = [
      {
        kind: "check",
        path: "checks[0]",
        name: "done",
        passed: true,
        outcome: "agree",
        summary: "agree at x = 3",
        details: [],
        ms: 5,
      },
    ];
    const rest = unfinishedEntries(planned, done, new Set(["checks[0]", "checks[1]"]));
    const xml = gateJUnit({ seed: 1, entries: [...done, ...rest], passed: 1, failed: 2 });
    expect(xml).toContain('<testsuites tests="3" failures="0" errors="1" skipped="1">');
    expect(xml).toContain('<property name="interrupted" value="true"/>');
    expect(xml).toContain(
      '<testcase classname="gradtrio.check" name="checks[1] running" time="0.000">\n      <error message="interrupted (Ctrl-C) while it ran" type="interrupted"/>',
    );
    expect(xml).toContain(
      '<testcase classname="gradtrio.fuzz" name="fuzz[0] ./ops.ts" time="0.000">\n      <skipped message="not run: the gate was interrupted (Ctrl-C)"/>',
    );
  });
});

describe("a gate command line that does not parse", () => {
  it.each([
    [["--workers", "0"], "option '--workers <N>' argument '0' is invalid."],
    [["--workers", "abc"], "option '--workers <N>' argument 'abc' is invalid."],
    [["--bogus"], "unknown option '--bogus'"],
    [["--junit", "other.xml"], "--junit is given twice"],
    [["--shard", "1.5/4"], "--shard must be I/N with 1 ≤ I ≤ N (e.g. 2/4), got '1.5/4'"],
    [["--shard", "5/4"], "--shard must be I/N with 1 ≤ I ≤ N (e.g. 2/4), got '5/4'"],
  ])("%j: exit 2, one line, and the JUnit file written with why", async (extra, why) => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-gate-args-"));
    try {
      const io = memoryIO({ cwd: dir });
      const argv = ["gate", "g.config.ts", "--junit", "reports/r.xml", ...extra];
      expect(await main(argv, io)).toBe(2);
      expect(io.stderr).toHaveLength(1);
      expect(io.stderr[0]).toContain(why);
      const xml = readFileSync(join(dir, "reports/r.xml"), "utf8");
      expect(xml).toContain('<testsuites tests="1" failures="1" errors="0" skipped="0">');
      expect(xml).toContain(`name="arguments gradtrio ${argv.join(" ")}"`);
      expect(xml).toContain(why.replace("<", "&lt;"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
