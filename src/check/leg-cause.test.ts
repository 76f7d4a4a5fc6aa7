import { describe, expect, it } from "vitest";
import { registerUnchecked } from "../../test/register-op.ts";
import { check } from "./check.ts";

describe("a leg that fails carries a typed cause (code, op, phase), not only a message", () => {
  const forwardThrows = registerUnchecked({
    name: "causeForwardThrows",
    arity: 1,
    forward: () => {
      throw new Error("nope");
    },
    backward: ({ grad }) => [grad],
  });
  const backwardThrows = registerUnchecked({
    name: "causeBackwardThrows",
    arity: 1,
    forward: (x) => 2 * x,
    backward: () => {
      throw new Error("nope");
    },
  });

  it("a custom op's forward that throws: the op and phase 'forward'", () => {
    const r = check(`${forwardThrows.name}(x)`, { at: { x: 0.5 } });
    expect(r.legs.autograd.cause).toEqual({
      code: "DEFINE_OP",
      op: forwardThrows.name,
      phase: "forward",
    });
    expect(r.legs.numeric.cause).toEqual({
      code: "INVALID_ARGUMENT",
      op: forwardThrows.name,
      phase: "forward",
    });
  });

  it("a custom op's backward that throws: phase 'backward'; a leg that ran has no cause", () => {
    const r = check(`${backwardThrows.name}(x)`, { at: { x: 0.5 } });
    expect(r.legs.autograd.cause).toEqual({
      code: "DEFINE_OP",
      op: backwardThrows.name,
      phase: "backward",
    });
    expect(r.legs.numeric.cause).toBeUndefined();
  });
});
