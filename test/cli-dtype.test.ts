// --dtype float32: autograd and the value in float32 (PyTorch's default dtype), the float64 legs
// as references; the clamp trap of the seed BCE (1 - 1e-8 is 1 in float32).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defineOp } from "../src/autograd/index.ts";
import { check } from "../src/check/check.ts";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";

const golden = JSON.parse(
  readFileSync(new URL("./fixtures/torch-golden.json", import.meta.url), "utf8"),
) as { id: string; value: number; grad: Record<string, number> }[];
const seed = golden.find((c) => c.id === "seed-bce-eps8")!;
const BCE = "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)";

async function run(...argv: string[]) {
  const io = memoryIO();
  const code = await main(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

const isFloat32 = (v: number) => Math.fround(v) === v;

describe("check --dtype float32", () => {
  it("the seed BCE: float32 autograd agrees with the float64 references within float32 rounding", async () => {
    const r = await run(
      "check",
      BCE,
      "--at",
      "w=1",
      "b=0",
      "x=6.7",
      "y=0",
      "--dtype",
      "float32",
      "--json",
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    expect(j.verdict).toBe("agree");
    expect(isFloat32(j.value)).toBe(true);
    // The notebooks (float32) print tensor(6.7012); 1 - p cancels, so float32 is off by ~1e-5.
    expect(j.value.toFixed(4)).toBe("6.7012");
    expect(Math.abs(j.value - seed.value) / seed.value).toBeLessThan(2e-5);
    expect(j.value).not.toBe(seed.value); // really float32, not PyTorch's float64 value
    for (const name of ["w", "b"]) {
      const a = j.gradients[name].autograd as number;
      expect(isFloat32(a)).toBe(true);
      expect(Math.abs(a - seed.grad[name]!) / Math.abs(seed.grad[name]!)).toBeLessThan(1e-6);
    }
  });

  it("the clamp trap: at x = 17 the float32 loss is inf (exit 3), float64 is finite (exit 0)", async () => {
    const at = ["--at", "w=1", "b=0", "x=17", "y=0"];
    const f32 = await run("check", BCE, ...at, "--dtype", "float32", "--json");
    expect(f32.code).toBe(3);
    const j = JSON.parse(f32.out[0]!);
    expect(j.verdict).toBe("inconclusive");
    expect(j.reason).toMatch(
      /^in float32 the function is Infinity at the point \(float64: 17\.0000000\d*\)/,
    );
    expect(j.reason).toContain("1 - 1e-8 rounds to 1");
    const f64 = await run("check", BCE, ...at, "--json");
    expect(f64.code).toBe(0);
    expect(JSON.parse(f64.out[0]!).value).toBeCloseTo(17, 6);
  });

  it("explain --dtype float32: the by-hand chain rule in float32, the notebook's manual gradient", async () => {
    const r = await run(
      "explain",
      BCE,
      "--at",
      "w=1",
      "b=0",
      "x=6.7",
      "y=0",
      "--wrt",
      "w,b",
      "--dtype",
      "float32",
    );
    expect(r.code).toBe(0);
    const text = r.out.join("\n");
    // Seed notebook 003, In [24] (float32 tensors): "Manual Gradient of loss w.r.t weight (dw):
    // 6.691762447357178", "… bias (db): 0.998770534992218"; float64 gives 6.691763029237442.
    const byHand = (name: string) =>
      new RegExp(`^ {3}${name} +(\\S+) `, "m").exec(
        text.slice(text.indexOf("by hand (above)")),
      )![1];
    expect(byHand("w")).toBe("6.691762447357178");
    expect(byHand("b")).toBe("0.998770534992218");
    expect(text).toMatch(/∂f\/∂w = x\*\(u3-y\) = 6\.691762447357178 {2}\(simplified by the CAS\)/);
  });

  it("explain takes --dtype; an unknown dtype is bad input", async () => {
    expect((await run("explain", "x^2", "--at", "x=3", "--dtype", "float32")).code).toBe(0);
    const bad = await run("check", "x^2", "--at", "x=3", "--dtype", "float16");
    expect(bad.code).toBe(2);
    expect(bad.err.join("\n")).toMatch(
      /^gradtrio: error: .*'float16' is invalid.*float64, float32/,
    );
  });

  it("check() takes dtype and rejects an unknown one", () => {
    const r = check("x^2", { at: { x: 0.1 }, dtype: "float32" });
    expect(r.gradients.x!.autograd).toBe(Math.fround(2 * Math.fround(0.1)));
    expect(() => check("x^2", { at: { x: 1 }, dtype: "float16" as never })).toThrow(
      'dtype must be "float64" or "float32", got "float16"',
    );
  });
});

// d/du u³ = 3u², written 1e-4 too large: far above float32 rounding (6e-8), so still a fault.
defineOp({
  name: "f32CubeOff",
  arity: 1,
  forward: (u) => u ** 3,
  backward: ({ args: [u], grad }) => [grad * 3 * u! * u! * (1 + 1e-4)],
  formula: (u) => `${u}^3`,
});

describe("--dtype float32 for Jacobians and Hessians", () => {
  const X = [0.1, 0.2, 3];
  const expect32 = (a: number, x: number) => {
    // exp at the float32 point, rounded to float32 (by hand: within one float32 ulp).
    const e = Math.exp(Math.fround(x));
    expect(isFloat32(a)).toBe(true);
    expect(Math.abs(a - e)).toBeLessThanOrEqual(2 ** -23 * e);
    expect(a).not.toBe(e);
  };

  const at = ["--at", `x=${JSON.stringify(X)}`, "--dtype", "float32", "--json"];
  const agreeing = async (...argv: string[]) => {
    const r = await run("check", ...argv, ...at);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    expect([j.verdict, j.reason]).toEqual(["agree", null]);
    return j;
  };

  it("a Jacobian: autograd and the value in float32, agreeing with the float64 legs within float32 rounding", async () => {
    const j = await agreeing("exp(x)");
    X.forEach((x, i) => {
      expect32(j.jacobian.autograd[i][i], x);
      expect32(j.value[i], x);
      // The float64 references at the float32 point.
      expect(j.jacobian.symbolic[i][i]).toBeCloseTo(Math.exp(Math.fround(x)), 14);
    });
  });

  it("a Hessian (--order 2): autograd's double backward in float32, within float32 rounding", async () => {
    const j = await agreeing("sum(exp(x))", "--order", "2");
    X.forEach((x, i) => {
      expect32(j.hessian.autograd[i][i], x);
      expect(j.hessian.numeric[i][i]).toBeCloseTo(Math.exp(Math.fround(x)), 8);
    });
  });

  it("a backward rule 1e-4 off is still convicted in a float32 Jacobian", async () => {
    const r = await run("check", "f32CubeOff(x)", "--at", "x=[1,2]", "--dtype", "float32");
    expect(r.code).toBe(1);
    expect(r.out.join("\n")).toContain("blame autograd");
    const ok = await run("check", "x^3", "--at", "x=[1,2]", "--dtype", "float32");
    expect(ok.code).toBe(0);
  });

  it("the clamp trap in a Jacobian: an element infinite in float32 only is inconclusive (exit 3)", async () => {
    const at = ["--at", "w=1", "b=0", "x=[6.7,17]", "y=0"];
    const r = await run("check", BCE, ...at, "--dtype", "float32", "--json");
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out[0]!).reason).toMatch(
      /^in float32 the function is Infinity in out\[1\] at the point \(float64: 17\.0000000\d*\)/,
    );
    expect((await run("check", BCE, ...at)).code).toBe(0);
  });
});
