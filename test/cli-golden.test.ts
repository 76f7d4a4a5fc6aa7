// Every PyTorch reference case through `gradtrio check --json`, in-process: verdict agree, exit 0,
// and each leg's gradient equal to PyTorch's (exact legs to 1e-12 relative / 1e-14 absolute, the
// numeric leg within its own error estimate, or 1e-12 where it is smaller).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";
import { CHECK_JSON_KEYS } from "./check-json-keys.ts";

type Nested = number | Nested[];
interface Golden {
  id: string;
  expr: string;
  at: Record<string, Nested>;
  value: number;
  grad: Record<string, Nested>;
}

const cases: Golden[] = JSON.parse(
  readFileSync(new URL("./fixtures/torch-golden.json", import.meta.url), "utf8"),
);

const flat = (v: Nested | null): number[] =>
  v === null ? [] : ([v].flat(Infinity as 1) as number[]);

describe("gradtrio check --json matches PyTorch on every golden case", () => {
  it.each(cases.map((c) => [c.id, c] as const))("%s", async (_id, c) => {
    const at = Object.entries(c.at).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    const io = memoryIO();
    const code = await main(["check", c.expr, "--at", ...at, "--json"], io);
    expect(io.stderr).toEqual([]);
    expect(io.stdout).toHaveLength(1);
    const r = JSON.parse(io.stdout[0]!);
    expect(r.verdict, r.reason).toBe("agree");
    expect(code).toBe(0);
    expect(Object.keys(r)).toEqual([...CHECK_JSON_KEYS]);
    expect(r.value).toBeCloseTo(c.value, 12);
    for (const [name, want] of Object.entries(c.grad)) {
      const g = r.gradients[name];
      const expected = flat(want);
      for (const leg of ["symbolic", "autograd", "numeric"] as const) {
        const got = flat(g[leg]);
        expect(got, `${leg} ${name}`).toHaveLength(expected.length);
        const err = flat(g.numericError);
        got.forEach((v, k) => {
          const e = expected[k]!;
          const tol =
            leg === "numeric"
              ? Math.max(4 * err[k]!, 1e-12 * Math.abs(e), 1e-14)
              : Math.max(1e-12 * Math.abs(e), 1e-14);
          expect(Math.abs(v - e), `${leg} ${name}[${k}]: ${v} vs ${e}`).toBeLessThanOrEqual(tol);
        });
      }
    }
  });
});
