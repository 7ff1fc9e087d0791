#!/usr/bin/env node
// Command-line entry point: `dnslinkd serve`, `resolve` and the admin commands (see src/cli/main.ts).
// It checks the Node version first, and for `serve` holds SIGTERM/SIGINT/SIGHUP from its very first
// moment (loading the code takes a while): src/lifecycle/shutdown.ts takes them over once it runs.

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `dnslinkd: [NODE_TOO_OLD] this is Node ${process.versions.node}; dnslinkd needs Node 24 or later (node:sqlite). ` +
      'Start it with the Node the project installs: node_modules/.bin/node bin/dnslinkd.js ...\n',
  );
  process.exit(1);
}

if (process.argv[2] === 'serve') {
  const early = { signals: [], handler: (signal) => early.signals.push(signal) };
  globalThis[Symbol.for('dnslinkd.earlySignals')] = early;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, early.handler);
}

const { main } = await import('../dist/cli/main.js');

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`dnslinkd: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
