// `gradtrio teach` writes one self-contained page; bad input exits 2 before anything is written.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";

const dir = mkdtempSync(join(tmpdir(), "gradtrio-teach-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function teach(...args: string[]) {
  const io = memoryIO();
  const code = await main(["teach", ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

describe("gradtrio teach", () => {
  it("writes one page that loads nothing: no external script, style or URL but the SVG namespace", async () => {
    const file = join(dir, "sin.html");
    const r = await teach("sin(x^2)", "--at", "x=3", "--out", file);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const html = readFileSync(file, "utf8");
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<script[^>]+src=|<link /);
    expect(html.match(/https?:\/\/[^\s"'`)]+/g) ?? []).toEqual(["http://www.w3.org/2000/svg"]);
    expect(html).toContain('{"expr":"sin(x^2)","at":"x=3","wrt":"","dtype":"float64"}');
  }, 60_000);

  it("takes an expression that begins with '-' as the expression", async () => {
    const file = join(dir, "neg.html");
    const r = await teach("-x^2", "--at", "x=1", "--out", file);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(readFileSync(file, "utf8")).toContain('{"expr":"-x^2","at":"x=1"');
  }, 60_000);

  it("puts an @FILE value in as its values, the seed valid JSON whatever the file's name", async () => {
    // The page cannot read files; and a name with `<!--` once made the seed invalid JSON.
    writeFileSync(join(dir, "<!--v.json"), "[0.5, 2]");
    const file = join(dir, "file.html");
    const r = await teach("sum(x^2)", "--at", `x=@${join(dir, "<!--v.json")}`, "--out", file);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const html = readFileSync(file, "utf8");
    const seed = html.match(/<script type="application\/json" id="seed">(.*?)<\/script>/s)![1]!;
    expect(JSON.parse(seed)).toEqual({
      expr: "sum(x^2)",
      at: "x=[0.5,2]",
      wrt: "",
      dtype: "float64",
    });
    // `<` is escaped in the seed: no `<!--` or `</script` can reach the HTML parser from it.
    expect(seed).not.toContain("<");
  }, 60_000);

  it("--dtype float32 starts the page in float32; an unknown dtype is bad input", async () => {
    const file = join(dir, "bce32.html");
    const r = await teach("--dtype", "float32", "--out", file);
    expect(r.code).toBe(0);
    expect(readFileSync(file, "utf8")).toContain('"wrt":"w,b","dtype":"float32"}');
    const bad = await teach("--dtype", "float16", "--out", join(dir, "bad16.html"));
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/^gradtrio: error: .*'float16' is invalid/);
  }, 60_000);

  it("bad input exits 2 with one line and writes nothing", async () => {
    const file = join(dir, "bad.html");
    const parse = await teach("sin(x", "--at", "x=1", "--out", file);
    expect(parse.code).toBe(2);
    expect(parse.err[0]).toMatch(/^gradtrio: error: /);
    const noExpr = await teach("--at", "x=1", "--out", file);
    expect(noExpr.code).toBe(2);
    expect(noExpr.err[0]).toBe("gradtrio: error: --at needs an expression before it");
    const wrt = await teach("x^2", "--at", "x=1", "--wrt", "q", "--out", file);
    expect(wrt.code).toBe(2);
    expect(existsSync(file)).toBe(false);
    const noOut = await teach("x^2", "--at", "x=1");
    expect(noOut.code).toBe(2);
    expect(noOut.err[0]).toMatch(/--out/);
  });
});
