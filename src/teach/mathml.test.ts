// LaTeX → MathML for the formulas gradtrio writes: checked against MathML written by hand.
import { describe, expect, it } from "vitest";
import { toMathML } from "./mathml.ts";

const inner = (latex: string) => toMathML(latex).replace(/^<math>|<\/math>$/g, "");

describe("toMathML", () => {
  it("fractions, products and the partial sign", () => {
    expect(inner("\\frac{\\partial f}{\\partial w}")).toBe(
      "<mfrac><mrow><mi>∂</mi><mi>f</mi></mrow><mrow><mi>∂</mi><mi>w</mi></mrow></mfrac>",
    );
    expect(inner("x \\cdot 2")).toBe("<mrow><mi>x</mi><mo>⋅</mo><mn>2</mn></mrow>");
  });

  it("scripts bind to the previous item; a braced group is one row", () => {
    expect(inner("u_{3}")).toBe("<msub><mi>u</mi><mn>3</mn></msub>");
    expect(inner("e^{-w x}")).toBe(
      "<msup><mi>e</mi><mrow><mo>−</mo><mi>w</mi><mi>x</mi></mrow></msup>",
    );
    expect(inner("x^2")).toBe("<msup><mi>x</mi><mn>2</mn></msup>");
    expect(inner("1e-8 \\le 0.5")).toBe("<mrow><mn>1e-8</mn><mo>≤</mo><mn>0.5</mn></mrow>");
  });

  it("\\left…\\right fences stretch; function names are upright", () => {
    expect(inner("\\sin\\left(x\\right)")).toBe(
      '<mrow><mi mathvariant="normal">sin</mi><mrow><mo fence="true" stretchy="true">(</mo><mi>x</mi><mo fence="true" stretchy="true">)</mo></mrow></mrow>',
    );
    expect(inner("\\operatorname{log1p}")).toBe('<mi mathvariant="normal">log1p</mi>');
    expect(inner("\\left|x\\right|")).toContain('<mo fence="true" stretchy="true">|</mo>');
  });

  it("a mask's indicator and comparisons; text is escaped", () => {
    expect(inner("\\mathbb{1}[u3 > 0]")).toBe(
      '<mrow><mi mathvariant="normal">𝟙</mi><mo>[</mo><mi>u</mi><mn>3</mn><mo>&gt;</mo><mn>0</mn><mo>]</mo></mrow>',
    );
    expect(inner("a \\le b < c")).toBe(
      "<mrow><mi>a</mi><mo>≤</mo><mi>b</mi><mo>&lt;</mo><mi>c</mi></mrow>",
    );
  });

  it("sqrt, an escaped underscore in a name, an unknown command shown by name", () => {
    expect(inner("\\sqrt{x}")).toBe("<msqrt><mi>x</mi></msqrt>");
    expect(inner("\\mathrm{my\\_op}")).toBe('<mi mathvariant="normal">my_op</mi>');
    expect(inner("\\foo")).toBe('<mi mathvariant="normal">foo</mi>');
    expect(toMathML("x", "block")).toBe('<math display="block"><mi>x</mi></math>');
  });
});
