/**
 * The chain rule's steps as LaTeX, written once: `explain` prints them, the teach page renders
 * them as math (src/teach/mathml.ts). Pure.
 */
import type { Chain, ChainNode } from "./chain.ts";

/** A node's name in LaTeX: u3 → u_{3}, y_pred → y\_pred. */
export const latexName = (n: string) =>
  /^u\d+$/.test(n) ? `u_{${n.slice(1)}}` : n.replaceAll("_", "\\_");

/** ∂f/∂node as a fraction. */
export const latexTotal = (chain: Chain, n: ChainNode) =>
  `\\frac{\\partial ${latexName(chain.output.name)}}{\\partial ${latexName(n.name)}}`;

/** A factor in parentheses unless it is one symbol, number or command. */
export const latexParen = (s: string) => (/^[\w{}\\]+$/.test(s) ? s : `\\left(${s}\\right)`);

/**
 * The chain rule at one node: ∂f/∂n = Σ over its uses of ∂f/∂user · (local derivative); the
 * output's own is 1, an unused node's 0.
 */
export function gradientLatex(chain: Chain, n: ChainNode): string {
  const sum =
    n === chain.output
      ? "1"
      : n.uses.length === 0
        ? "0"
        : n.uses
            .map((u) => `${latexTotal(chain, u.from)} \\cdot ${latexParen(u.latex)}`)
            .join(" + ");
  return `${latexTotal(chain, n)} = ${sum}`;
}
