#!/usr/bin/env node
// The answer store's memory in process, no daemon and no network (load does not move these
// figures): (1) N DNSLink entries (one TXT each): V8 heap and RSS growth per entry after a forced
// GC; (2) maxBytes under eviction: N names pushed through a store bounded by maxBytes, RSS growth
// against maxBytes, beside a control store that keeps one entry.
// Run (after npm run build): node --expose-gc bench/memory-store.js [fill|evict|control] [N] [maxBytesMb]
// (V8_FLAGS and HEAP_LIMITS: see heap-env.js; MAPS=1 and SPACES=1 print where the RSS is.)
import './heap-env.js';
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { makeQuestion } from '../dist/dns/names.js';
import { RRType } from '../dist/dns/constants.js';
import { AnswerStore } from '../dist/stages/cache/answer-store.js';

const MB = 1024 * 1024;
const [mode = 'fill', count = '1000000', maxBytesMb = '100'] = process.argv.slice(2);
const n = Number(count);
const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const gc = () => { for (let i = 0; i < 3; i++) globalThis.gc(); };
const name = (i) => `_dnslink.n${i}.mem.test`;
const answer = (i) => ({
  rcode: 0, source: 'upstream', upstream: 'udp://127.0.0.1:5300', authorities: [], additionals: [],
  answers: [{ name: name(i), type: 'TXT', class: 'IN', ttl: 3600, data: [`dnslink=/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi${i}`] }],
});
const policy = { maxEntries: 1e9, maxBytes: 16 * 1024 * MB, minTtl: 0, maxTtl: 86_400, negativeMinTtl: 0, negativeMaxTtl: 3600, serveStale: true, staleMaxAge: 86_400 };
if (mode === 'evict') policy.maxBytes = Number(maxBytesMb) * MB;
if (mode === 'control') policy.maxEntries = 1;
// The store's clock advances 0.1 ms per put: 10,000 misses a second, a daemon's pace (real time here runs faster).
let clock = Date.now();
const store = new AnswerStore(policy, () => clock);
for (let i = 0; i < 1000; i++) store.put(makeQuestion(name(i), RRType.TXT).key, answer(i));
gc();
const heap0 = process.memoryUsage(); const rss0 = rss();
const started = performance.now();
for (let i = 1000; i < n; i++, clock += 0.1) store.put(makeQuestion(name(i), RRType.TXT).key, answer(i));
const seconds = (performance.now() - started) / 1000;
const rssBeforeGc = rss();
gc();
await new Promise((resolve) => setTimeout(resolve, 1000)); // freed pages are unmapped in the background
gc();
const heap1 = process.memoryUsage(); const rss1 = rss();
const entries = store.size;
console.log(JSON.stringify({
  mode, pushed: n, entries, putsPerSecond: Math.round((n - 1000) / seconds),
  cacheBytesMb: +(store.bytes / MB).toFixed(1),
  rssMb: +(rss1 / MB).toFixed(1), rssGrowthMb: +((rss1 - rss0) / MB).toFixed(1), rssGrowthBeforeGcMb: +((rssBeforeGc - rss0) / MB).toFixed(1),
  heapUsedGrowthMb: +((heap1.heapUsed - heap0.heapUsed) / MB).toFixed(1), externalGrowthMb: +((heap1.external - heap0.external) / MB).toFixed(1), heapTotalGrowthMb: +((heap1.heapTotal - heap0.heapTotal) / MB).toFixed(1),
  rssPerEntry: Math.round((rss1 - rss0) / entries), heapPerEntry: Math.round((heap1.heapUsed - heap0.heapUsed) / entries),
}));
if (process.env.SPACES) for (const s of v8.getHeapSpaceStatistics()) console.log(s.space_name, (s.space_size / MB).toFixed(1), (s.space_used_size / MB).toFixed(1), (s.physical_space_size / MB).toFixed(1));
if (process.env.MAPS) {
  console.log(readFileSync('/proc/self/smaps_rollup', 'utf8').split('\n').filter((l) => /^(Rss|Anonymous|LazyFree|Private_Dirty|Private_Clean)/.test(l)).join('; '));
  const maps = readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
  const rows = maps.map((m) => ({ head: m.split('\n')[0].split(/\s+/).slice(5).join(' ') || 'anon', size: Number(/\nSize:\s+(\d+)/.exec(m)?.[1]), rss: Number(/\nRss:\s+(\d+)/.exec(m)?.[1]) }));
  rows.sort((a, b) => b.rss - a.rss);
  const by = new Map();
  for (const r of rows) { const k = r.head === 'anon' ? `anon ${r.size >= 1024 ? '>=1MB' : r.size + 'kB'}` : r.head; const t = by.get(k) ?? { n: 0, rss: 0 }; t.n++; t.rss += r.rss; by.set(k, t); }
  for (const [k, t] of [...by].sort((a, b) => b[1].rss - a[1].rss).slice(0, 10)) console.log(k, t.n, (t.rss / 1024).toFixed(1));
}
