// Every fast-check property in the suite runs from one fixed seed in CI, so runs are reproducible.
// fast-check prints the seed and path of any failure; replay with FC_SEED=… (and FC_PATH=…).
import fc from "fast-check";

const seed = Number(process.env.FC_SEED ?? 20261122);
const numRuns = process.env.FC_RUNS === undefined ? undefined : Number(process.env.FC_RUNS);
fc.configureGlobal({
  seed,
  ...(numRuns === undefined ? {} : { numRuns }),
  ...(process.env.FC_PATH === undefined ? {} : { path: process.env.FC_PATH }),
});
