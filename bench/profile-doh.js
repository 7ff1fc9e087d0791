#!/usr/bin/env node
// Where a DoH cache hit's time goes: dnslinkd (dist/) with its HTTPS listener in front of nsd,
// under `node --cpu-prof`, loaded by h2load (GET ?dns=, 8 connections x 16 streams over TLS, the
// outside method's load), and the bare node:http2 server (bench/bare-h2.js) the same way; the
// samples taken while h2load ran summed by layer and by function (bench/cpu-profile.js).
// Run: npm run build && node --import ./bench/ts-support.mjs bench/profile-doh.js
// Env: PROFILE_SECONDS (6), PROFILE_TOP (14 functions).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitedWith, freePort, runTool, spawnManaged, startDnslinkd, startNsd, waitFor } from '../test/integration/support/index.js';
import { makeSelfSignedCert } from '../test/integration/support/tls.js';
import { summarize } from './cpu-profile.js';
import { dohQuery } from './doh-case.js';

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 6);
const TOP = Number(process.env.PROFILE_TOP ?? 14);
const QNAME = '_dnslink.plain.dnslink.test';
const path = `/dns-query?dns=${dohQuery(QNAME)}`;

async function h2load(port) {
  const r = await runTool('h2load', ['-m', '16', '-c', '8', '-t', '1', '-D', String(SECONDS), `https://127.0.0.1:${port}${path}`], (SECONDS + 30) * 1000);
  const ok = Number(/status codes: (\d+) 2xx/.exec(r.stdout)?.[1] ?? NaN);
  if (!(ok > 0)) throw new Error(`h2load gave no result:\n${r.stdout}\n${r.stderr}`);
  return ok;
}

function report(name, dir, from, to, answers) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const summary = summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')), from, to);
  const busy = summary.layers.filter((l) => !l.name.startsWith('idle')).reduce((a, l) => a + l.ms, 0);
  console.log(`\n${name}: ${Math.round(answers / SECONDS)} req/s; busy ${Math.round(busy)} ms of ${Math.round(summary.totalMs)} (${((busy * 1000) / answers).toFixed(2)} µs of CPU per request); load average ${loadavg()[0].toFixed(2)}`);
  console.log('  by layer (self time, share of busy time)');
  for (const l of summary.layers.filter((x) => !x.name.startsWith('idle')).slice(0, 16)) console.log(`    ${l.name.padEnd(52)}${l.ms.toFixed(0).padStart(7)} ms ${((l.ms / busy) * 100).toFixed(1).padStart(5)}%`);
  console.log('  top functions (self time)');
  for (const f of summary.functions.filter((x) => !x.name.startsWith('(idle)')).slice(0, TOP)) console.log(`    ${f.name.slice(0, 70).padEnd(72)}${f.ms.toFixed(0).padStart(7)} ms ${((f.ms / busy) * 100).toFixed(1).padStart(5)}%`);
}

const now = () => Number(process.hrtime.bigint() / 1000n);
const nsd = await startNsd();
const cert = makeSelfSignedCert();
const work = mkdtempSync(join(tmpdir(), 'dnslinkd-profile-doh-'));
try {
  const tlsPort = await freePort();
  const dDir = join(work, 'dnslinkd');
  const d = await startDnslinkd({
    upstreams: [`udp://127.0.0.1:${nsd.port}`],
    config: { http: { tls: { listen: `127.0.0.1:${tlsPort}`, cert: cert.cert, key: cert.key } } },
    env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dDir} --cpu-prof-interval=250` },
  });
  const res = await fetch(`http://127.0.0.1:${d.httpPort}${path}`);
  const answer = Buffer.from(await res.arrayBuffer());
  let from = now();
  let answers = await h2load(tlsPort);
  let to = now();
  await d.stop();
  report('dnslinkd DoH (h2+TLS)', dDir, from, to, answers);

  const bDir = join(work, 'bare');
  const barePort = await freePort();
  const bare = spawnManaged('bare node:http2', process.execPath, [`--cpu-prof`, `--cpu-prof-dir=${bDir}`, '--cpu-prof-interval=250', fileURLToPath(new URL('./bare-h2.js', import.meta.url)), String(barePort), answer.toString('hex'), cert.cert, cert.key]);
  await waitFor('bare node:http2', async () => /listening/.test(bare.output()), 10_000, { abortIf: exitedWith(bare) });
  from = now();
  answers = await h2load(barePort);
  to = now();
  await bare.stop();
  report('bare node:http2 (h2+TLS, fixed bytes)', bDir, from, to, answers);
} finally {
  await nsd.stop();
  cert.remove();
  rmSync(work, { recursive: true, force: true });
}
