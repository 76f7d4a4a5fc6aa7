#!/usr/bin/env node
// Installed, gradtrio runs its compiled JavaScript (dist/). In a checkout, where src/ is present
// (and dist/ may be absent or stale), it runs the sources through tsx, a devDependency: no build.
import { existsSync } from "node:fs";

const checkout = existsSync(new URL("../src/cli/main.ts", import.meta.url));
if (checkout) (await import("tsx/esm/api")).register();
const { runCli } = await import(checkout ? "../src/cli/main.ts" : "../dist/cli/main.js");
await runCli();
