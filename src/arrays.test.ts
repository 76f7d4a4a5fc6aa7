import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { mapPacked } from "./arrays.ts";

describe("mapPacked", () => {
  it("gives what Array.prototype.map gives, with the index", () => {
    const xs = [3, -1.5, 0, 7];
    expect(mapPacked(xs, (x, i) => [x * 2, i])).toEqual(xs.map((x, i) => [x * 2, i]));
    expect(mapPacked([], () => 1)).toEqual([]);
    // Each length up to the literals' and past them.
    for (let n = 1; n <= 5; n++) {
      const ys = Array.from({ length: n }, (_, i) => i * 1.5);
      const calls: number[] = [];
      const negated = mapPacked(ys, (y, i) => {
        calls.push(i);
        return -y;
      });
      expect(negated).toEqual(ys.map((y) => -y));
      expect(calls).toEqual(ys.map((_, i) => i));
    }
  });

  it("returns a PACKED array once optimized, where the built-in map's is HOLEY", () => {
    // V8's own view of the arrays' elements kinds (natives syntax), in a process of its own.
    const script = `
      const { mapPacked } = await import(${JSON.stringify(new URL("./arrays.ts", import.meta.url).href)});
      const o = {};
      const viaMap = (a) => a.map(() => o);
      const viaPacked = (a) => mapPacked(a, () => o);
      const out = {};
      for (const [name, f] of [["map", viaMap], ["mapPacked", viaPacked]]) {
        %PrepareFunctionForOptimization(f);
        f([o, o]);
        f([o, o]);
        %OptimizeFunctionOnNextCall(f);
        out[name] = %HasHoleyElements(f([o, o]));
      }
      console.log(JSON.stringify(out));`;
    const r = spawnSync(
      process.execPath,
      ["--allow-natives-syntax", "--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ map: true, mapPacked: false });
  });
});
