/** A small seeded PRNG (mulberry32) so simulations are reproducible run to run. */

/** Returns a function giving uniform numbers in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw from two uniform ones (Box–Muller; the sine half is dropped to keep it stateless). */
export function standardNormal(random: () => number): number {
  const u = 1 - random(); // (0, 1]: log(0) is never taken
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
