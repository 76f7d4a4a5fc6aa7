// The teach page's modules from a build (small hand-written "built" modules in
// test/fixtures/page-modules): the graph walk, the renamed specifiers, what cannot run in a
// browser, and the data: URLs, read back by Node's fetch (its own data: URL parser).
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { headImports, importMap, moduleUrl, pageModules } from "./modules.ts";

const ROOT = fileURLToPath(new URL("../../../test/fixtures/page-modules/", import.meta.url));
const PACKAGES = new Set(["nerdamer-prime/all"]);

describe("headImports", () => {
  it("finds each static import at the head, in its forms, and where its specifier is", () => {
    const text = `import e from"x";import*as t from './y.js';import n,{a as r}from"../z.js";import"./s.js";const i="import";`;
    const found = headImports(text, "m.js");
    expect(found.map((s) => s.text)).toEqual(["x", "./y.js", "../z.js", "./s.js"]);
    for (const s of found) expect(text.slice(s.start, s.end)).toBe(s.text);
  });

  it("a module without imports has none; a method named import is no import", () => {
    expect(headImports("export const c=1;", "c.js")).toEqual([]);
    expect(headImports("const r=x=>x.import(1);", "r.js")).toEqual([]);
  });

  it("an import past the head (dynamic, or a re-export) is an error, not a silent miss", () => {
    expect(() => headImports(`import e from"./a.js";f(import("./b.js"));`, "d.js")).toThrow(
      /d\.js: an import past the module's head/,
    );
    expect(() => headImports(`const t=1;export*from"./a.js";`, "r.js")).toThrow(/r\.js/);
    expect(() => headImports(`const u=import.meta.url;`, "u.js")).toThrow(/u\.js/);
  });
});

describe("pageModules", () => {
  const modules = pageModules(ROOT, "teach/page/app.js", PACKAGES);

  it("reaches every module once (a cycle a ⇄ b, c from two), the entry first", () => {
    expect([...modules.keys()][0]).toBe("gradtrio/teach/page/app.js");
    expect([...modules.keys()].sort()).toEqual([
      "gradtrio/c.js",
      "gradtrio/lib/a.js",
      "gradtrio/lib/b.js",
      "gradtrio/teach/page/app.js",
      "gradtrio/teach/page/side.js",
    ]);
  });

  it("renames relative specifiers to the bare names, leaves packages and the rest as they are", () => {
    expect(modules.get("gradtrio/teach/page/app.js")).toBe(
      `import{a as e}from"gradtrio/lib/a.js";import t from"nerdamer-prime/all";import"gradtrio/teach/page/side.js";globalThis.out=[e,t];export{e as x};\n`,
    );
    expect(modules.get("gradtrio/lib/b.js")).toBe(
      `import{a as e}from'gradtrio/lib/a.js';import t,{c as n}from"gradtrio/c.js";export const b=2;const r=x=>x.import(e),i="from here";\n`,
    );
    expect(modules.get("gradtrio/c.js")).toBe(
      'export const c=1,tag="</script><!--";export default c;\n',
    );
  });

  it("what a browser cannot load is an error naming the module", () => {
    expect(() => pageModules(ROOT, "bad/node.js", PACKAGES)).toThrow(
      "bad/node.js imports node:fs, which the teach page cannot load",
    );
    expect(() => pageModules(ROOT, "bad/outside.js", PACKAGES)).toThrow(
      "bad/outside.js imports ../../outside.js, outside the build",
    );
    expect(() => pageModules(ROOT, "bad/dynamic.js", PACKAGES)).toThrow(/bad\/dynamic\.js/);
    expect(() => pageModules(ROOT, "bad/late.js", PACKAGES)).toThrow(/bad\/late\.js/);
  });
});

describe("moduleUrl", () => {
  it("reads back as the text it encodes (Node's fetch of the data: URL)", async () => {
    const texts = [
      "const a=5%3,b='#'+a+'?';// line\nlet t='\tx\r\n';",
      "x = '%41 %zz % ü € 😀';",
      " padded  ",
      "",
    ];
    for (const text of texts) {
      const url = moduleUrl(text);
      expect(url.startsWith("data:text/javascript,")).toBe(true);
      expect(url).not.toMatch(/[\n\t#?]/);
      const res = await fetch(url);
      expect(res.headers.get("content-type")).toBe("text/javascript");
      expect(await res.text()).toBe(text);
    }
  });
});

describe("importMap", () => {
  it("maps every module to its data: URL and each package to a shim of its global, safe in a <script>", async () => {
    const json = importMap(ROOT, "teach/page/app.js", { "nerdamer-prime/all": "nerdamer" });
    expect(json).not.toMatch(/<\/script|<!--/i);
    const { imports } = JSON.parse(json) as { imports: Record<string, string> };
    const modules = pageModules(ROOT, "teach/page/app.js", PACKAGES);
    expect(Object.keys(imports).sort()).toEqual([...modules.keys(), "nerdamer-prime/all"].sort());
    for (const [name, text] of modules)
      expect(await (await fetch(imports[name]!)).text()).toBe(text);
    expect(await (await fetch(imports["nerdamer-prime/all"]!)).text()).toBe(
      "export default globalThis.nerdamer;",
    );
  });
});
