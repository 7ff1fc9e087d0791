#!/usr/bin/env node
// Memory at a million names (issue 11). (1) A real dnslinkd filled with N distinct DNSLink names
// (one TXT each) from a real authoritative server over UDP (nsd answering a wildcard TXT, rate
// limiting off), at 10k, 100k and 1M names: RSS (VmRSS of the dnslinkd process), bytes per entry,
// dnslinkd_cache_bytes, RSS growth / cache bytes, and cache-hit qps over the N names (dnsperf).
// (2) cache.maxBytes bounds real memory: maxBytes 100 MB, push more names than fit, RSS growth
// against maxBytes (target: within 20%). (3) Cold misses: 10,000 concurrent queries for 1,000
// uncached names, upstream queries counted at a counting proxy (target: at most 1,000).
// Called by bench/run.js (runMemoryCase); alone: node --import ./bench/ts-support.mjs bench/memory-case.js
// A miss costs dnslinkd ~0.25 ms here, so 1M names take minutes: the default run stops at 100k names
// and pushes 300k for the maxBytes check (about 4 minutes); BENCH_MEMORY_FULL=1 runs 10k, 100k, 1M
// and pushes 1M (about 15). Env: BENCH_MEMORY_SIZES (e.g. 10000,100000,1000000; empty skips the
// table), BENCH_MEMORY_PUSH, BENCH_MEMORY_MAXBYTES_MB (100), BENCH_SECONDS (hit qps, default 5).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTool, startCountingProxy, startDnslinkd } from '../test/integration/support/index.js';
import { queryBurst, startWildcardNsd } from '../test/integration/support/many-names.js';

const MB = 1024 * 1024;
const FULL = process.env.BENCH_MEMORY_FULL === '1';
const sizesFromEnv = () => (process.env.BENCH_MEMORY_SIZES ?? (FULL ? '10000,100000,1000000' : '10000,100000')).split(',').map(Number).filter((n) => n > 0);

/** Resident memory of a process (VmRSS), in bytes. */
function rssOf(pid) {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb * 1024;
}

/** Writes the query file of names [from, to) for dnsperf. */
function writeQueries(file, nsd, from, to) {
  const lines = [];
  for (let i = from; i < to; i++) lines.push(`${nsd.name(i)} TXT`);
  writeFileSync(file, `${lines.join('\n')}\n`);
}

async function dnsperf(port, file, args, timeoutMs) {
  const r = await runTool('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-c', '4', '-T', '1', '-t', '5', ...args], timeoutMs);
  const number = (re) => Number(re.exec(r.stdout)?.[1] ?? NaN);
  const qps = number(/Queries per second:\s+([\d.]+)/);
  if (!Number.isFinite(qps)) throw new Error(`dnsperf gave no result:\n${r.stdout}\n${r.stderr}`);
  return { qps, lost: number(/Queries lost:\s+(\d+)/), completed: number(/Queries completed:\s+(\d+)/) };
}

/** Sends each name of [from, to) once (misses: every one goes upstream and is cached). */
async function fill(d, nsd, dir, from, to) {
  const file = join(dir, `fill-${from}-${to}.txt`);
  writeQueries(file, nsd, from, to);
  // -n 1: through the file once; 200 outstanding, so the upstream is never flooded.
  const r = await dnsperf(d.dnsPort, file, ['-n', '1', '-q', '200'], 30 * 60_000);
  rmSync(file);
  return r;
}

/** What the daemon's memory looks like once the garbage of the fill is collected (it runs idle for a moment). */
async function settledRss(pid) {
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return rssOf(pid);
}

/** (1) RSS, bytes per entry and hit qps at each size, in one daemon filled step by step. */
async function sizesTable(nsd, dir, sizes, seconds) {
  const d = await startDnslinkd({
    upstreams: [`udp://127.0.0.1:${nsd.port}`],
    config: { cache: { maxEntries: Math.max(...sizes) * 2, maxBytes: 16 * 1024 * MB, prefetch: false }, upstreamTimeoutMs: 5000 },
  });
  const pid = d.proc.child.pid;
  const rows = [];
  try {
    await fill(d, nsd, dir, 0, 100); // warm up: code paths compiled, sockets open
    const baseline = await settledRss(pid);
    let filled = 100;
    for (const n of sizes) {
      const started = Date.now();
      const f = await fill(d, nsd, dir, filled, n);
      const fillSeconds = (Date.now() - started) / 1000;
      filled = n;
      const rss = await settledRss(pid);
      const entries = await d.metric('dnslinkd_cache_entries');
      const cacheBytes = await d.metric('dnslinkd_cache_bytes');
      const heapUsed = await d.metric('dnslinkd_nodejs_heap_size_used_bytes');
      const hitsFile = join(dir, `hits-${n}.txt`);
      writeQueries(hitsFile, nsd, 0, n);
      const hits = await dnsperf(d.dnsPort, hitsFile, ['-l', String(seconds), '-q', '256'], (seconds + 60) * 1000);
      rmSync(hitsFile);
      const rssAfterHits = rssOf(pid);
      rows.push({
        names: n,
        entries,
        rssMb: rss / MB,
        rssAfterHitsMb: rssAfterHits / MB,
        bytesPerEntry: (rss - baseline) / entries,
        cacheBytesMb: cacheBytes / MB,
        rssGrowthOverCacheBytes: (rss - baseline) / cacheBytes,
        heapUsedMb: heapUsed / MB,
        hitQps: hits.qps,
        hitsLost: hits.lost,
        fillQps: (n - (rows.at(-1)?.names ?? 100)) / fillSeconds,
        fillLost: f.lost,
      });
    }
    return { baselineMb: baseline / MB, rows };
  } finally {
    await d.stop();
  }
}

/** RSS of a daemon with this cache config before (after 100 names) and after `push` distinct names. */
async function pushNames(nsd, dir, push, cache) {
  const d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { cache: { ...cache, prefetch: false }, upstreamTimeoutMs: 5000 } });
  const pid = d.proc.child.pid;
  try {
    await fill(d, nsd, dir, 0, 100);
    const baseline = await settledRss(pid);
    await fill(d, nsd, dir, 100, push);
    const rss = await settledRss(pid);
    return { baseline, rss, entries: await d.metric('dnslinkd_cache_entries'), cacheBytes: await d.metric('dnslinkd_cache_bytes') };
  } finally {
    await d.stop();
  }
}

/**
 * (2) maxBytes against the memory really used: push more names than fit. The misses themselves
 * leave the process bigger (V8's young generation grown to its size, allocator high-water marks),
 * so a control daemon that keeps one entry is pushed the same names: the bounded daemon's RSS
 * above the control's is what its cache holds, compared with maxBytes.
 */
async function maxBytesCheck(nsd, dir, push, maxBytesMb) {
  const control = await pushNames(nsd, dir, push, { maxEntries: 1 });
  const bounded = await pushNames(nsd, dir, push, { maxEntries: push * 2, maxBytes: maxBytesMb * MB });
  const ratio = (bounded.rss - control.rss) / (maxBytesMb * MB);
  return {
    maxBytesMb,
    pushed: push,
    entries: bounded.entries,
    baselineMb: bounded.baseline / MB,
    rssMb: bounded.rss / MB,
    controlRssMb: control.rss / MB,
    cacheBytesMb: bounded.cacheBytes / MB,
    growthOverMaxBytes: (bounded.rss - bounded.baseline) / (maxBytesMb * MB),
    aboveControlOverMaxBytes: ratio,
    met: Math.abs(ratio - 1) <= 0.2,
  };
}

/** (3) 10,000 concurrent queries for 1,000 uncached names: questions seen at the upstream. */
async function coldMisses(nsd) {
  const proxy = await startCountingProxy(nsd.port);
  const d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${proxy.port}`], config: { cache: { prefetch: false }, upstreamTimeoutMs: 10_000 } });
  try {
    const names = Array.from({ length: 1000 }, (_, i) => `_dnslink.cold${i}.${nsd.zone}`);
    const burst = await queryBurst(d.dnsPort, names, 10, { window: 10_000, timeoutMs: 12_000 });
    const upstreamQueries = names.reduce((sum, name) => sum + proxy.count(name), 0);
    const failedAttempts = await d.metric('dnslinkd_upstream_errors_total');
    return { queries: burst.sent, names: names.length, answered: burst.answered, upstreamQueries, failedAttempts, met: upstreamQueries <= names.length };
  } finally {
    await d.stop();
    await proxy.close();
  }
}

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

/** All three, printed as tables; returns the figures (for .bench/results.json). */
export async function runMemoryCase(opts = {}) {
  const sizes = opts.sizes ?? sizesFromEnv();
  const seconds = opts.seconds ?? Math.max(2, Number(process.env.BENCH_SECONDS ?? 5));
  const push = opts.push ?? Number(process.env.BENCH_MEMORY_PUSH ?? (FULL ? 1_000_000 : 300_000));
  const maxBytesMb = opts.maxBytesMb ?? Number(process.env.BENCH_MEMORY_MAXBYTES_MB ?? 100);
  const nsd = await startWildcardNsd('mem.test');
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-bench-memory-'));
  try {
    let table = { baselineMb: NaN, rows: [] };
    if (sizes.length > 0) {
      console.log(`memory: dnslinkd filled with distinct DNSLink names (one TXT each) from nsd over UDP (wildcard TXT, RRL off)`);
      table = await sizesTable(nsd, dir, sizes, seconds);
      console.log(`  baseline RSS ${fmt(table.baselineMb, 1)} MB (after start and 100 names)`);
      console.log('  | names | RSS MB | bytes/entry (RSS growth) | V8 heap used MB | dnslinkd_cache_bytes MB | RSS growth / cache_bytes | hit qps (dnsperf, all N names) | fill qps (misses) |');
      console.log('  |---|---|---|---|---|---|---|---|');
      for (const r of table.rows) {
        console.log(`  | ${fmt(r.names)} | ${fmt(r.rssMb, 1)} | ${fmt(r.bytesPerEntry)} | ${fmt(r.heapUsedMb, 1)} | ${fmt(r.cacheBytesMb, 1)} | ${fmt(r.rssGrowthOverCacheBytes, 2)} | ${fmt(r.hitQps)} | ${fmt(r.fillQps)} |`);
      }
      const largest = table.rows.at(-1);
      if (largest && largest.names >= 1_000_000) console.log(`  1M names: RSS ${fmt(largest.rssMb)} MB (target < 600 MB: ${largest.rssMb < 600 ? 'MET' : 'NOT MET'})`);
    }

    const bound = await maxBytesCheck(nsd, dir, push, maxBytesMb);
    console.log(
      `memory: cache.maxBytes ${maxBytesMb} MB, ${fmt(bound.pushed)} names pushed: ${fmt(bound.entries)} kept (dnslinkd_cache_bytes ${fmt(bound.cacheBytesMb, 1)} MB), ` +
        `RSS ${fmt(bound.baselineMb, 1)} -> ${fmt(bound.rssMb, 1)} MB (${fmt(bound.growthOverMaxBytes, 2)}x maxBytes); a control keeping 1 entry, same names: RSS ${fmt(bound.controlRssMb, 1)} MB; ` +
        `cache above the control ${fmt(bound.rssMb - bound.controlRssMb, 1)} MB = ${fmt(bound.aboveControlOverMaxBytes, 2)}x maxBytes (target within 20%: ${bound.met ? 'MET' : 'NOT MET'})`,
    );

    const cold = await coldMisses(nsd);
    console.log(
      `memory: cold misses: ${fmt(cold.queries)} concurrent queries for ${fmt(cold.names)} uncached names: ${fmt(cold.answered)} answered, ` +
        `${fmt(cold.upstreamQueries)} upstream queries (counted at the upstream; ${fmt(cold.failedAttempts)} failed attempts retried) (target <= ${fmt(cold.names)}: ${cold.met ? 'MET' : 'NOT MET'})`,
    );
    return { ...table, maxBytes: bound, coldMisses: cold };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await nsd.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runMemoryCase();
}
