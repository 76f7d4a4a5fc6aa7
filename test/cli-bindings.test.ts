// Named intermediates (`z = w*x+b; …`) and --wrt through the command line: gradients against
// PyTorch's (test/fixtures/torch-golden.json), errors as one line (with a caret in the text).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";

const golden = JSON.parse(
  readFileSync(new URL("./fixtures/torch-golden.json", import.meta.url), "utf8"),
) as { id: string; grad: Record<string, number> }[];
const seedBce = golden.find((c) => c.id === "seed-bce-eps8")!.grad;

async function run(...argv: string[]) {
  const io = memoryIO();
  const code = await main(argv, io);
  return { code, out: io.stdout, errLines: io.stderr.join("\n").split("\n") };
}

const AT = ["--at", "w=1", "b=0", "x=6.7", "y=0"];
const BOUND = "z = w*x+b; p = clamp(sigmoid(z), 1e-8, 1-1e-8); bce(p, y)";

describe("check with named intermediates", () => {
  it("gives the seed BCE's PyTorch gradients and echoes the text", async () => {
    const r = await run("check", BOUND, ...AT, "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    expect(j.expr).toBe(BOUND);
    expect(j.verdict).toBe("agree");
    for (const name of ["w", "b", "x", "y"]) expect(j.gradients[name].autograd).toBe(seedBce[name]);
  });

  it("--wrt w,b reports only the parameters", async () => {
    const r = await run("check", BOUND, ...AT, "--wrt", "w,b", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    expect(Object.keys(j.gradients)).toEqual(["w", "b"]);
    expect(j.gradients.w.autograd).toBe(seedBce.w);
    expect(j.gradients.b.autograd).toBe(seedBce.b);
    expect(j.at).toEqual({ w: 1, b: 0, x: 6.7, y: 0 });
    const table = await run("check", BOUND, ...AT, "--wrt", "w, b");
    expect(table.out.filter((l) => /^[wbxy] /.test(l)).map((l) => l[0])).toEqual(["w", "b"]);
  });

  it("explain accepts --wrt and bindings", async () => {
    const r = await run("explain", BOUND, ...AT, "--wrt", "w,b");
    expect(r.code).toBe(0);
  });
});

describe("errors: exit 2, one line", () => {
  it.each([
    [
      "unknown --wrt name",
      ["--wrt", "w,qq"],
      /^gradtrio: error: --wrt: 'qq' is not a variable of the expression \(it uses 'w', 'b', 'x', 'y'\)$/,
    ],
    [
      "--wrt of a bound name",
      ["--wrt", "z"],
      /^gradtrio: error: --wrt: 'z' is a named intermediate \(z = …\), not an input/,
    ],
    [
      "--wrt with an empty name",
      ["--wrt", "w,,b"],
      /^gradtrio: error: --wrt w,,b: an empty name; list the inputs separated by commas, e\.g\. --wrt w,b$/,
    ],
    ["--wrt with a wrong case", ["--wrt", "W"], /did you mean 'w'\?$/],
  ] as const)("%s", async (_n, extra, pattern) => {
    const r = await run("check", BOUND, ...AT, ...extra);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(pattern);
  });

  it.each([
    [
      "a bound name given with --at",
      ["z = w*x; z^2", "--at", "w=1", "x=2", "z=3"],
      /'z' is bound in the expression \(z = …\) and also given a value/,
      0,
    ],
    [
      "use before binding",
      ["p = sigmoid(z); z = w*x; p", "--at", "w=1", "x=2"],
      /'z' is used before its binding 'z = …' at offset 16/,
      12,
    ],
    ["rebinding", ["z = x; z = 2*z; z", "--at", "x=1"], /'z' is bound twice/, 7],
  ] as const)("%s: a caret under the position", async (_n, argv, pattern, column) => {
    const r = await run("check", ...argv);
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(3);
    expect(r.errLines[0]).toMatch(/^gradtrio: error: /);
    expect(r.errLines[0]).toMatch(pattern);
    expect(r.errLines[1]).toBe(`  ${argv[0]}`);
    expect(r.errLines[2]).toBe(`  ${" ".repeat(column)}^`);
  });

  it("an unused binding is fine", async () => {
    const r = await run("check", "u = q*2; x^2", "--at", "x=3", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[0]!).gradients.x.autograd).toBe(6);
  });
});

describe("check's table with a long formula", () => {
  it("shows a formula of over 100 characters by its start and length; --json has it whole", async () => {
    let text = "a0 = x";
    // a3: derived whole in ~0.3 s, far inside the CAS's budget even on a loaded machine.
    for (let k = 1; k <= 3; k++) text += `; a${k} = a${k - 1}^x + sin(a${k - 1})*cos(a${k - 1})`;
    text += "; a3";
    const json = await run("check", text, "--at", "x=0.7", "--json");
    const formula = JSON.parse(json.out[0]!).gradients.x.formula as string;
    expect(formula.length).toBeGreaterThan(200);
    const table = await run("check", text, "--at", "x=0.7");
    expect(table.code).toBe(0);
    const row = table.out
      .join("\n")
      .split("\n")
      .find((l) => l.startsWith("x "))!;
    expect(row).toContain(
      `${formula.slice(0, 60)}… (${formula.length} characters; --json has it whole)`,
    );
    expect(row).not.toContain(formula.slice(0, 61));
  });
});
