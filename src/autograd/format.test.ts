// Every expected string is text PyTorch printed: from the seed notebooks, from PyTorch's own
// test_print (test/test_torch.py), or derived by hand from torch/_tensor_str.py's rules.
import { describe, expect, it } from "vitest";
import { GradtrioError } from "../errors.ts";
import { type FormatOptions, formatTensor } from "./format.ts";

const fmt = (values: readonly number[], shape: readonly number[], suffix?: FormatOptions) =>
  formatTensor(new Float64Array(values), shape, suffix);
const scalar = (v: number, suffix?: FormatOptions) => fmt([v], [], suffix);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

// Printed by CPython 3 with "{:.4f}".format(v) and "{:.4e}".format(v): ties, binary near-ties
// and random magnitudes, for one-element tensors that PyTorch prints in each notation.
const PYTHON_FIXED: ReadonlyArray<readonly [number, string]> = [
  [0.03125, "0.0312"],
  [0.09375, "0.0938"],
  [1.15625, "1.1562"],
  [2.71875, "2.7188"],
  [-0.15625, "-0.1562"],
  [12345.03125, "12345.0312"],
  [99.96875, "99.9688"],
  [0.00015625, "0.0002"],
  [0.1, "0.1000"],
  [0.35, "0.3500"],
  [0.45, "0.4500"],
  [1.00005, "1.0001"],
  [0.000250000001, "0.0003"],
  [-0.002275858314405582, "-0.0023"],
  [0.00022338493366425477, "0.0002"],
  [0.1754582092603547, "0.1755"],
  [-108.56307093657475, "-108.5631"],
  [-0.0010548740460807535, "-0.0011"],
  [-126209.50071865234, "-126209.5007"],
  [6009245.824965395, "6009245.8250"],
  [-238098.30393895114, "-238098.3039"],
];
const PYTHON_SCI: ReadonlyArray<readonly [number, string]> = [
  [123445000.0, "1.2344e+08"],
  [123455000.0, "1.2346e+08"],
  [-987654321.0, "-9.8765e+08"],
  [3.3333333333333337e-6, "3.3333e-06"],
  [-7.25e-7, "-7.2500e-07"],
  [2.5e-9, "2.5000e-09"],
  [1.5e-300, "1.5000e-300"],
  [123456789.123, "1.2346e+08"],
  [1.8768751839526004e-50, "1.8769e-50"],
  [-6.571086338561985e200, "-6.5711e+200"],
  [7.995058974827262e200, "7.9951e+200"],
  [-7.290949903566141e-6, "-7.2909e-06"],
  [7.565007604952958e-5, "7.5650e-05"],
];

describe("formatTensor: the seed notebooks' outputs", () => {
  it("prints integral scalars with a trailing dot", () => {
    expect(scalar(3, { requiresGrad: true })).toBe("tensor(3., requires_grad=True)");
    expect(scalar(9, { gradFn: "PowBackward0" })).toBe("tensor(9., grad_fn=<PowBackward0>)");
    expect(scalar(16, { gradFn: "PowBackward0" })).toBe("tensor(16., grad_fn=<PowBackward0>)");
    expect(scalar(6)).toBe("tensor(6.)");
    expect(scalar(4)).toBe("tensor(4.)");
    expect(scalar(0)).toBe("tensor(0.)");
    expect(scalar(0, { requiresGrad: true })).toBe("tensor(0., requires_grad=True)");
  });

  it("prints other scalars with four decimals", () => {
    expect(scalar(Math.sin(9), { gradFn: "SinBackward0" })).toBe(
      "tensor(0.4121, grad_fn=<SinBackward0>)",
    );
    expect(scalar(Math.sin(16), { gradFn: "SinBackward0" })).toBe(
      "tensor(-0.2879, grad_fn=<SinBackward0>)",
    );
    expect(scalar(6 * Math.cos(9))).toBe("tensor(-5.4668)");
    expect(scalar(8 * Math.cos(16))).toBe("tensor(-7.6613)");
    expect(scalar(6.7, { gradFn: "AddBackward0" })).toBe("tensor(6.7000, grad_fn=<AddBackward0>)");
    const yPred = 1 / (1 + Math.exp(-6.7));
    expect(scalar(yPred, { gradFn: "SigmoidBackward0" })).toBe(
      "tensor(0.9988, grad_fn=<SigmoidBackward0>)",
    );
    expect(scalar(-Math.log(1 - yPred), { gradFn: "NegBackward0" })).toBe(
      "tensor(6.7012, grad_fn=<NegBackward0>)",
    );
    expect(scalar(6.7 * yPred)).toBe("tensor(6.6918)");
    expect(scalar(14 / 3, { gradFn: "MeanBackward0" })).toBe(
      "tensor(4.6667, grad_fn=<MeanBackward0>)",
    );
  });

  it("prints vectors with one width for all elements", () => {
    expect(fmt([2 / 3, 4 / 3, 2], [3])).toBe("tensor([0.6667, 1.3333, 2.0000])");
    expect(fmt([1, 2, 3], [3], { requiresGrad: true })).toBe(
      "tensor([1., 2., 3.], requires_grad=True)",
    );
    expect(fmt([0, 0, 0], [3])).toBe("tensor([0., 0., 0.])");
    // Seed 002 clamps an int64 tensor; the float version of the same clamp prints like this.
    expect(fmt([3, 3, 4, 7, 7, 6, 7], [7])).toBe("tensor([3., 3., 4., 7., 7., 6., 7.])");
  });

  it("shows grad_fn instead of requires_grad, as PyTorch does for non-leaves", () => {
    expect(scalar(9, { requiresGrad: true, gradFn: "PowBackward0" })).toBe(
      "tensor(9., grad_fn=<PowBackward0>)",
    );
    expect(scalar(9, { requiresGrad: false, gradFn: null })).toBe("tensor(9.)");
  });
});

describe("formatTensor: PyTorch's test_print", () => {
  it("switches to scientific notation for wide or extreme magnitudes", () => {
    expect(fmt([1e28, 1e-28], [2])).toBe("tensor([1.0000e+28, 1.0000e-28])");
    expect(scalar(0.00002)).toBe("tensor(2.0000e-05)");
    expect(fmt([0.00002], [1])).toBe("tensor([2.0000e-05])");
    expect(fmt([123456789], [1])).toBe("tensor([1.2346e+08])");
    expect(fmt([0.01, 11], [2])).toBe("tensor([1.0000e-02, 1.1000e+01])");
    expect(fmt([1, 1010], [2])).toBe("tensor([1.0000e+00, 1.0100e+03])");
  });

  it("keeps int mode up to a ratio of 1000, padding to a common width", () => {
    expect(fmt([1, 1000], [2])).toBe("tensor([   1., 1000.])");
    expect(fmt([123], [1], { requiresGrad: true })).toBe("tensor([123.], requires_grad=True)");
  });

  it("prints inf and nan padded to the width of the finite values", () => {
    expect(fmt([4, Infinity, 1.5, -Infinity, 0, Number.NaN, 1], [7])).toBe(
      "tensor([4.0000,    inf, 1.5000,   -inf, 0.0000,    nan, 1.0000])",
    );
  });

  it("prints float64 extremes: zero, subnormals, inf", () => {
    // PyTorch's input was [1e-324, …, 1e309]: 1e-324 parses to 0 and 1e309 to inf.
    expect(fmt([0, 1e-323, 1e-322, 1e307, 1e308, Infinity], [6])).toBe(
      "tensor([ 0.0000e+00, 9.8813e-324, 9.8813e-323, 1.0000e+307, 1.0000e+308,\n" +
        "                inf])",
    );
  });

  it("summarizes more than 1000 elements", () => {
    expect(fmt(new Array(10000).fill(0), [10000])).toBe("tensor([0., 0., 0.,  ..., 0., 0., 0.])");
  });

  it("summarizes every dimension and separates blocks by blank lines", () => {
    const expected = [
      "tensor([[[1., 1., 1.,  ..., 1., 1., 1.],",
      "         [1., 1., 1.,  ..., 1., 1., 1.]],",
      "",
      "        [[1., 1., 1.,  ..., 1., 1., 1.],",
      "         [1., 1., 1.,  ..., 1., 1., 1.]],",
      "",
      "        [[1., 1., 1.,  ..., 1., 1., 1.],",
      "         [1., 1., 1.,  ..., 1., 1., 1.]],",
      "",
      "        ...,",
      "",
      "        [[1., 1., 1.,  ..., 1., 1., 1.],",
      "         [1., 1., 1.,  ..., 1., 1., 1.]],",
      "",
      "        [[1., 1., 1.,  ..., 1., 1., 1.],",
      "         [1., 1., 1.,  ..., 1., 1., 1.]],",
      "",
      "        [[1., 1., 1.,  ..., 1., 1., 1.],",
      "         [1., 1., 1.,  ..., 1., 1., 1.]]])",
    ].join("\n");
    expect(fmt(new Array(2000).fill(1), [100, 2, 10])).toBe(expected);
  });
});

describe("formatTensor: torch/_tensor_str.py's rules", () => {
  it("uses scientific notation below 1e-4 and above 1e8", () => {
    expect(fmt([1e-8, 1], [2])).toBe("tensor([1.0000e-08, 1.0000e+00])");
    expect(scalar(1e8)).toBe("tensor(100000000.)");
    expect(scalar(1e9)).toBe("tensor(1.0000e+09)");
    expect(scalar(-1.5e-7)).toBe("tensor(-1.5000e-07)");
    expect(scalar(1e100)).toBe("tensor(1.0000e+100)");
    // float64 1e-4 is not below 1e-4 (PyTorch: tensor([0.0001], dtype=torch.float64)).
    expect(fmt([1e-4], [1])).toBe("tensor([0.0001])");
  });

  it("pads negative values and leaves positives aligned", () => {
    expect(fmt([-1.5, 2.25], [2])).toBe("tensor([-1.5000,  2.2500])");
    expect(fmt([-1, 2], [2])).toBe("tensor([-1.,  2.])");
  });

  it("rounds ties to even on the exact binary value, as Python's format does", () => {
    // 0.03125 and 0.09375 are exact binary ties at 4 decimals; JS toFixed would print 0.0313.
    expect(fmt([0.03125, 0.09375], [2])).toBe("tensor([0.0312, 0.0938])");
    expect(fmt([10002.5, 1], [2])).toBe("tensor([1.0002e+04, 1.0000e+00])");
    // 1.12345 is a little above the tie in binary (set_printoptions docstring: tensor([1.1235])).
    expect(fmt([1.12345], [1])).toBe("tensor([1.1235])");
    // 9.99995e-5 is a little below the tie in binary; 9.99996e-5 carries into the next power of ten.
    expect(fmt([9.99995e-5, 1], [2])).toBe("tensor([9.9999e-05, 1.0000e+00])");
    expect(fmt([9.99996e-5, 1], [2])).toBe("tensor([1.0000e-04, 1.0000e+00])");
    expect(scalar(99999.99999)).toBe("tensor(100000.0000)");
  });

  it("keeps the sign of negative zero", () => {
    expect(scalar(-0)).toBe("tensor(-0.)");
    expect(fmt([0, -0], [2])).toBe("tensor([0., -0.])");
    // The width comes from the nonzero values only, so "-0.0000" is not padded against.
    expect(fmt([-0, 1.5], [2])).toBe("tensor([-0.0000, 1.5000])");
  });

  it("prints all-nonfinite tensors in int mode", () => {
    expect(scalar(Number.NaN)).toBe("tensor(nan)");
    expect(scalar(-Infinity)).toBe("tensor(-inf)");
    expect(fmt([1, Infinity, Number.NaN], [3])).toBe("tensor([1., inf, nan])");
    expect(fmt([1, 1e9, Number.NaN], [3])).toBe("tensor([1.0000e+00, 1.0000e+09,        nan])");
  });

  it("nests matrices with a newline and one more space per level", () => {
    expect(fmt([1, 2, 3, 4], [2, 2])).toBe("tensor([[1., 2.],\n        [3., 4.]])");
    expect(fmt([0.5, -2, 3, 4], [2, 2], { requiresGrad: true })).toBe(
      "tensor([[ 0.5000, -2.0000],\n        [ 3.0000,  4.0000]], requires_grad=True)",
    );
    expect(fmt(range(8), [2, 2, 2])).toBe(
      "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])",
    );
    expect(fmt([5], [1, 1])).toBe("tensor([[5.]])");
  });

  it("wraps long vectors at 80 columns", () => {
    expect(fmt(range(30), [30])).toBe(
      "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n" +
        "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n" +
        "        28., 29.])",
    );
  });

  it("moves a suffix that would pass 80 columns to its own line", () => {
    expect(fmt(range(14), [14], { requiresGrad: true })).toBe(
      "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.],\n" +
        "       requires_grad=True)",
    );
    expect(fmt(range(10), [10], { requiresGrad: true })).toBe(
      "tensor([0., 1., 2., 3., 4., 5., 6., 7., 8., 9.], requires_grad=True)",
    );
  });

  it("summarizes 2000 elements from the edge items only", () => {
    expect(fmt(range(2000), [2000])).toBe(
      "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n" +
        "        1.9990e+03])",
    );
    // The hidden middle (1e-9 here) does not influence the notation.
    const values = new Array(2000).fill(1);
    values[1000] = 1e-9;
    expect(fmt(values, [2000])).toBe("tensor([1., 1., 1.,  ..., 1., 1., 1.])");
    // 1000 elements are not summarized.
    expect(fmt(new Array(1000).fill(0), [1000]).includes("...")).toBe(false);
  });

  it("summarizes a matrix along both dimensions", () => {
    const expected = [
      "tensor([[1., 1., 1.,  ..., 1., 1., 1.],",
      "        [1., 1., 1.,  ..., 1., 1., 1.],",
      "        [1., 1., 1.,  ..., 1., 1., 1.],",
      "        ...,",
      "        [1., 1., 1.,  ..., 1., 1., 1.],",
      "        [1., 1., 1.,  ..., 1., 1., 1.],",
      "        [1., 1., 1.,  ..., 1., 1., 1.]])",
    ].join("\n");
    expect(fmt(new Array(10000).fill(1), [100, 100])).toBe(expected);
  });

  it("prints empty tensors with their size unless 1-D", () => {
    expect(fmt([], [0])).toBe("tensor([])");
    expect(fmt([], [0, 3])).toBe("tensor([], size=(0, 3))");
    expect(fmt([], [2, 0], { requiresGrad: true })).toBe(
      "tensor([], size=(2, 0), requires_grad=True)",
    );
  });

  it("rejects a shape that does not match the data", () => {
    expect(() => fmt([1, 2, 3], [2])).toThrow(GradtrioError);
    expect(() => fmt([1, 2], [-1, -2])).toThrow(GradtrioError);
    expect(() => fmt([1], [0.5, 2])).toThrow(/shape/);
  });
});

describe("formatTensor: Python's number formatting", () => {
  it.each(PYTHON_FIXED)("prints %s in fixed notation as %s", (value, text) => {
    expect(scalar(value)).toBe(`tensor(${text})`);
  });
  it.each(PYTHON_SCI)("prints %s in scientific notation as %s", (value, text) => {
    expect(scalar(value)).toBe(`tensor(${text})`);
  });
});

describe("formatTensor: exact (a tensor's text while a function is traced)", () => {
  it("gives every value back exactly, in PyTorch's layout", () => {
    const values = [2 / 3, -0, 3, 1e21, 1e-7, -2.5, 0.1 + 0.2, 5e-324];
    const text = fmt(values, [values.length], { exact: true, requiresGrad: true });
    expect(text.startsWith("tensor([")).toBe(true);
    expect(text.endsWith("requires_grad=True)")).toBe(true);
    const read = text
      .slice("tensor([".length, text.indexOf("]"))
      .split(",")
      .map((s) => Number(s.trim().replace(/\.$/, "")));
    expect(read.map((v) => Object.is(v, -0) || v)).toEqual(
      values.map((v) => Object.is(v, -0) || v),
    );
    expect(fmt([3], [], { exact: true })).toBe("tensor(3.)");
    expect(fmt([Number.NaN, 0.5], [2], { exact: true })).toBe("tensor([nan, 0.5])");
  });
});
