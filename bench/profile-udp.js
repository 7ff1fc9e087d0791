#!/usr/bin/env node
// Where a UDP cache hit's time goes: dnslinkd (dist/) in front of nsd, under `node --cpu-prof`,
// loaded by dnsperf with the bench's query (a cache hit), on each UDP path (batched, node:dgram);
// the profile's samples taken while dnsperf ran summed by layer (dnslinkd's modules by folder, Node's internals, GC, idle)
// and by function, self time. Run: npm run build && node --import ./bench/ts-support.mjs bench/profile-udp.js
// Env: PROFILE_SECONDS (6), PROFILE_PATHS (on,off: dns.udpBatching values), PROFILE_TOP (14 functions).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { digAt, repoRoot, startDnslinkd, startNsd } from '../test/integration/support/index.js';
import { dnsperf } from './dnsperf.js';

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 6);
const PATHS = (process.env.PROFILE_PATHS ?? 'on,off').split(',');
const TOP = Number(process.env.PROFILE_TOP ?? 14);
const QNAME = '_dnslink.plain.dnslink.test';

/** The layer a profile node's code belongs to: dnslinkd's folder under dist/, a package, Node's own, or V8's pseudo-nodes. */
export function layerOf(url, functionName) {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle (waiting for packets)';
    if (functionName === '(program)') return 'native (libuv, syscalls, addon, V8 runtime)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) {
    const mod = url.slice(5).replace(/^internal\//, 'internal/');
    if (/dgram|udp/.test(mod)) return 'node: dgram';
    if (/buffer/.test(mod)) return 'node: buffer';
    if (/timers|task_queues|process\/task|async_hooks|promise/.test(mod)) return 'node: timers, ticks, promises';
    return `node: ${mod.split('/').slice(0, 2).join('/')}`;
  }
  const path = url.replace(/^file:\/\//, '');
  const rel = relative(repoRoot, path);
  if (rel.startsWith('dist/')) {
    const parts = rel.slice(5).split('/');
    return `dnslinkd: ${parts.length > 1 ? parts.slice(0, parts[0] === 'stages' ? 2 : 1).join('/') : parts[0]}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return pkg ? `package: ${pkg[1]}` : rel;
}

/**
 * Self time per layer and per function (ms), from a .cpuprofile, counting only the samples taken
 * within [fromUs, toUs] of the monotonic clock (V8's profile timestamps and process.hrtime share it).
 */
export function summarize(profile, fromUs = -Infinity, toUs = Infinity) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs || at > toUs) continue;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const layers = new Map();
  const functions = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id);
    const layer = layerOf(callFrame.url, callFrame.functionName);
    layers.set(layer, (layers.get(layer) ?? 0) + us);
    const fn = `${callFrame.functionName || '(anonymous)'} ${callFrame.url ? `${relative(repoRoot, callFrame.url.replace(/^file:\/\//, '')).replace(/^dist\//, '')}:${callFrame.lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    total += us;
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, us]) => ({ name: k, ms: us / 1000, share: us / total }));
  return { totalMs: total / 1000, layers: sorted(layers), functions: sorted(functions) };
}

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
