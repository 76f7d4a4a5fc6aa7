// Bad input: exit 2 and exactly one line starting `gradtrio: error:` (parse errors add the
// expression and a caret under the position), never a stack trace. Points where the gradient is
// not defined: exit 3 with the reason. A few real runs of bin/gradtrio.js prove the bin works.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defineOp } from "../src/autograd/index.ts";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";

const dir = mkdtempSync(join(tmpdir(), "gradtrio-cli-"));
writeFileSync(join(dir, "bad.json"), "[1, 2,");
writeFileSync(join(dir, "str.json"), '"hello"');
writeFileSync(join(dir, "bin.json"), Buffer.from([0, 0x22, 0, 1, 2, 0x22, 0x1b]));
writeFileSync(join(dir, "v.json"), "[1, 2, 3]");

async function run(...argv: string[]) {
  const io = memoryIO({ cwd: dir });
  const code = await main(argv, io);
  const errLines = io.stderr.join("\n").split("\n");
  return { code, out: io.stdout, err: io.stderr, errLines };
}

function expectOneError(r: Awaited<ReturnType<typeof run>>, pattern: RegExp, caret = false) {
  expect(r.code).toBe(2);
  expect(r.out).toEqual([]);
  expect(r.errLines[0]).toMatch(/^gradtrio: error: /);
  expect(r.errLines[0]).toMatch(pattern);
  expect(r.errLines.filter((l) => l.startsWith("gradtrio:"))).toHaveLength(1);
  expect(r.errLines.join("\n")).not.toMatch(/\n\s+at /); // no stack frames
  if (caret) {
    expect(r.errLines).toHaveLength(3);
    expect(r.errLines[2]).toMatch(/^\s*\^$/);
  } else expect(r.errLines).toHaveLength(1);
}

describe("bad input: exit 2, one error line", () => {
  it.each([
    // [name, argv, message, column of the caret in the expression]
    ["unbalanced", ["check", "sin(x^2", "--at", "x=1"], /never closed/, 3],
    ["empty", ["check", "", "--at", "x=1"], /empty expression/, 0],
    [
      "malformed",
      ["check", "x +* 2", "--at", "x=1"],
      /: unexpected '\*'; expected a number, a name or '\('$/,
      3,
    ],
    ["unknown function", ["check", "sinn(x)", "--at", "x=1"], /unknown function 'sinn'.*sin/, 0],
    ["arity", ["check", "sin(x, 2)", "--at", "x=1"], /sin takes 1 argument, got 2$/, 0],
    [
      "shape mismatch",
      ["check", "sum(x*y)", "--at", "x=[1,2]", "y=[1,2,3]"],
      /cannot broadcast shapes \[2\] and \[3\] in '\*'$/,
      5,
    ],
    // A non-scalar output has a Jacobian; its Hessian (--order 2) is not defined.
    [
      "non-scalar output",
      ["check", "x^2", "--at", "x=[1,2]", "--order", "2"],
      /the output must be a scalar for a Hessian \(order 2\); got shape \[2\]/,
      1,
    ],
    [
      "Jacobian: shape mismatch",
      ["check", "x+y", "--at", "x=[1,2,3]", "y=[1,2]"],
      /cannot broadcast shapes \[3\] and \[2\] in '\+'$/,
      1,
    ],
    [
      "Hessian: shape mismatch",
      ["check", "sum(x*y)", "--at", "x=[1,2]", "y=[1,2,3]", "--order", "2"],
      /cannot broadcast shapes \[2\] and \[3\] in '\*'$/,
      5,
    ],
  ] as const)("%s", async (_n, argv, pattern, column) => {
    const r = await run(...argv);
    expectOneError(r, pattern, true);
    // The caret sits under the reported position of the expression line.
    expect(r.errLines[1]).toBe(`  ${argv[1]}`);
    expect(r.errLines[2]).toBe(`  ${" ".repeat(column)}^`);
  });

  it.each([
    ["not a number", ["check", "x^2", "--at", "x=abc"], /x=abc/],
    ["a constant", ["check", "pi"], /^gradtrio: error: nothing to differentiate: .* no variables/],
    ["NaN", ["check", "x^2", "--at", "x=NaN"], /x=NaN: not a finite number/],
    ["Infinity in an array", ["check", "sum(x)", "--at", "x=[1, 1e999]"], /x\[1\].*finite/],
    ["ragged array", ["check", "sum(x)", "--at", "x=[[1,2],[3]]"], /x\[1\].*rectangular/],
    ["Jacobian: Infinity", ["check", "x^2", "--at", "x=[1, 1e999]"], /x\[1\].*finite/],
    [
      "Hessian: Infinity",
      ["check", "sum(x^2)", "--at", "x=[1, -1e999]", "--order", "2"],
      /x\[1\].*finite/,
    ],
    ["--order 3", ["check", "sum(x^3)", "--at", "x=[1,2]", "--order", "3"], /'3' is invalid.*1, 2/],
    [
      "a Jacobian too large to hold",
      ["check", "x^2", "--at", `x=[${Array(2001).fill(1)}]`],
      /a Jacobian of 2001×2001 entries is not checked \(over 4000000/,
    ],
    [
      "a Hessian too large to hold",
      ["check", "sum(x^2)", "--at", `x=[${Array(2001).fill(1)}]`, "--order", "2"],
      /a Hessian of 2001×2001 entries is not checked .*check the gradient \(order 1\)/,
    ],
    ["bad JSON array", ["check", "sum(x)", "--at", "x=[1,2"], /--at x: not a valid JSON array/],
    ["missing --at", ["check", "x*y", "--at", "x=1"], /missing --at for 'y'/],
    ["no --at at all", ["check", "x^2"], /missing --at for 'x'/],
    [
      "--at for a name not in the expression",
      ["check", "x^2", "--at", "x=1", "z=2"],
      /'z': not a variable/,
    ],
    ["--at given twice", ["check", "x^2", "--at", "x=1", "--at", "x=2"], /given twice/],
    ["--at without =", ["check", "x^2", "--at", "x"], /NAME=VALUE/],
    [
      "unreadable @FILE",
      ["check", "x^2", "--at", "x=@nope.json"],
      /cannot read .*nope\.json: no such file/,
    ],
    [
      "@FILE with bad JSON",
      ["check", "sum(x)", "--at", "x=@bad.json"],
      /bad\.json: not valid JSON/,
    ],
    [
      "@FILE of binary bytes: the control characters escaped, one line",
      ["check", "sum(x)", "--at", "x=@bin.json"],
      /bin\.json: not valid JSON .*\\u0000.*\\u0001\\u0002[^\u0000-\u001f]*$/,
    ],
    [
      "@FILE holding a string",
      ["check", "sum(x)", "--at", "x=@str.json"],
      /expected a number or an array/,
    ],
    [
      "unknown option",
      ["check", "x^2", "--at", "x=1", "--jsn"],
      /unknown option '--jsn' \(did you mean --json\?\)/,
    ],
    ["invalid --rtol", ["check", "x^2", "--at", "x=1", "--rtol", "-1"], /--rtol/],
    ["invalid --method", ["check", "x^2", "--at", "x=1", "--method", "magic"], /Allowed choices/],
    ["unknown command", ["chek", "x^2"], /unknown command 'chek' \(did you mean check\?\)/],
    ["no command", [], /missing command/],
    ["explain: missing variable", ["explain", "x^2", "--at", "y=1"], /missing --at for 'x'/],
    [
      "explain: extra variable",
      ["explain", "x^2", "--at", "x=1", "y=2"],
      /^gradtrio: error: --at 'y': not a variable of the expression \(it uses 'x'\); did you mean 'x'\?$/,
    ],
  ] as const)("%s", async (_n, argv, pattern) => {
    expectOneError(await run(...argv), pattern);
  });

  it("puts the caret under the offending token", async () => {
    const r = await run("check", "sin(x) + foo(x)", "--at", "x=1");
    expect(r.errLines[1]!.trim()).toBe("sin(x) + foo(x)");
    expect(r.errLines[2]!.indexOf("^") - r.errLines[1]!.indexOf("s")).toBe(9);
  });

  it("reads @FILE relative to the working directory", async () => {
    const r = await run("check", "mean(x^2)", "--at", "x=@v.json", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[0]!).gradients.x.autograd).toEqual([2 / 3, 4 / 3, 2]);
  });
});

describe("no gradient at the point: exit 3 with the reason", () => {
  it.each([
    ["a Jacobian", ["log(x)", "--at", "x=[-1,2]"]],
    ["a Hessian", ["sum(log(x))", "--at", "x=[-1,2]", "--order", "2"]],
  ])("%s outside the domain (log at -1) is inconclusive, as a gradient is", async (_n, argv) => {
    const r = await run("check", ...argv, "--json");
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out[0]!).reason).toMatch(
      /not finite at the point.*the 1st argument of log is -1, outside its domain/,
    );
  });

  it("log(x) at x = -1 is outside the domain", async () => {
    const r = await run("check", "log(x)", "--at", "x=-1");
    expect(r.code).toBe(3);
    expect(r.out.join("\n")).toMatch(/inconclusive.*domain/);
  });
  it("abs(x) at 0 is a kink", async () => {
    const r = await run("check", "abs(x)", "--at", "x=0", "--json");
    expect(r.code).toBe(3);
    const j = JSON.parse(r.out[0]!);
    expect(j.verdict).toBe("inconclusive");
    expect(j.reason).toMatch(/kink/);
  });
});

describe("a leg that cannot run", () => {
  it("is reported once: two legs agree, the reason names the missing leg", async () => {
    defineOp({
      name: "cliNoFormula",
      arity: 1,
      forward: (a) => a * a,
      backward: ({ args: [a], grad }) => [2 * a! * grad],
    });
    const r = await run("check", "sin(cliNoFormula(x))", "--at", "x=2");
    expect(r.code).toBe(0);
    const text = r.out.join("\n");
    expect(text.split("custom op 'cliNoFormula' has no formula")).toHaveLength(2);
    expect(text).toContain(
      "✓ agree: numeric and autograd agree (two legs: numeric and autograd (symbolic: custom op 'cliNoFormula' has no formula))",
    );
  });
});

describe("the check table's marks", () => {
  it("✗ exactly on the elements the vote failed, one beyond the first five shown", async () => {
    defineOp({
      name: "cliBadAbove6",
      arity: 1,
      forward: (a) => a * a,
      // 1e-6 too large (relative) where a > 6.5 only.
      backward: ({ args: [a], grad }) => [2 * a! * grad * (a! > 6.5 ? 1 + 1e-6 : 1)],
      formula: (u) => `${u}^2`,
    });
    const r = await run("check", "sum(cliBadAbove6(x))", "--at", "x=[1,2,3,4,5,6,7]");
    expect(r.code).toBe(1);
    const rows = r.out.filter((l) => /^x\[\d\]/.test(l));
    const marks = rows.map((l) => [l.split(/\s+/)[0], l.trimEnd().slice(-1)]);
    expect(marks).toEqual([
      ["x[0]", "✓"],
      ["x[1]", "✓"],
      ["x[2]", "✓"],
      ["x[3]", "✓"],
      ["x[4]", "✓"],
      ["x[6]", "✗"],
    ]);
    expect(r.out.at(-1)).toMatch(
      /^✗ disagree: blame autograd — autograd gives 14\.000014 at x\[6\]/,
    );
  });
});

describe("help and version", () => {
  it("documents every option of every command with an example", async () => {
    for (const cmd of ["check", "explain", "gallery", "fuzz", "gate", "teach"]) {
      const r = await run(cmd, "--help");
      expect(r.code).toBe(0);
      const text = r.out.join("\n");
      expect(text).toMatch(/Examples?:|Options in use:/);
      // An example line runs the command (the Usage line alone does not count).
      expect(text).toMatch(new RegExp(`^ +gradtrio ${cmd}( |$)`, "m"));
    }
    const options: Record<string, string[]> = {
      check: [
        "--at",
        "--json",
        "--strict",
        "--method",
        "--rtol",
        "--atol",
        "--seed",
        "--wrt",
        "--ops",
      ],
      explain: ["--at", "--method", "--rtol", "--atol", "--seed", "--dtype", "--wrt", "--ops"],
      gallery: [],
      fuzz: ["--ops", "--runs", "--seed", "--max-depth", "--path", "--json"],
      gate: ["--junit", "--shard", "--workers"],
      teach: ["--at", "--out"],
    };
    for (const [cmd, opts] of Object.entries(options)) {
      const text = (await run(cmd, "--help")).out.join("\n");
      for (const opt of [...opts, "-h, --help"])
        expect(text, `${cmd} ${opt}`).toMatch(new RegExp(`^ +${opt}\\b`, "m"));
      // Every option the help lists is used in one of its examples.
      const listed = [...text.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!);
      const examples = text.split("\n").filter((l) => new RegExp(`^ +gradtrio ${cmd}\\b`).test(l));
      for (const opt of listed.filter((o) => o !== "--help"))
        expect(
          examples.some((l) => new RegExp(`${opt}\\b`).test(l)),
          `${cmd} --help: an example with ${opt}`,
        ).toBe(true);
    }
  });
  it("prints the version", async () => {
    const r = await run("--version");
    expect(r.code).toBe(0);
    expect(r.out).toEqual(["0.1.0"]);
  });
});

describe("the real bin", () => {
  const bin = new URL("../bin/gradtrio.js", import.meta.url).pathname;
  it("--help", () => {
    const out = execFileSync("node", [bin, "--help"], { encoding: "utf8" });
    expect(out).toMatch(/Usage: gradtrio/);
  });
  it("check --json", () => {
    const r = spawnSync("node", [bin, "check", "sin(x^2)", "--at", "x=3", "--json"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).gradients.x.autograd).toBe(-5.466781571308061);
  });
  it("an error: exit 2, one line", () => {
    const r = spawnSync("node", [bin, "check", "x^2", "--at", "x=oops"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^gradtrio: error: /);
  });

  it("an op whose formula calls itself (or ops calling each other): exit 2, one line naming the cycle", () => {
    for (const [cmd, expr, file, message] of [
      ["check", "selfy(x)", "formula-calls-itself.ts", `its formula calls 'selfy' itself`],
      [
        "fuzz",
        "",
        "formulas-call-each-other.ts",
        `its formula calls 'mutualB' itself, through 'mutualA' (mutualB → mutualA → mutualB)`,
      ],
    ]) {
      const ops = `test/fixtures/ops/invalid/${file}`;
      const argv =
        cmd === "check" ? [cmd, expr!, "--at", "x=1", "--ops", ops] : [cmd, "--ops", ops];
      const r = spawnSync("node", [bin, ...argv], { encoding: "utf8" });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^gradtrio: error: ops module .* failed to load: defineOp\(/);
      expect(r.stderr).toContain(message);
    }
  }, 30_000);

  /** Runs the bin with a reader that closes its end of stdout at once or after the first chunk. */
  function closedEarly(argv: string[], when: "at once" | "after the first chunk") {
    return new Promise<{ code: number | null; stderr: string; got: string }>((resolve) => {
      const child = spawn("node", [bin, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      let got = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      if (when === "at once") child.stdout.destroy();
      else
        child.stdout.once("data", (d: Buffer) => {
          got = d.toString();
          child.stdout.destroy();
        });
      child.on("close", (code) => resolve({ code, stderr, got }));
    });
  }
  it("a reader that closes early (| head -1): no EPIPE stack, the command's exit code", async () => {
    const explain = ["explain", "sin(x^2)", "--at", "x=3"];
    for (const when of ["at once", "after the first chunk"] as const) {
      const r = await closedEarly(explain, when);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    // A disagreement keeps its exit code 1 when nobody reads the report.
    const bug = [
      "check",
      "mycos(x)",
      "--at",
      "x=0.5",
      "--ops",
      "test/fixtures/ops/wrong-sign.bug.ts",
    ];
    const r = await closedEarly(bug, "at once");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
  }, 30_000);
});

describe("an expression that begins with '-'", () => {
  it("is the expression, not an option (check, explain), and -h stays the help", async () => {
    const c = await run("check", "-x^2", "--at", "x=1.5", "--json");
    expect(c.code).toBe(0);
    const r = JSON.parse(c.out.join(""));
    // d/dx −x² = −2x (by hand)
    expect(r).toMatchObject({ expr: "-x^2", verdict: "agree", gradients: { x: { autograd: -3 } } });
    const e = await run("explain", "-sin(x)", "--at", "x=1");
    expect(e.code).toBe(0);
    expect(e.out.join("\n")).toContain("f = -sin(x)");
    const h = await run("check", "-h");
    expect(h.code).toBe(0);
    expect(h.out.join("\n")).toMatch(/^Usage: gradtrio check/);
    // -h followed by more is the expression, as -V --at V=1 is (it printed the help, exit 0).
    for (const name of ["h", "V"]) {
      const m = await run("check", `-${name}`, "--at", `${name}=1`, "--json");
      expect(m.code).toBe(0);
      expect(JSON.parse(m.out.join(""))).toMatchObject({
        expr: `-${name}`,
        value: -1,
        gradients: { [name]: { autograd: -1 } },
      });
    }
    // A misspelt option after the expression is still one.
    expectOneError(await run("check", "-x", "--att", "x=1"), /unknown option '--att'/);
  });
});
