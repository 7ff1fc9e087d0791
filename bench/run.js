#!/usr/bin/env node
// UDP cache-hit throughput of dnslinkd against Unbound and a bare node:dgram server, all on
// 127.0.0.1, same query file, measured with dnsperf; then the DoH case (bench/doh-case.js).
// Run: npm run bench (builds first). Servers are started with the integration-test support
// (test/integration/support, TypeScript loaded through bench/ts-support.mjs).
// Env: BENCH_SKIP_DOH=1 to skip the DoH case, BENCH_SKIP_CONTROL=1 the control-plane cases (bench/control-case.js), BENCH_SKIP_ENS=1 the ENS case (bench/ens-case.js), BENCH_SECONDS (default 10) per case, BENCH_CLIENTS (4), BENCH_QPS (-Q, default unlimited),
// BENCH_STRICT=1 to exit 1 when the target is missed. Results also go to .bench/results.json.
//
// Cases are a list: to add DoH later, push a case whose start() returns {port} and whose
// dnsperfArgs are e.g. ['-m', 'doh', '-O', 'doh-uri=http://127.0.0.1:PORT/dns-query'].
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  digAt,
  encodeQuery,
  findBinary,
  freePort,
  repoRoot,
  runTool,
  spawnManaged,
  startDnslinkd,
  startNsd,
  startUnbound,
  udpExchange,
  waitFor,
} from '../test/integration/support/index.js';
import { runControlCases } from './control-case.js';
import { runDohCase } from './doh-case.js';
import { runEnsCase } from './ens-case.js';

const SECONDS = Math.max(1, Number(process.env.BENCH_SECONDS ?? 10));
const CLIENTS = Math.max(1, Number(process.env.BENCH_CLIENTS ?? 4));
const QPS = process.env.BENCH_QPS;
const QNAME = '_dnslink.plain.dnslink.test';
const QTYPE = 'TXT';

for (const bin of ['nsd', 'unbound', 'dnsperf', 'dig']) {
  if (!findBinary(bin)) {
    console.error(`bench: ${bin} not found (apt-get install nsd unbound dnsperf bind9-dnsutils)`);
    process.exit(1);
  }
}
if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) {
  console.error('bench: dist/ missing: run `npm run build` first');
  process.exit(1);
}

const stops = [];
const cleanup = async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  stops.length = 0;
};
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => cleanup().finally(() => process.exit(130)));

const work = mkdtempSync(join(tmpdir(), 'dnslinkd-bench-q-'));
const queryFile = join(work, 'queries.txt');
writeFileSync(queryFile, `${QNAME} ${QTYPE}\n`);

async function warm(port) {
  for (let i = 0; i < 3; i++) {
    const status = (await digAt(port, QNAME, QTYPE)).parsed?.status;
    if (status !== 'NOERROR') throw new Error(`warm-up on port ${port}: status ${status}`);
  }
}

/** A node:dgram server (child process) answering every query with one pre-encoded answer, ID patched. */
async function startBareDgram(answer) {
  const port = await freePort();
  const proc = spawnManaged('bare-dgram', process.execPath, [join(repoRoot, 'bench', 'bare-dgram.js'), String(port), answer.toString('hex')]);
  await waitFor('bare-dgram', async () => /listening/.test(proc.output()), 10_000, { abortIf: () => (proc.exitCode !== undefined ? `exited ${proc.exitCode}` : undefined) });
  return { port, stop: () => proc.stop() };
}

async function dnsperf(port, extra = []) {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(SECONDS), '-c', String(CLIENTS), '-T', '1', '-q', '256', '-t', '2', ...(QPS ? ['-Q', QPS] : []), ...extra];
  const r = await runTool('dnsperf', args, (SECONDS + 30) * 1000);
  const num = (re) => Number(re.exec(r.stdout)?.[1] ?? NaN);
  const out = {
    qps: num(/Queries per second:\s+([\d.]+)/),
    sent: num(/Queries sent:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    latencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
  };
  if (!Number.isFinite(out.qps)) throw new Error(`dnsperf gave no result (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return out;
}

let nsd;
/** Each case: name, start() -> {port, stop}; optional dnsperfArgs (e.g. DoH later). */
const cases = [
  {
    name: 'dnslinkd (cache hit)',
    key: 'dnslinkd',
    start: async () => {
      const d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`] });
      return { port: d.dnsPort, stop: d.stop };
    },
  },
  {
    name: 'dnslinkd --workers 2 (cache hit)',
    key: 'dnslinkdWorkers',
    start: async () => {
      const d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`], args: ['--workers', '2'] });
      return { port: d.dnsPort, stop: d.stop };
    },
  },
  {
    name: 'Unbound 1 thread (cache hit, stub to nsd)',
    key: 'unbound',
    start: () => startUnbound({ stubs: [{ zone: 'dnslink.test', port: nsd.port }] }),
  },
  {
    name: 'Unbound 1 thread (local-data)',
    key: 'unboundLocal',
    start: () => startUnbound({ localData: [`${QNAME}. 60 IN TXT "dnslink=/ipfs/bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34"`] }),
  },
  {
    name: 'bare node:dgram (pre-encoded answer)',
    key: 'bare',
    start: async () => {
      const answer = await udpExchange(nsd.port, encodeQuery(0, QNAME, QTYPE), 2000);
      if (!answer) throw new Error('nsd did not answer the bare-server capture query');
      return startBareDgram(answer);
    },
  },
];

const results = {};
let doh;
let control;
let ensFigures;
try {
  nsd = await startNsd();
  stops.push(nsd.stop);
  console.log(`dnsperf: ${SECONDS}s per case, ${CLIENTS} clients, 1 thread, query "${QNAME} ${QTYPE}" (UDP, no EDNS)`);
  for (const c of cases) {
    const server = await c.start();
    stops.push(server.stop);
    await warm(server.port);
    results[c.key] = { name: c.name, ...(await dnsperf(server.port, c.dnsperfArgs)) };
    await server.stop();
    stops.splice(stops.indexOf(server.stop), 1);
    console.log(`  ${c.name}: ${Math.round(results[c.key].qps)} qps`);
  }
  if (process.env.BENCH_SKIP_CONTROL !== '1') {
    console.log('');
    control = await runControlCases({ upstreamPort: nsd.port, queryFile, seconds: Math.max(2, Math.round(SECONDS / 2)), clients: CLIENTS });
  }
  if (process.env.BENCH_SKIP_ENS !== '1') {
    console.log('');
    ensFigures = await runEnsCase({ upstreamPort: nsd.port, seconds: Math.max(2, Math.round(SECONDS / 2)), clients: CLIENTS });
  }
  if (process.env.BENCH_SKIP_DOH !== '1') {
    console.log('');
    doh = await runDohCase({ upstreams: [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`], seconds: SECONDS });
  }
} finally {
  await cleanup();
  rmSync(work, { recursive: true, force: true });
}

const pad = (s, n) => String(s).padEnd(n);
console.log(`\n${pad('server', 44)}${pad('qps', 10)}${pad('avg ms', 9)}lost`);
for (const r of Object.values(results)) {
  console.log(`${pad(r.name, 44)}${pad(Math.round(r.qps), 10)}${pad(r.latencyMs.toFixed(3), 9)}${r.lost}`);
}
const ratio = (a, b) => (results[a] && results[b] ? results[a].qps / results[b].qps : NaN);
const vsUnbound = ratio('dnslinkd', 'unbound');
console.log(`\ndnslinkd / Unbound (cache)      = ${vsUnbound.toFixed(2)}x`);
console.log(`dnslinkd / Unbound (local-data) = ${ratio('dnslinkd', 'unboundLocal').toFixed(2)}x`);
console.log(`dnslinkd / bare node:dgram      = ${ratio('dnslinkd', 'bare').toFixed(2)}x`);
const workersVsUnbound = ratio('dnslinkdWorkers', 'unbound');
console.log(`dnslinkd --workers 2 / Unbound  = ${workersVsUnbound.toFixed(2)}x`);
const met = vsUnbound >= 0.5;
console.log(`target: dnslinkd >= 0.5x Unbound: ${met ? 'MET' : 'NOT MET'} (1 process ${vsUnbound.toFixed(2)}x, 2 workers ${workersVsUnbound.toFixed(2)}x)`);

mkdirSync(join(repoRoot, '.bench'), { recursive: true });
writeFileSync(
  join(repoRoot, '.bench', 'results.json'),
  `${JSON.stringify({ date: new Date().toISOString(), seconds: SECONDS, clients: CLIENTS, node: process.version, results, doh, control, ens: ensFigures, ratios: { vsUnbound, workersVsUnbound, vsUnboundLocal: ratio('dnslinkd', 'unboundLocal'), vsBare: ratio('dnslinkd', 'bare') } }, null, 2)}\n`,
);
if (process.env.BENCH_STRICT === '1' && (!met || (doh && !doh.met) || (control && !control.overrides.met))) process.exitCode = 1;
