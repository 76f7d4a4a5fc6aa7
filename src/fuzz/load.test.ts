import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { isGradtrioError } from "../errors.ts";
import { type CustomOpDefinition, lookupCustomOp } from "../expr/ops.ts";
import { loadOps } from "./load.ts";

const ops = resolve(import.meta.dirname, "../../test/fixtures/ops");

async function loadError(file: string): Promise<{ code: string; message: string }> {
  try {
    await loadOps(file, ops);
  } catch (e) {
    if (isGradtrioError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error(`loading ${file} did not fail`);
}

describe("loadOps", () => {
  it("loads the ops a .ts module makes with defineOp and registers them here", async () => {
    const loaded = await loadOps("second-arg.ok.ts", ops);
    expect(loaded.map((o) => [o.exportName, o.definition.name, o.definition.arity])).toEqual([
      ["hypot2Ok", "hypot2Ok", 2],
    ]);
    // Registered in this module graph's registry: expressions can call it by name.
    expect((lookupCustomOp("hypot2Ok") as CustomOpDefinition | undefined)?.forward(3, 4)).toBe(5);
  });

  it("accepts bare definition objects from a .js module", async () => {
    const [op] = await loadOps("valid/plain-definition.js", ops);
    expect(op!.definition.name).toBe("plainSquare");
    expect((lookupCustomOp("plainSquare") as CustomOpDefinition | undefined)?.forward(3)).toBe(9);
  });

  it("resolves the path against cwd, and takes an absolute path as is", async () => {
    const [op] = await loadOps(resolve(ops, "wrong-sign.ok.ts"), "/nonexistent");
    expect(op!.definition.name).toBe("mycosOk");
  });

  it("reports a missing file", async () => {
    expect(await loadError("nope.ts")).toEqual({
      code: "IO",
      message: "cannot read ops module 'nope.ts': no such file",
    });
  });

  it("reports a directory as a directory, not as a missing file", async () => {
    expect(await loadError("invalid")).toEqual({
      code: "IO",
      message: "cannot read ops module 'invalid': it is a directory",
    });
  });

  it("says where Node looks when a module outside any project imports gradtrio", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-outside-"));
    try {
      const file = join(dir, "ops.ts");
      writeFileSync(
        file,
        'import { defineOp } from "gradtrio";\nexport const sq = defineOp({ name: "sqOutside", arity: 1, forward: (a: number) => a * a, backward: ({ args: [a], grad }: { args: number[]; grad: number }) => [2 * a! * grad] });\n',
      );
      expect(await loadError(file)).toEqual({
        code: "MODULE",
        message: `ops module '${file}' failed to load: Cannot find module 'gradtrio' (Node looks for 'gradtrio' in node_modules beside the module and above it: install it in the module's project, npm i -D gradtrio, or put the module inside the project that runs gradtrio)`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names a thrown value that is not an Error by its JSON, not [object Object]", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-throw-object-"));
    try {
      const file = join(dir, "ops.ts");
      writeFileSync(file, "throw { code: 42 };\n");
      expect(await loadError(file)).toEqual({
        code: "MODULE",
        message: `ops module '${file}' failed to load: a non-Error value: {"code":42}`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a module that throws while loading, in one line", async () => {
    const { code, message } = await loadError("invalid/throws-on-load.ts");
    expect(code).toBe("MODULE");
    expect(message).toBe(
      "ops module 'invalid/throws-on-load.ts' failed to load: RangeError: weights file not found",
    );
  });

  it("reports a syntax error as one file:line:col: line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-load-"));
    writeFileSync(join(dir, "bad.ts"), "export const a = 1;\nexport const b = (;\n");
    try {
      await loadOps("bad.ts", dir);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe(
        `ops module 'bad.ts' failed to load: ${join(dir, "bad.ts")}:2:18: ParseError: Unexpected token`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("shows a GradtrioError of the module's own copy of gradtrio without its class name", async () => {
    expect(await loadError("invalid/builtin-name.ts")).toEqual({
      code: "MODULE",
      message: `ops module 'invalid/builtin-name.ts' failed to load: defineOp("sin"): 'sin' is a built-in name`,
    });
  });

  it("reports a module without ops, listing what it exports", async () => {
    const { code, message } = await loadError("invalid/no-ops.ts");
    expect(code).toBe("MODULE");
    expect(message).toContain("exports no ops made with defineOp (its exports: answer, helper)");
  });
});
