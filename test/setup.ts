// Every fast-check property in the suite runs from one fixed seed in CI, so runs are reproducible.
// fast-check prints the seed and path of any failure; replay with FC_SEED=… (and FC_PATH=…).
import fc from "fast-check";

const seed = Number(process.env.FC_SEED ?? 20261122);
// FC_RUNS sets the default run count; FC_SCALE (npm run fuzz:long) multiplies the default of 100.
const scale = Number(process.env.FC_SCALE ?? 1);
const numRuns =
  process.env.FC_RUNS !== undefined
    ? Number(process.env.FC_RUNS)
    : scale !== 1
      ? Math.round(100 * scale)
      : undefined;
fc.configureGlobal({
  seed,
  ...(numRuns === undefined ? {} : { numRuns }),
  ...(process.env.FC_PATH === undefined ? {} : { path: process.env.FC_PATH }),
});

// Commands run in-process here: on this thread unless a test asks for worker threads itself
// (`workers: 2`), so a suite of many short fuzz runs does not start a pool for each.
process.env.GRADTRIO_WORKERS ??= "1";
