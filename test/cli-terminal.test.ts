// fuzz and gate on a terminal (a pseudo-terminal from util-linux `script`), Ctrl-C typed on it:
// the progress bar is cleared before the summary and never drawn after it (it went back to its
// line and erased the summary's first line), and a notice on stderr is printed before the bar
// starts (the bar drew over it).
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { bin, root } from "./run-bin.ts";

const hasScript = spawnSync("script", ["--version"]).status === 0;

interface TtyRun {
  code: number | null;
  /** Everything the terminal received, escapes included. */
  screen: string;
}

/** Runs the bin on a pseudo-terminal; types Ctrl-C once the screen matches `interruptWhen`. */
function onTerminal(argv: readonly string[], interruptWhen?: RegExp): Promise<TtyRun> {
  const command = ["node", bin, ...argv].map((a) => `'${a}'`).join(" ");
  return new Promise((done) => {
    const child = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd: root,
      env: { ...process.env, GRADTRIO_WORKERS: "", NO_COLOR: "1", TERM: "xterm" },
    });
    let screen = "";
    let sent = false;
    child.stdout.on("data", (d: Buffer) => {
      screen += d.toString();
      if (!sent && interruptWhen?.test(screen)) {
        sent = true;
        child.stdin.write("\x03");
      }
    });
    child.on("close", (code) => done({ code, screen }));
  });
}

const ESC = "\u001b";

describe.skipIf(!hasScript)("on a terminal", () => {
  it("fuzz, Ctrl-C: the bar is cleared before the summary and not drawn after it", async () => {
    const r = await onTerminal(
      ["fuzz", "--ops", "test/fixtures/ops/second-arg.ok.ts", "--runs", "100000", "--workers", "1"],
      /[1-9]\d*\/100000 runs/,
    );
    expect(r.code).toBe(130);
    const summary = r.screen.indexOf("gradtrio fuzz: 1 op(s)");
    expect(summary).toBeGreaterThan(0);
    // The bar's last act is to clear its line; nothing of it (no escape) comes after.
    expect(r.screen.slice(0, summary)).toMatch(/\u001b\[2K$/);
    expect(r.screen.slice(summary)).not.toContain(ESC);
    expect(r.screen.slice(summary)).toMatch(/interrupted \(Ctrl-C\) after \d+ runs/);
  }, 60_000);

  it("gate, Ctrl-C: the same", async () => {
    const r = await onTerminal(
      ["gate", "test/fixtures/gate/long-fuzz.config.ts", "--workers", "1"],
      /[1-9]\d*\/100000 runs/,
    );
    expect(r.code).toBe(130);
    const summary = r.screen.indexOf("gradtrio gate: ");
    expect(summary).toBeGreaterThan(0);
    expect(r.screen.slice(0, summary)).toMatch(/\u001b\[2K$/);
    expect(r.screen.slice(summary)).not.toContain(ESC);
  }, 60_000);

  it.skipIf(availableParallelism() < 2)(
    "the worker-thread notice comes before the bar starts",
    async () => {
      const r = await onTerminal(["fuzz", "--ops", "test/fixtures/ops/second-arg.ok.ts"]);
      expect(r.code).toBe(0);
      const notice = r.screen.indexOf("fuzz: using 1 worker thread, not");
      expect(notice).toBeGreaterThanOrEqual(0);
      // The bar saves the cursor (ESC 7) when it starts and returns there on each redraw.
      expect(notice).toBeLessThan(r.screen.indexOf(`${ESC}7`));
    },
    60_000,
  );
});
