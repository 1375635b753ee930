#!/usr/bin/env node
// Launcher for the built CLI (npm run build first when working from a checkout).
import { runCli } from '../dist/cli.js';

runCli(process.argv.slice(2)).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
