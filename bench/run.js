#!/usr/bin/env node
// UDP cache-hit throughput of dnslinkd next to its peers, all on 127.0.0.1, same query file, same
// dnsperf load (clients, duration): a bare node:dgram server, Unbound, PowerDNS Recursor, dnsdist's
// packet cache, Knot Resolver and dns2 (bench/peers/), every one forwarding to one nsd and checked
// with dig first (the same TXT answer as nsd's); then `--workers 2`, the control-plane, ENS and DoH
// cases and the sustained case (bench/sustained-case.js); ONE table of the peers at the end.
// Run: npm run bench (builds first; about 8-10 minutes with the defaults). Servers are started with the
// integration-test support (test/integration/support, TypeScript loaded through bench/ts-support.mjs).
// Env: BENCH_UDP_SECONDS (4) per UDP case and round, BENCH_ROUNDS (3) rounds alternated, BENCH_OUTSTANDING (-q, 200),
// BENCH_SECONDS (default 10) for the other cases, BENCH_CLIENTS (4), BENCH_QPS (-Q, default unlimited),
// BENCH_PEERS (comma-separated keys of the cases to run, default all: dnslinkd (batched UDP),dnslinkdNode,dnslinkdWorkers,
// bare,unbound,unboundLocal,pdnsRecursor,dnsdist,kresd,dns2; a peer whose binary is missing is skipped),
// BENCH_SKIP_DOH=1 to skip the DoH case, BENCH_SKIP_CONTROL=1 the control-plane cases (bench/control-case.js),
// BENCH_SKIP_OVERRIDES=1 the override-changes case (bench/overrides-case.js: BENCH_OVERRIDES, default 100000, in force;
// import stall, PUT p99 at 100/s and the DNS port's p99 meanwhile, restart time; on the embedded store and on a
// real redis-server, one table of the four targets for both; BENCH_ONLY=overrides runs it alone),
// BENCH_SKIP_ENS=1 the ENS case (bench/ens-case.js), BENCH_SKIP_SUSTAINED=1 the sustained case,
// BENCH_SKIP_MEMORY=1 the memory case (bench/memory-case.js: RSS at 10k/100k names, BENCH_MEMORY_FULL=1 adds 1M;
// cache.maxBytes against RSS; the cold-miss coalescing check),
// BENCH_SKIP_SNAPSHOT=1 the cache snapshot case (bench/snapshot-case.js: write and load time at 100k and 1M
// entries, the DNS port's p99 while a 1M-entry snapshot is written; BENCH_ONLY=snapshot runs it alone),
// BENCH_ONLY=querylog the query log's cost alone (bench/query-log-case.js: log.queries off and all against
// the tree before it, BENCH_QUERY_LOG_BASE),
// BENCH_SKIP_DENYLIST=1 the denylist case (bench/denylist-case.js: a 1M-rule IPIP-383 list compiled: load time, RSS,
// longest event-loop pause; BENCH_DENYLIST_RULES; BENCH_ONLY=denylist runs it alone),
// BENCH_SKIP_DENYLIST_HITS=1 the denylist hits case (bench/denylist-hits-case.js: cache hits with a 1M-rule list in
// force against none, same run; the longest stall while a version is applied; BENCH_ONLY=denylist-hits alone),
// BENCH_SUSTAINED_SECONDS (60) its length per protocol,
// BENCH_STRICT=1 to exit 1 when the target is missed. Results also go to .bench/results.json.
//
// Cases are a list: each has a key, a name and start() -> {port, stop}.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  digAt,
  encodeQuery,
  findBinary,
  freePort,
  metricSum,
  repoRoot,
  spawnManaged,
  startDnslinkd,
  startNsd,
  startUnbound,
  udpExchange,
  waitFor,
} from '../test/integration/support/index.js';
import { runControlCases } from './control-case.js';
import { runOverridesTargets } from './overrides-case.js';
import { dnsperf } from './dnsperf.js';
import { cpuSecondsOfTree, runDohCase } from './doh-case.js';
import { runDenylistCase } from './denylist-case.js';
import { runEnsCase } from './ens-case.js';
import { runMemoryCase } from './memory-case.js';
import { startDns2 } from './peers/dns2.js';
import { startDnsdist } from './peers/dnsdist.js';
import { startKresd } from './peers/kresd.js';
import { startPdnsRecursor } from './peers/pdns-recursor.js';
import { runSnapshotCase } from './snapshot-case.js';
import { runQueryLogCase } from './query-log-case.js';
import { runDenylistHitsCaseInChild } from './denylist-hits-case.js';
import { runSustainedCase } from './sustained-case.js';

const SECONDS = Math.max(1, Number(process.env.BENCH_SECONDS ?? 10));
/** The UDP case: dnsperf -c 4 -q 200 for 4 s per server, 3 rounds alternated (the method outside checks use). */
const UDP_SECONDS = Math.max(1, Number(process.env.BENCH_UDP_SECONDS ?? 4));
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const OUTSTANDING = Math.max(1, Number(process.env.BENCH_OUTSTANDING ?? 200));
const CLIENTS = Math.max(1, Number(process.env.BENCH_CLIENTS ?? 4));
const QPS = process.env.BENCH_QPS;
const SUSTAINED_SECONDS = Math.max(1, Number(process.env.BENCH_SUSTAINED_SECONDS ?? 60));
const ONLY = process.env.BENCH_PEERS ? new Set(process.env.BENCH_PEERS.split(',').map((k) => k.trim())) : undefined;
const ZONE = 'dnslink.test';
const QNAME = `_dnslink.plain.${ZONE}`;
const QTYPE = 'TXT';

if (process.env.BENCH_ONLY === 'snapshot') {
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) throw new Error('bench: dist/ missing: run `npm run build` first');
  const snapshot = await runSnapshotCase();
  mkdirSync(join(repoRoot, '.bench'), { recursive: true });
  writeFileSync(join(repoRoot, '.bench', 'snapshot.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, snapshot }, null, 2)}\n`);
  process.exit(0);
}

if (process.env.BENCH_ONLY === 'querylog') {
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) throw new Error('bench: dist/ missing: run `npm run build` first');
  const queryLog = await runQueryLogCase();
  mkdirSync(join(repoRoot, '.bench'), { recursive: true });
  writeFileSync(join(repoRoot, '.bench', 'query-log.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, queryLog }, null, 2)}\n`);
  process.exit(0);
}

if (process.env.BENCH_ONLY === 'denylist-hits') {
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) throw new Error('bench: dist/ missing: run `npm run build` first');
  const denylistHits = await runDenylistHitsCaseInChild();
  mkdirSync(join(repoRoot, '.bench'), { recursive: true });
  writeFileSync(join(repoRoot, '.bench', 'denylist-hits.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, denylistHits }, null, 2)}\n`);
  process.exit(0);
}

if (process.env.BENCH_ONLY === 'denylist') {
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) throw new Error('bench: dist/ missing: run `npm run build` first');
  const denylist = await runDenylistCase();
  mkdirSync(join(repoRoot, '.bench'), { recursive: true });
  writeFileSync(join(repoRoot, '.bench', 'denylist.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, denylist }, null, 2)}\n`);
  process.exit(0);
}

if (process.env.BENCH_ONLY === 'overrides') {
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) throw new Error('bench: dist/ missing: run `npm run build` first');
  const nsdOnly = await startNsd();
  let overrides;
  try {
    overrides = await runOverridesTargets({ upstreamPort: nsdOnly.port });
  } finally {
    await nsdOnly.stop();
  }
  mkdirSync(join(repoRoot, '.bench'), { recursive: true });
  writeFileSync(join(repoRoot, '.bench', 'overrides.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, overrides }, null, 2)}\n`);
  process.exit(process.env.BENCH_STRICT === '1' && !overrides.met ? 1 : 0);
}

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

/** dig the bench question 3 times: each answer must be NOERROR with exactly nsd's TXT record (`expected`). */
async function checkAnswers(name, port, expected) {
  for (let i = 0; i < 3; i++) {
    const msg = (await digAt(port, QNAME, QTYPE)).parsed;
    const got = msg?.answers.filter((a) => a.type === QTYPE).map((a) => a.data).join(' ');
    if (msg?.status !== 'NOERROR' || got !== expected) throw new Error(`${name} on port ${port}: ${msg?.status ?? 'no answer'} ${got ?? ''} (expected NOERROR ${expected})`);
  }
}

/** A node:dgram server (child process) answering every query with one pre-encoded answer, ID patched. */
async function startBareDgram(answer) {
  const port = await freePort();
  const proc = spawnManaged('bare-dgram', process.execPath, [join(repoRoot, 'bench', 'bare-dgram.js'), String(port), answer.toString('hex')]);
  await waitFor('bare-dgram', async () => /listening/.test(proc.output()), 10_000, { abortIf: () => (proc.exitCode !== undefined ? `exited ${proc.exitCode}` : undefined) });
  return { port, stop: () => proc.stop() };
}

/** The process that holds the UDP socket on 127.0.0.1:`port` (the lowest pid: a cluster's primary), from /proc (Linux). */
function pidOfUdpPort(port) {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const inodes = new Set();
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1] && `${cols[1].slice(cols[1].indexOf(':'))} `.startsWith(hex)) inodes.add(`socket:[${cols[9]}]`);
    }
  }
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readdirSync(`/proc/${entry}/fd`).some((fd) => inodes.has(readlinkSync(`/proc/${entry}/fd/${fd}`)))) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids.length ? Math.min(...pids) : undefined;
}

let nsd;
const upstreamPeer = () => ({ zone: ZONE, upstreamPort: nsd.port, readyName: QNAME });
/** Each case: key, name, start() -> {port, stop}; `binary`: skipped when it is not installed. */
const dnslinkdCase = (name, key, udpBatching, args = []) => ({
  name,
  key,
  start: async () => {
    const d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`], args, env: { DNSLINKD_UDP_BATCHING: udpBatching } });
    const want = udpBatching === 'off' ? 'node' : 'batched';
    if (metricSum(await d.metrics(), 'dnslinkd_udp_path', { path: want }) !== 1) throw new Error(`${name}: not on the ${want} UDP path (batched addon not built? node native/udp-batch/build.mjs)`);
    return { port: d.dnsPort, stop: d.stop };
  },
});
const cases = [
  dnslinkdCase('dnslinkd batched UDP (cache hit)', 'dnslinkd', 'on'),
  dnslinkdCase('dnslinkd node:dgram UDP (cache hit)', 'dnslinkdNode', 'off'),
  dnslinkdCase('dnslinkd --workers 2, batched (cache hit)', 'dnslinkdWorkers', 'on', ['--workers', '2']),
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
  { name: 'PowerDNS Recursor 1 thread (forward-zones)', key: 'pdnsRecursor', binary: 'pdns_recursor', start: () => startPdnsRecursor(upstreamPeer()) },
  { name: 'dnsdist (packet cache, newServer nsd)', key: 'dnsdist', binary: 'dnsdist', start: () => startDnsdist(upstreamPeer()) },
  { name: 'Knot Resolver 1 process (policy.STUB)', key: 'kresd', binary: 'kresd', start: () => startKresd(upstreamPeer()) },
  { name: 'dns2 UDP server (Map of upstream answers)', key: 'dns2', start: () => startDns2(upstreamPeer()) },
].filter((c) => {
  if (ONLY && !ONLY.has(c.key)) return false;
  if (c.binary && !findBinary(c.binary)) {
    console.warn(`bench: ${c.binary} not found, ${c.name} skipped (apt-get install pdns-recursor dnsdist knot-resolver)`);
    return false;
  }
  return true;
});

const results = {};
let doh;
let control;
let overridesStall;
let ensFigures;
let sustained;
let memory;
let snapshot;
let denylist;
let denylistHits;
try {
  nsd = await startNsd();
  stops.push(nsd.stop);
  const expected = (await digAt(nsd.port, QNAME, QTYPE)).parsed?.answers.filter((a) => a.type === QTYPE).map((a) => a.data).join(' ');
  if (!expected) throw new Error(`nsd has no ${QTYPE} answer for ${QNAME}`);
  console.log(`dnsperf: ${UDP_SECONDS}s per case and round, ${ROUNDS} rounds alternated (every server in turn, the median kept), ${CLIENTS} clients, 1 thread, -q ${OUTSTANDING}, query "${QNAME} ${QTYPE}" (UDP, no EDNS); each server checked with dig first`);
  // Every server runs for the whole UDP case (idle while another is measured): rounds alternate
  // over them, so a burst of load from elsewhere on the machine falls on every server alike.
  const running = [];
  for (const c of cases) {
    const server = await c.start();
    stops.push(server.stop);
    await checkAnswers(c.name, server.port, expected);
    running.push({ c, server, runs: [], pid: pidOfUdpPort(server.port), cpuSeconds: 0, answers: 0 });
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const r of running) {
      const cpuBefore = r.pid ? cpuSecondsOfTree(r.pid) : NaN;
      const run = await dnsperf({ port: r.server.port, queryFile, seconds: UDP_SECONDS, clients: CLIENTS, qps: QPS, outstanding: OUTSTANDING });
      r.cpuSeconds += (r.pid ? cpuSecondsOfTree(r.pid) : NaN) - cpuBefore;
      r.answers += run.completed;
      r.runs.push(run);
      console.log(`  round ${round}: ${r.c.name}: ${Math.round(run.qps)} qps (${run.rcodes})`);
    }
  }
  for (const { c, server, runs, cpuSeconds, answers } of running) {
    const sorted = [...runs].sort((a, b) => a.qps - b.qps);
    results[c.key] = { name: c.name, ...sorted[Math.floor(sorted.length / 2)], rounds: runs.map((run) => Math.round(run.qps)), cpuUsPerAnswer: (cpuSeconds * 1e6) / answers };
    await server.stop();
    stops.splice(stops.indexOf(server.stop), 1);
  }
  if (process.env.BENCH_SKIP_SUSTAINED !== '1') {
    console.log('');
    sustained = await runSustainedCase({
      upstreams: [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`],
      queryFile,
      qname: QNAME,
      seconds: SUSTAINED_SECONDS,
      clients: CLIENTS,
      udpPeakQps: QPS ? undefined : results.dnslinkd?.qps,
    });
  }
  if (process.env.BENCH_SKIP_CONTROL !== '1') {
    console.log('');
    control = await runControlCases({ upstreamPort: nsd.port, queryFile, seconds: Math.max(2, Math.round(SECONDS / 2)), clients: CLIENTS });
  }
  if (process.env.BENCH_SKIP_OVERRIDES !== '1') {
    console.log('');
    overridesStall = await runOverridesTargets({ upstreamPort: nsd.port });
  }
  if (process.env.BENCH_SKIP_ENS !== '1') {
    console.log('');
    ensFigures = await runEnsCase({ upstreamPort: nsd.port, seconds: Math.max(2, Math.round(SECONDS / 2)), clients: CLIENTS });
  }
  if (process.env.BENCH_SKIP_DOH !== '1') {
    console.log('');
    doh = await runDohCase({ upstreams: [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`], seconds: SECONDS });
  }
  if (process.env.BENCH_SKIP_MEMORY !== '1') {
    console.log('');
    memory = await runMemoryCase({ seconds: Math.max(2, Math.round(SECONDS / 2)) });
  }
  if (process.env.BENCH_SKIP_SNAPSHOT !== '1') {
    console.log('');
    snapshot = await runSnapshotCase();
  }
  if (process.env.BENCH_SKIP_DENYLIST !== '1') {
    console.log('');
    denylist = await runDenylistCase();
  }
  if (process.env.BENCH_SKIP_DENYLIST_HITS !== '1') {
    console.log('');
    denylistHits = await runDenylistHitsCaseInChild();
  }
} finally {
  await cleanup();
  rmSync(work, { recursive: true, force: true });
}

const ratio = (a, b) => (results[a] && results[b] ? results[a].qps / results[b].qps : NaN);
const pad = (s, n) => String(s).padEnd(n);
const fixed = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
console.log(`\nUDP cache hits, same record and load (${UDP_SECONDS}s x ${ROUNDS} rounds alternated, median; ${CLIENTS} clients, -q ${OUTSTANDING}); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end; dnsperf gives avg/stddev latency, no percentiles; lost: queries still in flight when the time ran out`);
console.log(`CPU µs/answer: the server's CPU time (its process tree, /proc) over all rounds divided by the answers; steadier than qps on a shared machine`);
console.log(`${pad('server', 46)}${pad('qps', 9)}${pad('rounds', 22)}${pad('avg ms', 8)}${pad('lost', 6)}${pad('CPU µs', 8)}${pad('x batched', 10)}${pad('x node', 8)}${pad('x bare', 8)}x Unbound`);
for (const [key, r] of Object.entries(results)) {
  console.log(`${pad(r.name, 46)}${pad(Math.round(r.qps), 9)}${pad(r.rounds.join('/'), 22)}${pad(fixed(r.latencyMs, 3), 8)}${pad(r.lost, 6)}${pad(fixed(r.cpuUsPerAnswer, 1), 8)}${pad(fixed(ratio(key, 'dnslinkd'), 2), 10)}${pad(fixed(ratio(key, 'dnslinkdNode'), 2), 8)}${pad(fixed(ratio(key, 'bare'), 2), 8)}${fixed(ratio(key, 'unbound'), 2)}`);
}
if (doh?.h2tls) {
  // The DoH rows of the same table: the DoH case ran in this process, after the UDP cases.
  const { h2tls } = doh;
  const DOH_LABELS = { dnslinkd: 'dnslinkd', workers2: 'dnslinkd --workers 2', bare: 'bare node:http2', unbound: "Unbound's DoH", dnsdist: "dnsdist's DoH" };
  console.log(`\nDoH GET cache hits over h2+TLS, same record and load (h2load, ${h2tls.connections} connections x ${h2tls.streams} streams, median of ${doh.rounds} rounds; CPU: server CPU time per request)`);
  console.log(`${pad('server', 46)}${pad('req/s', 9)}${pad('CPU µs', 8)}${pad('x dnslinkd', 11)}${pad('x bare', 8)}x bare by CPU`);
  for (const key of Object.keys(DOH_LABELS).filter((k) => Number.isFinite(h2tls[k]))) {
    const cpu = h2tls.cpuUsPerRequest[key];
    console.log(`${pad(DOH_LABELS[key], 46)}${pad(Math.round(h2tls[key]), 9)}${pad(fixed(cpu, 1), 8)}${pad(fixed(h2tls[key] / h2tls.dnslinkd, 2), 11)}${pad(fixed(h2tls[key] / h2tls.bare, 2), 8)}${fixed(h2tls.cpuUsPerRequest.bare / cpu, 2)}`);
  }
  if (doh.outside) {
    const o = doh.outside;
    console.log(`DoH GET cache hits over h2+TLS, the outside method (${o.method})`);
    for (const [key, label] of [['dnslinkd', 'dnslinkd'], ['workers2', 'dnslinkd --workers 2'], ['bare', 'bare node:http2'], ['unboundForwarder', "Unbound's DoH (forward-zone)"]]) {
      console.log(`${pad(label, 46)}${pad(Math.round(o[key]), 9)}${pad(o.runs[key].map(Math.round).join('/'), 22)}${pad(fixed(o[key] / o.dnslinkd, 2), 10)}${pad(fixed(o[key] / o.bare, 2), 8)}${fixed(o[key] / o.unboundForwarder, 2)} x Unbound`);
    }
  }
  for (const [mode, label] of [['http1', 'HTTP/1.1'], ['h2c', 'h2c']]) {
    const r = doh[mode];
    if (r) console.log(`${pad(`dnslinkd over ${label} / bare fastify route`, 46)}${pad(Math.round(r.dnslinkd), 9)}${pad('', 8)}${pad('', 11)}${fixed(r.ratio, 2)} (bare fastify ${Math.round(r.bare)} req/s)`);
  }
}
const vsUnbound = ratio('dnslinkd', 'unbound');
const vsBare = ratio('dnslinkd', 'bare');
const nodeVsBare = ratio('dnslinkdNode', 'bare');
const batchedVsNode = ratio('dnslinkd', 'dnslinkdNode');
const workersVsUnbound = ratio('dnslinkdWorkers', 'unbound');
const workersScaling = ratio('dnslinkdWorkers', 'dnslinkd');
console.log(`\n--workers 2 / 1 process, batched (this machine: ${availableParallelism()} cores, shared with the load generator) = ${fixed(workersScaling, 2)}x; batched / node:dgram path = ${fixed(batchedVsNode, 2)}x`);
const batchedMet = vsUnbound >= 0.8;
const nodeMet = nodeVsBare >= 0.9;
const met = batchedMet && nodeMet;
console.log(`target: batched UDP >= 0.8x Unbound in one process: ${batchedMet ? 'MET' : 'NOT MET'} (${fixed(vsUnbound, 2)}x; 2 workers ${fixed(workersVsUnbound, 2)}x)`);
console.log(`target: node:dgram path >= 0.9x the bare node:dgram server: ${nodeMet ? 'MET' : 'NOT MET'} (${fixed(nodeVsBare, 2)}x; batched ${fixed(vsBare, 2)}x bare)`);
if (sustained) {
  const { udp, doh } = sustained;
  console.log(`sustained ${sustained.seconds}s at ${sustained.load * 100}% of peak: UDP ${udp.rate} qps asked, ${Math.round(udp.qps)} achieved, lost ${udp.lost}, p50 ${fixed(udp.p50Ms, 3)} ms, p99 ${fixed(udp.p99Ms, 3)} ms; ` +
    `DoH h2+TLS ${doh.rate} req/s asked, ${Math.round(doh.rps)} achieved, lost ${doh.lost}, p50 ${fixed(doh.p50Ms, 3)} ms, p99 ${fixed(doh.p99Ms, 3)} ms`);
}

mkdirSync(join(repoRoot, '.bench'), { recursive: true });
writeFileSync(
  join(repoRoot, '.bench', 'results.json'),
  `${JSON.stringify({ date: new Date().toISOString(), seconds: SECONDS, clients: CLIENTS, node: process.version, results, doh, control, overridesStall, ens: ensFigures, sustained, memory, snapshot, denylist, denylistHits, ratios: { vsUnbound, vsBare, nodeVsBare, batchedVsNode, workersVsUnbound, workersScaling, vsUnboundLocal: ratio('dnslinkd', 'unboundLocal'), peers: Object.fromEntries(Object.keys(results).map((k) => [k, { vsDnslinkd: ratio(k, 'dnslinkd'), vsBare: ratio(k, 'bare') }])) } }, null, 2)}\n`,
);
const sustainedLost = sustained ? sustained.udp.lost + sustained.doh.lost : 0;
if (process.env.BENCH_STRICT === '1' && (!met || sustainedLost > 0 || (doh && !doh.met) || (control && !control.overrides.met) || (overridesStall && !overridesStall.met))) process.exitCode = 1;
