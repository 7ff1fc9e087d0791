#!/usr/bin/env node
// Command-line entry point: `dnslinkd serve`, `resolve` and the admin commands (see src/cli/main.ts).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`dnslinkd: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
