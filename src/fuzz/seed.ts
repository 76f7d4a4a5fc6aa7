/**
 * A gradtrio seed (0 to 2⁵³ − 1) as fast-check's parameters. fast-check reads 32 bits of a seed
 * (2³² + 5 ran as 5): a seed below 2³² goes in as it is and replays as it always did; a larger
 * one starts fast-check's default generator (xorshift128plus) from the state fast-check gives
 * its low 32 bits, with `seedHighKey` in the state's last word, which is 0 for every seed below
 * 2³²: a stream of its own.
 */
import type { Parameters } from "fast-check";
import { xorshift128plusFromState } from "pure-rand/generator/xorshift128plus";
import { seedHighKey } from "../random.ts";

/**
 * @example
 * fc.sample(arb, { ...fastCheckSeed(2 ** 32 + 5), numRuns: 3 }); // not the cases of seed 5
 */
export function fastCheckSeed(seed: number): Pick<Parameters<unknown>, "seed" | "randomType"> {
  const key = seedHighKey(seed);
  if (key === 0) return { seed };
  const low = seed | 0;
  // xorshift128plus(s) is the state [-1, ~s, s | 0, 0] (pure-rand).
  return { seed: low, randomType: () => xorshift128plusFromState([-1, ~low, low, key | 0]) };
}
