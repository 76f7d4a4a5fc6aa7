/**
 * The part of a seed beyond its low 32 bits (seeds go up to 2⁵³ − 1), as a 32-bit key: 0 for a
 * seed below 2³², so such a seed keeps the stream it always had (a negative one too: the library's
 * fuzz takes them, and −1 stays 2³² − 1 as it always was); otherwise nonzero and one per high part
 * (murmur3's fmix32, a bijection that keeps 0 alone at 0). With the low 32 bits it tells apart
 * every seed from 0 to 2⁵³ − 1 (5 and 2³² + 5 were one stream).
 *
 * @example
 * seedHighKey(5); // 0
 * seedHighKey(2 ** 32 + 5) !== seedHighKey(2 ** 33 + 5); // true, both nonzero
 */
export function seedHighKey(seed: number): number {
  if (!(seed >= 2 ** 32)) return 0;
  let h = Math.floor(seed / 2 ** 32) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * mulberry32: a small, fast, seeded 32-bit generator, uniform in [0, 1). Used wherever gradtrio
 * needs reproducible randomness outside fast-check (random directions, sample points, benches).
 * `salt` (XORed into the low 32 bits) derives a separate stream from one seed. A seed's bits past
 * the 32nd enter through `seedHighKey`, mixed into every draw: a seed below 2³² gives the numbers
 * it always gave, and 2³² + s is not seed s.
 *
 * @example
 * const next = mulberry32(42);
 * next(); // the same number on every run
 */
export function mulberry32(seed: number, salt = 0): () => number {
  let a = (seed ^ salt) >>> 0;
  const key = seedHighKey(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a ^ key;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
