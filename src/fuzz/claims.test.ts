import { describe, expect, it } from "vitest";
import { Claims } from "./claims.ts";

describe("claims: a round's tasks handed out through shared memory", () => {
  it("hands out each task once, in order, across views of the same buffer", () => {
    const a = Claims.create(2, 3, true);
    const b = new Claims(a.buffer, 2);
    const got = [a.claim(), b.claim(), a.claim(), b.claim()];
    expect(got).toEqual([0, 1, 2, 3]);
    expect(a.open(5)).toBe(true);
    expect(b.open(4)).toBe(false);
  });

  it("keeps the smallest failing case per op, whichever thread records it first", () => {
    const a = Claims.create(2, 2, true);
    const b = new Claims(a.buffer, 2);
    expect(a.failedAt(0)).toBeGreaterThan(1e9);
    b.fail(0, 40);
    a.fail(0, 12);
    b.fail(0, 30);
    expect(a.failedAt(0)).toBe(12);
    expect(b.failedAt(1)).toBeGreaterThan(1e9);
    a.fail(1, 7);
    expect(b.failedAt(1)).toBe(7);
  });

  it("reports the tasks running on any slot, in task order, and none once they end", () => {
    const a = Claims.create(1, 3, true);
    const b = new Claims(a.buffer, 1);
    a.running(0, 9);
    b.running(2, 4);
    expect(a.inFlight()).toEqual([4, 9]);
    a.running(0, -1);
    b.running(2, -1);
    expect(b.inFlight()).toEqual([]);
  });

  it("a stopped round has nothing left to claim, however many threads still ask", () => {
    const a = Claims.create(1, 2, false);
    a.claim();
    a.stop();
    for (let i = 0; i < 1000; i++) expect(a.claim()).toBeGreaterThan(1e9);
    expect(a.open(1e6)).toBe(false);
  });
});
