// Run by `npm install` (the prepare script) in a checkout of dnslinkd: writes
// node_modules/.bin/dnslinkd, a launcher that runs bin/dnslinkd.js on the Node 24 the project
// installs (node_modules/.bin/node), whatever `node` a supervisor's PATH finds. npm links the bin
// of a project's dependencies there, never the project's own. `exec` leaves no shell between the
// supervisor and dnslinkd: SIGTERM and SIGHUP reach it.
import { chmodSync, existsSync, lstatSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const binDir = join(root, 'node_modules', '.bin');
const launcher = join(binDir, 'dnslinkd');
if (!existsSync(binDir)) process.exit(0);
// A symlink there is npm's own (dnslinkd installed as a dependency of this folder): leave it.
if (existsSync(launcher) && lstatSync(launcher).isSymbolicLink()) process.exit(0);
writeFileSync(
  launcher,
  `#!/bin/sh
# Written by dnslinkd's scripts/install-launcher.mjs: bin/dnslinkd.js on the project's own Node.
here="$(cd "$(dirname "$0")" && pwd -P)"
exec "$here/node" "$here/../../bin/dnslinkd.js" "$@"
`,
);
chmodSync(launcher, 0o755);
