// The exit codes of `gradtrio check` as docs/DESIGN.md ("Exit codes of check") fixes them, through
// the real bin: 0 autograd confirmed (all legs agree, or a reference leg outvoted by the two
// others), 1 autograd contradicted, 3 inconclusive, and --strict turning any disagreement into 1.
// The runs start together (each bin start is a second of tsx), the tests read their results.
import { describe, expect, it } from "vitest";
import { oneError, type Run, runsTogether } from "./run-bin.ts";

const OPS = "test/fixtures/ops/outvoted/numeric.ts";
const NON_FINITE = "test/fixtures/ops/non-finite/ops.ts";
const NAN_FORWARD = "test/fixtures/ops/non-finite/nan-forward.ts";
const THROW_FORWARD = "test/fixtures/ops/non-finite/throw-forward.ts";
// A CAS defect (src/symbolic/defects.ts, power-of-a-square): nerdamer's formula is NaN here,
// where the function is smooth.
const CAS_NAN = ["pow(x^2, 0.75)", "--at", "x=-1.5"];
// Once a CAS defect (NaN, the leg outvoted); the leg now sends the minus as a symbol.
const ONCE_NAN = ["tan(cos(pow((-(x)), (x * e))))", "--at", "x=-2.8983607998665413"];

const cases = {
  casOutvoted: ["check", ...CAS_NAN, "--json"],
  onceOutvoted: ["check", ...ONCE_NAN, "--json"],
  decimals: ["check", "(2.401*x)^3", "--at", "x=1.3", "--json"],
  // The same CAS defect on a tiny f (it exited 1, "cannot tell which is right"): src/check/check.test.ts.
  casOutvotedTiny: ["check", "sqrt(x^2)*1e-14", "--at", "x=-2"],
  casOutvotedStrict: ["check", ...CAS_NAN, "--strict"],
  forwardNotFormula: ["check", "offsetSquare(x)", "--at", "x=2", "--ops", OPS, "--json"],
  autogradBlamed: [
    "check",
    "mycos(x)",
    "--at",
    "x=0.5",
    "--ops",
    "test/fixtures/ops/wrong-sign.bug.ts",
    "--json",
  ],
  noMajority: ["check", "roughSquare(x)", "--at", "x=2", "--ops", OPS, "--json"],
  backwardThrows: ["check", "brokenSquare(x)", "--at", "x=2", "--ops", OPS, "--json"],
  kink: ["check", "relu(x)", "--at", "x=0", "--json"],
  kinkStrict: ["check", "relu(x)", "--at", "x=0", "--strict"],
  agreeStrict: ["check", "sin(x^2)", "--at", "x=3", "--strict"],
  infB: ["check", "infB(x)", "--at", "x=1", "--ops", NON_FINITE],
  infBJson: ["check", "infB(x)", "--at", "x=1", "--ops", NON_FINITE, "--json"],
  bigB: ["check", "bigB(x)*10", "--at", "x=1", "--ops", NON_FINITE, "--json"],
  powSelf: ["check", "x^x", "--at", "x=0", "--json"],
  powSelfPlus: ["check", "x^x + 12345*x", "--at", "x=0", "--json"],
  powCall: ["check", "pow(x,x)*2", "--at", "x=0", "--json"],
  powSelfOp: ["check", "powSelf(x)", "--at", "x=0", "--ops", NON_FINITE, "--json"],
  nanForward: ["check", "nanPast1(x)", "--at", "x=2", "--ops", NAN_FORWARD],
  nanForwardInside: ["check", "nanPast1(x)*0+x", "--at", "x=2", "--ops", NAN_FORWARD, "--json"],
  nanForwardNoDomain: [
    "check",
    "nanPast1Anywhere(x)",
    "--at",
    "x=2",
    "--ops",
    NAN_FORWARD,
    "--json",
  ],
  nanForwardOutside: ["check", "nanPast1(x)", "--at", "x=7", "--ops", NAN_FORWARD, "--json"],
  throwForward: ["check", "throwPast1(x)", "--at", "x=2", "--ops", THROW_FORWARD],
  throwForwardInside: [
    "check",
    "throwPast1(x)*0+x",
    "--at",
    "x=2",
    "--ops",
    THROW_FORWARD,
    "--json",
  ],
  throwForwardNoDomain: [
    "check",
    "throwPast1Anywhere(x)",
    "--at",
    "x=2",
    "--ops",
    THROW_FORWARD,
    "--json",
  ],
  throwForwardOutside: ["check", "throwPast1(x)", "--at", "x=7", "--ops", THROW_FORWARD, "--json"],
  tensorThrow: ["check", "sum(tensorThrowPast1(x))", "--at", "x=[0.5,2]", "--ops", THROW_FORWARD],
  tensorThrowOutside: [
    "check",
    "sum(tensorThrowPast1(x))",
    "--at",
    "x=[0.5,7]",
    "--ops",
    THROW_FORWARD,
    "--json",
  ],
  centralAliased: [
    "check",
    "fastSine(x)",
    "--at",
    "x=0.3",
    "--ops",
    NON_FINITE,
    "--method",
    "central",
    "--json",
  ],
} as const;
const runs = runsTogether(cases);

const json = (r: Run) => JSON.parse(r.stdout);

describe("exit 0: autograd confirmed", () => {
  it("the CAS outvoted (NaN where the function is smooth): blame symbolic, the reason says why", () => {
    const r = runs.casOutvoted;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = json(r);
    expect(j).toMatchObject({ verdict: "disagree", blame: "symbolic" });
    expect(j.reason).toMatch(/^symbolic is outvoted: symbolic gives NaN at x where numeric gives/);
    expect(j.reason).toMatch(/not finite where the function and its gradient are/);
    // autograd is right: d/dx (x²)^0.75 = 1.5·x·(x²)^(-1/4).
    const hand = 1.5 * -1.5 * 2.25 ** -0.25;
    expect(Math.abs(j.gradients.x.autograd - hand)).toBeLessThan(1e-14);
  });
  it("the CAS outvoted on a tiny f: sqrt(x^2)*1e-14 at -2, the complex step's estimate decides", () => {
    const r = runs.casOutvotedTiny;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // d/dx sqrt(x²)·1e-14 = −1e-14 at −2 (by hand); nerdamer's sqrt(x²) = x gives +1e-14.
    expect(r.stdout).toMatch(/✓ autograd confirmed \(disagree: blame symbolic\)/);
    expect(r.stdout).toMatch(
      /symbolic gives 1e-14 at x where numeric gives -1e-14 and autograd gives -1e-14 — the opposite sign/,
    );
  });
  it("the symbolic leg joins where nerdamer once failed: three legs agree", () => {
    for (const r of [runs.onceOutvoted, runs.decimals]) {
      expect(r.code).toBe(0);
      expect(json(r)).toMatchObject({ verdict: "agree", blame: null, reason: null });
    }
    // tan(cos(u)), u = (-x)^(e·x): the hand derivative, and 3·2.401³·x² at 1.3.
    const x = -2.8983607998665413;
    const u = (-x) ** (Math.E * x);
    const du = u * Math.E * (Math.log(-x) + 1);
    const hand = (-Math.sin(u) * du) / Math.cos(Math.cos(u)) ** 2;
    const once = json(runs.onceOutvoted).gradients.x;
    expect(Math.abs(once.symbolic - hand)).toBeLessThan(1e-12 * Math.abs(hand));
    const dec = json(runs.decimals).gradients.x;
    expect(dec.symbolic).toBeCloseTo(3 * 2.401 ** 3 * 1.69, 11);
    expect(dec.formula).toBe("41523861603*x^2/1000000000");
  });
  it("--strict leaves an agreement at 0", () => {
    expect(runs.agreeStrict.code).toBe(0);
  });
});

describe("exit 1: autograd contradicted", () => {
  it("blame autograd", () => {
    expect(runs.autogradBlamed.code).toBe(1);
    expect(json(runs.autogradBlamed)).toMatchObject({ verdict: "disagree", blame: "autograd" });
  });
  it("a custom op whose forward is not its formula: the CAS has no vote, numeric contradicts", () => {
    // offsetSquare: forward a² + 1e-3·(a − 2), backward and formula a². The forward's extra term
    // is 0 at 2, not 2⁻⁷ off it; the CAS sided with the backward and outvoted the finite
    // differences (exit 0, blame numeric) until it lost its vote there.
    const r = runs.forwardNotFormula;
    expect(r.code).toBe(1);
    const j = json(r);
    expect(j).toMatchObject({ verdict: "disagree", blame: null });
    // d/dx (x² + 1e-3·(x − 2)) = 4.001 at 2, by hand; the backward's 2x = 4.
    expect(Math.abs(j.gradients.x.numeric - 4.001)).toBeLessThanOrEqual(
      4 * j.gradients.x.numericError,
    );
    expect(j.gradients.x.autograd).toBe(4);
    expect(j.reason).toMatch(
      /^numeric and autograd differ at x: 4\.001 vs 4 .*; the symbolic leg has no vote: custom op 'offsetSquare': its formula gives 4\.0[0-9]+ where its forward gives 4\.0[0-9]+ at x = 2\.015625 \(2⁻⁷ of its size off the point\)/,
    );
  });
  it("two legs (no formula) that disagree with no majority, the numeric leg reliable", () => {
    const r = runs.noMajority;
    expect(r.code).toBe(1);
    const j = json(r);
    expect(j).toMatchObject({ verdict: "disagree", blame: null });
    // 2.002·x at 2 against the true 4: the numeric leg has the truth within its estimate.
    expect(Math.abs(j.gradients.x.numeric - 4)).toBeLessThanOrEqual(4 * j.gradients.x.numericError);
    expect(j.gradients.x.autograd).toBeCloseTo(4.004, 12);
  });
  it("a backward rule that throws where the function is defined", () => {
    const r = runs.backwardThrows;
    expect(r.code).toBe(1);
    expect(json(r)).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
      reason: "the autograd leg failed: brokenSquare: its backward threw: backward not written yet",
    });
  });
  it("--strict: an outvoted CAS exits 1 (an outvoted numeric leg too: src/check/outcome.test.ts)", () => {
    expect(runs.casOutvotedStrict.code).toBe(1);
    expect(runs.casOutvotedStrict.stdout).toMatch(/blame symbolic/);
  });
});

describe("exit 1: a custom op's forward that is NaN inside its declared domain", () => {
  it("names op, phase and point, autograd blamed (it said 'the point is outside the domain', exit 3)", () => {
    const r = runs.nanForward;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^✗ disagree: blame autograd — custom op 'nanPast1': its forward returned NaN at 2, inside its declared domain \[-5, 5\]$/m,
    );
    // Inside a composition too; and an op with no domain: the whole line.
    expect(runs.nanForwardInside.code).toBe(1);
    expect(json(runs.nanForwardInside)).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
      reason:
        "custom op 'nanPast1': its forward returned NaN at 2, inside its declared domain [-5, 5]",
    });
    expect(runs.nanForwardNoDomain.code).toBe(1);
    expect(json(runs.nanForwardNoDomain).reason).toBe(
      "custom op 'nanPast1Anywhere': its forward returned NaN at 2, inside its domain (it declares none: the whole line)",
    );
  });
  it("outside the declared domain the point is to blame: inconclusive, exit 3", () => {
    expect(runs.nanForwardOutside.code).toBe(3);
    expect(json(runs.nanForwardOutside)).toMatchObject({
      verdict: "inconclusive",
      reason:
        "the function is not finite at the point (value NaN): outside the domain: the 1st argument of nanPast1 is 7, outside its domain (-5, 5)",
    });
  });
});

describe("exit 1: a custom op's forward that throws inside its declared domain, as a NaN there", () => {
  it("names op, phase, point and message, autograd blamed (it said 'could not be evaluated', exit 3)", () => {
    const r = runs.throwForward;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^✗ disagree: blame autograd — custom op 'throwPast1': its forward threw at 2, inside its declared domain \[-5, 5\]: not past 1: 2$/m,
    );
    // Inside a composition too; and an op with no domain: the whole line.
    expect(runs.throwForwardInside.code).toBe(1);
    expect(json(runs.throwForwardInside)).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
      reason:
        "custom op 'throwPast1': its forward threw at 2, inside its declared domain [-5, 5]: not past 1: 2",
    });
    expect(runs.throwForwardNoDomain.code).toBe(1);
    expect(json(runs.throwForwardNoDomain).reason).toBe(
      "custom op 'throwPast1Anywhere': its forward threw at 2, inside its domain (it declares none: the whole line): not past 1: 2",
    );
  });
  it("outside the declared domain the point is to blame: inconclusive, exit 3, as before", () => {
    expect(runs.throwForwardOutside.code).toBe(3);
    const j = json(runs.throwForwardOutside);
    expect(j).toMatchObject({ verdict: "inconclusive", blame: null });
    expect(j.reason).toMatch(/^the function could not be evaluated at the point \(.*not past 1: 7/);
  });
  it("a tensor op's throw inside its domain is its one-line error (exit 2), as its NaN there", () => {
    oneError(runs.tensorThrow, "tensorThrowPast1: its forward threw: not past 1: 2");
    // An element outside [-5, 5]: the point's problem, inconclusive.
    expect(runs.tensorThrowOutside.code).toBe(3);
    expect(json(runs.tensorThrowOutside)).toMatchObject({ verdict: "inconclusive", blame: null });
  });
});

describe("exit 1: a backward rule that returns ±Infinity (an infinite tolerance agreed once)", () => {
  it("is blamed where the CAS and the finite differences agree on 2x", () => {
    expect(runs.infB.stderr).toBe("");
    expect(runs.infB.code).toBe(1);
    expect(runs.infB.stdout).not.toMatch(/✓/);
    expect(runs.infB.stdout).toMatch(/✗ disagree: blame autograd/);
    const j = json(runs.infBJson);
    expect(runs.infBJson.code).toBe(1);
    expect(j).toMatchObject({ verdict: "disagree", blame: "autograd" });
    // d/dx x² = 2 at 1, by hand.
    expect(j.gradients.x.symbolic).toBe(2);
    expect(Math.abs(j.gradients.x.numeric - 2)).toBeLessThan(1e-12);
  });
  it("also where it overflows (1e308·grad with grad 10)", () => {
    expect(runs.bigB.code).toBe(1);
    expect(json(runs.bigB)).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
      reason: "autograd gives Infinity at x where symbolic gives 20 and numeric gives 20",
    });
  });
});

describe("exit 3: inconclusive", () => {
  it("the only reference unreliable: a central difference whose step spans a period of f", () => {
    // sin(1e6·x) at 0.3, no formula: the central difference with h ≈ 6e-6 (6 rad) read 37069 ±
    // 6.4e2 where the derivative is 1e6·cos(3e5) ≈ -994252, and convicted a correct backward.
    const r = runs.centralAliased;
    expect(r.code).toBe(3);
    const j = json(r);
    expect(j.verdict).toBe("inconclusive");
    expect(j.reason).toMatch(
      /^too few legs: only autograd ran \(.*numeric: unreliable: x: the difference quotients do not converge/,
    );
    expect(j.gradients.x.autograd).toBeCloseTo(1e6 * Math.cos(3e5), 6);
  });
  it("x^x at 0, where x^x·(ln x + 1) tends to −∞: the CAS's −Infinity agrees with nothing", () => {
    for (const r of [runs.powSelf, runs.powSelfPlus, runs.powCall]) {
      expect(r.stderr).toBe("");
      expect(r.code).toBe(3);
      expect(json(r)).toMatchObject({
        verdict: "inconclusive",
        reason:
          "outside the domain: the base of pow is 0 while its exponent varies; a^b is differentiable in b only for a > 0",
      });
    }
    // A custom x^x with a wrong backward (12345) on [0, 5], at its edge.
    expect(runs.powSelfOp.code).toBe(3);
    expect(json(runs.powSelfOp)).toMatchObject({
      verdict: "inconclusive",
      reason: "outside the domain: the 1st argument of powSelf is 0, outside its domain (0, 5)",
    });
  });

  it("a kink, with or without --strict", () => {
    expect(runs.kink.code).toBe(3);
    expect(json(runs.kink).reason).toMatch(/^kink/);
    expect(runs.kinkStrict.code).toBe(3);
  });
});
