// A stray's one line (strayText) reads an error as every other one-line error does (firstLine).
import { describe, expect, it } from "vitest";
import { GradtrioError } from "../errors.ts";
import { ExitCalled, strayText } from "./stray.ts";

describe("strayText", () => {
  it("a GradtrioError (a user's timer misusing gradtrio) shows no class name", () => {
    const error = new GradtrioError("INVALID_ARGUMENT", "tensor: unknown option 'requires_grad'");
    expect(strayText({ kind: "uncaught exception", error })).toBe(
      "uncaught exception: tensor: unknown option 'requires_grad'",
    );
    // …also one from a module's own copy of gradtrio (the same name, another class).
    const copy = Object.assign(new Error("bad shapes"), { name: "GradtrioError" });
    expect(strayText({ kind: "unhandled promise rejection", error: copy })).toBe(
      "unhandled promise rejection: bad shapes",
    );
  });

  it("other errors by their class name and first line; a value by its first non-blank line", () => {
    expect(
      strayText({ kind: "uncaught exception", error: new TypeError("x is\nnot a function") }),
    ).toBe("uncaught exception: TypeError: x is");
    expect(strayText({ kind: "uncaught exception", error: new Error("  thrown\n  at …") })).toBe(
      "uncaught exception: thrown",
    );
    expect(strayText({ kind: "unhandled promise rejection", error: "\n  nope \nmore" })).toBe(
      "unhandled promise rejection: nope",
    );
  });

  it("process.exit is said as it was called", () => {
    expect(strayText({ kind: "uncaught exception", error: new ExitCalled(3) })).toBe(
      "called process.exit(3): a module must not end gradtrio's process",
    );
  });
});
