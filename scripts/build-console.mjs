// Bundles the operator console's front end (console/web/) into dist/console/: app.js (Preact pages,
// minified, no inline script), app.css (the styles it imports), index.html and favicon.svg, served from memory by the admin listener
// (src/listeners/console-assets.ts). Run by `npm run build` after tsc.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = `${root}dist/console`;
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: `${root}console/web/main.tsx` },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'favicon.svg']) copyFileSync(`${root}console/web/${file}`, `${out}/${file}`);
