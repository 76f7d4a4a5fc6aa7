#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so a checkout works after `npm ci` with no build step.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/cli/main.ts");
await runCli();
