/**
 * How many runs a property makes: its CI count, scaled by FC_SCALE (`npm run fuzz:long` sets it),
 * so CI stays fast and the long run goes wide with the same properties.
 */
export const FC_SCALE = Number(process.env.FC_SCALE ?? 1);

export const runs = (n: number): number => Math.max(1, Math.round(n * FC_SCALE));
