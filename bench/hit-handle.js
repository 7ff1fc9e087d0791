#!/usr/bin/env node
// A cache hit in process: wireHandler.handle() of queries over N cached names (no sockets), the
// time per hit and the GCs it cost; for comparing a change to the hot path (alternate runs).
// Run (after npm run build): node bench/hit-handle.js [names=100000] [hits=2000000]
// V8_FLAGS and HEAP_LIMITS: see heap-env.js.
import './heap-env.js';
import v8 from 'node:v8';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import * as dnsPacket from 'dns-packet';

const dist = new URL('../dist/', import.meta.url);
const { loadConfig } = await import(new URL('config/load.js', dist).href);
const { createResolverCore } = await import(new URL('core/resolver-core.js', dist).href);
const { makeQuestion } = await import(new URL('dns/names.js', dist).href);
const { default: pino } = await import('pino');

const names = Number(process.argv[2] ?? 100_000);
const hits = Number(process.argv[3] ?? 2_000_000);
const config = loadConfig({ env: {}, flags: { upstreams: ['udp://127.0.0.1:9'], localRecords: null, dataDir: mkdtempSync(join(tmpdir(), 'dnslinkd-hit-')) } });
const core = await createResolverCore(config, pino({ level: 'warn' }));
const nameOf = (i) => `_dnslink.n${i}.mem.test`;
const packets = [];
for (let i = 0; i < names; i++) {
  if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve)); // the event loop turns, as in the daemon
  core.stages.cache.store.put(makeQuestion(nameOf(i), 16).key, {
    rcode: 0, source: 'upstream', upstream: 'udp://127.0.0.1:9', authorities: [], additionals: [],
    answers: [{ name: nameOf(i), type: 'TXT', class: 'IN', ttl: 3600, data: [`dnslink=/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi${i}`] }],
  });
  packets.push(dnsPacket.encode({ id: i & 0xffff, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: nameOf(i), type: 'TXT' }] }));
}
let gcs = 0;
let gcMs = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) { gcs++; gcMs += e.duration; } }).observe({ entryTypes: ['gc'] });
const { wireHandler } = core;
let bytes = 0;
const round = (count) => {
  for (let i = 0; i < count; i++) {
    const out = wireHandler.handle(packets[i % names], 'udp', true);
    if (out instanceof Promise) throw new Error('a hit went async');
    bytes += out.length ?? out.bytes?.length ?? 1;
  }
};
for (let i = 0; i < 50; i++) {
  round(10_000); // warm up, the event loop turning
  await new Promise((resolve) => setTimeout(resolve, 1));
}
gcs = 0; gcMs = 0;
const started = process.hrtime.bigint();
round(hits);
const ns = Number(process.hrtime.bigint() - started) / hits;
await new Promise((resolve) => setTimeout(resolve, 100));
const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
console.log(JSON.stringify({ flags: process.env.V8_FLAGS ?? '', names, hits, nsPerHit: +ns.toFixed(1), gcs, gcMsPerMillionHits: +((gcMs / hits) * 1e6).toFixed(1), newSpaceMb: newSpace.space_size / 2 ** 20, bytes }));
process.exit(0);
