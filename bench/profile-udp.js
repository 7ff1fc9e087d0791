#!/usr/bin/env node
// Where a UDP cache hit's time goes: dnslinkd (dist/) in front of nsd, under `node --cpu-prof`,
// loaded by dnsperf with the bench's query (a cache hit), on each UDP path (batched, node:dgram);
// the profile's samples taken while dnsperf ran summed by layer (dnslinkd's modules by folder, Node's internals, GC, idle)
// and by function, self time. Run: npm run build && node --import ./bench/ts-support.mjs bench/profile-udp.js
// Env: PROFILE_SECONDS (6), PROFILE_PATHS (on,off: dns.udpBatching values), PROFILE_TOP (14 functions).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { digAt, startDnslinkd, startNsd } from '../test/integration/support/index.js';
import { summarize } from './cpu-profile.js';
import { dnsperf } from './dnsperf.js';

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 6);
const PATHS = (process.env.PROFILE_PATHS ?? 'on,off').split(',');
const TOP = Number(process.env.PROFILE_TOP ?? 14);
const QNAME = '_dnslink.plain.dnslink.test';

const nsd = await startNsd();
const work = mkdtempSync(join(tmpdir(), 'dnslinkd-profile-'));
const queryFile = join(work, 'q.txt');
writeFileSync(queryFile, `${QNAME} TXT\n`);
const report = {};
try {
  for (const path of PATHS) {
    const dir = join(work, path);
    const d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${nsd.port}`],
      env: { DNSLINKD_UDP_BATCHING: path, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=250 ${process.env.PROFILE_NODE_OPTIONS ?? ""}` },
    });
    await digAt(d.dnsPort, QNAME, 'TXT');
    const from = Number(process.hrtime.bigint() / 1000n);
    const run = await dnsperf({ port: d.dnsPort, queryFile, seconds: SECONDS, clients: 4, outstanding: 200 });
    const to = Number(process.hrtime.bigint() / 1000n);
    await d.stop();
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no profile written in ${dir}`);
    const summary = summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')), from, to);
    report[path] = { qps: run.qps, ...summary };
    const busy = summary.layers.filter((l) => !l.name.startsWith('idle')).reduce((a, l) => a + l.ms, 0);
    console.log(`\ndns.udpBatching=${path}: ${Math.round(run.qps)} qps over ${SECONDS}s; profile of the dnsperf window ${Math.round(summary.totalMs)} ms, busy ${Math.round(busy)} ms (${((busy * 1000) / (run.qps * SECONDS)).toFixed(2)} µs of CPU per answer); load average ${loadavg()[0].toFixed(2)}`);
    console.log('  by layer (self time, share of busy time)');
    for (const l of summary.layers.filter((x) => !x.name.startsWith('idle')).slice(0, 16)) console.log(`    ${l.name.padEnd(52)}${l.ms.toFixed(0).padStart(7)} ms ${((l.ms / busy) * 100).toFixed(1).padStart(5)}%`);
    console.log('  top functions (self time)');
    for (const f of summary.functions.filter((x) => !x.name.startsWith('(idle)')).slice(0, TOP)) console.log(`    ${f.name.slice(0, 70).padEnd(72)}${f.ms.toFixed(0).padStart(7)} ms ${((f.ms / busy) * 100).toFixed(1).padStart(5)}%`);
  }
} finally {
  await nsd.stop();
  rmSync(work, { recursive: true, force: true });
}
