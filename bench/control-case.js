#!/usr/bin/env node
// Control-plane benchmark cases. (1) Overrides must not cost the hot path: cache-hit qps of an
// instance holding 10,000 active overrides against one holding none, dnsperf in alternating
// rounds, medians compared (target >= 0.95x). (2) A flush by suffix over 1,000,000 cached entries:
// its time, and the DNS port answering throughout (queries sent during the flush, answers, worst
// latency). Called by bench/run.js; alone: node --import ./bench/ts-support.mjs bench/control-case.js
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { encodeQuery, runTool, startDnslinkd, startNsd } from '../test/integration/support/index.js';

const QNAME = '_dnslink.plain.dnslink.test';
const OVERRIDES = 10_000;
const FLUSH_ENTRIES = Number(process.env.BENCH_FLUSH_ENTRIES ?? 1_000_000);
const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function dnsperfQps(port, queryFile, seconds, clients) {
  const r = await runTool('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(seconds), '-c', String(clients), '-T', '1', '-q', '256', '-t', '2'], (seconds + 30) * 1000);
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  if (!Number.isFinite(qps)) throw new Error(`dnsperf gave no result:\n${r.stdout}\n${r.stderr}`);
  return qps;
}

/** Cache-hit qps with and without 10,000 overrides, in alternating rounds; the ratio of medians. */
export async function runOverridesCase({ upstreamPort, queryFile, seconds = 5, clients = 4, rounds = 3 }) {
  const upstreams = [`udp://127.0.0.1:${upstreamPort}`];
  const none = await startDnslinkd({ upstreams });
  const many = await startDnslinkd({ upstreams });
  try {
    const overrides = Array.from({ length: OVERRIDES }, (_, i) => ({ name: `o${i}.override-bench.example`, value: `/ipfs/${CID}`, ttl: 60 }));
    const imported = await many.admin('POST', '/admin/v1/overrides/import', { overrides, reason: 'bench' });
    if (imported.status !== 200) throw new Error(`import failed: ${JSON.stringify(imported.body).slice(0, 300)}`);
    if ((await many.metric('dnslinkd_overrides_active')) !== OVERRIDES) throw new Error('the overrides are not all active');
    const qps = { none: [], many: [] };
    for (let round = 0; round < rounds; round++) {
      for (const [key, d] of round % 2 ? [['many', many], ['none', none]] : [['none', none], ['many', many]]) {
        qps[key].push(await dnsperfQps(d.dnsPort, queryFile, seconds, clients));
      }
    }
    const ratio = median(qps.many) / median(qps.none);
    console.log(`overrides: cache hits with ${OVERRIDES} active overrides ${Math.round(median(qps.many))} qps, with none ${Math.round(median(qps.none))} qps (medians of ${rounds} alternating ${seconds}s rounds)`);
    console.log(`  ratio ${ratio.toFixed(3)}x (target >= 0.95x: ${ratio >= 0.95 ? 'MET' : 'NOT MET'})`);
    return { overrides: OVERRIDES, qpsNone: qps.none, qpsMany: qps.many, ratio, met: ratio >= 0.95 };
  } finally {
    await none.stop();
    await many.stop();
  }
}

/**
 * A flush by suffix over FLUSH_ENTRIES cached entries, in one process holding a real UDP listener:
 * the flush's time, and a client querying a cached name every millisecond meanwhile.
 */
export async function runFlushCase() {
  const { pino } = await import('pino');
  const { loadConfig } = await import('../dist/config/load.js');
  const { createResolverCore } = await import('../dist/core/resolver-core.js');
  const { startUdpListener } = await import('../dist/listeners/udp-listener.js');
  const { makeQuestion } = await import('../dist/dns/names.js');
  const config = loadConfig({ env: {}, flags: { upstreams: [], localRecords: null, cache: { maxEntries: FLUSH_ENTRIES + 10, maxBytes: 4 * 1024 ** 3 } }, resolvConf: '/nonexistent' });
  const core = createResolverCore(config, pino({ level: 'silent' }));
  const cache = core.stages.cache;
  const answer = (name) => ({ rcode: 0, answers: [{ name, type: 'TXT', class: 'IN', ttl: 3600, data: `dnslink=/ipfs/${CID}` }], authorities: [], additionals: [], source: 'upstream', upstream: 'udp://bench' });
  const fillStarted = Date.now();
  for (let i = 0; i < FLUSH_ENTRIES; i++) {
    const name = `_dnslink.n${i}.flush-bench.example`;
    cache.store.put(makeQuestion(name, 16).key, answer(name));
  }
  const kept = '_dnslink.kept.other.example';
  cache.store.put(makeQuestion(kept, 16).key, answer(kept));
  const fillMs = Date.now() - fillStarted;
  const rssMb = Math.round(process.memoryUsage().rss / 1024 / 1024);

  const udp = await startUdpListener(core, '127.0.0.1', 0);
  const client = createSocket('udp4');
  await new Promise((resolve) => client.bind(0, '127.0.0.1', resolve));
  const sentAt = new Map();
  const latencies = [];
  client.on('message', (msg) => {
    const at = sentAt.get(msg.readUInt16BE(0));
    if (at !== undefined) latencies.push(Number(process.hrtime.bigint() - at) / 1e6);
  });
  let id = 0;
  let sent = 0;
  const ticker = setInterval(() => {
    id = (id + 1) & 0xffff;
    sentAt.set(id, process.hrtime.bigint());
    sent++;
    client.send(encodeQuery(id, kept, 'TXT'), udp.address.port, '127.0.0.1');
  }, 1);
  const started = process.hrtime.bigint();
  const removed = await cache.flush({ suffix: 'flush-bench.example' });
  const flushMs = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(ticker);
  await new Promise((resolve) => setTimeout(resolve, 200));
  client.close();
  await udp.close();
  console.log(`flush: by suffix over ${FLUSH_ENTRIES.toLocaleString('en')} cached entries (filled in ${fillMs} ms, RSS ${rssMb} MB): removed ${removed} in ${flushMs.toFixed(0)} ms`);
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  console.log(`  the DNS port meanwhile: ${latencies.length}/${sent} queries answered, latency p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, worst ${at(1).toFixed(1)} ms; the name outside the suffix still cached: ${cache.store.size === 1 ? 'yes' : 'NO'}`);
  return { entries: FLUSH_ENTRIES, removed, flushMs, queriesSent: sent, queriesAnswered: latencies.length, latencyMs: { p50: at(0.5), p99: at(0.99), worst: at(1) }, rssMb };
}

/** Both cases, for bench/run.js. */
export async function runControlCases(options) {
  const overrides = await runOverridesCase(options);
  const flush = await runFlushCase();
  return { overrides, flush };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const nsd = await startNsd();
  const queryFile = join(mkdtempSync(join(tmpdir(), 'dnslinkd-bench-')), 'q.txt');
  writeFileSync(queryFile, `${QNAME} TXT\n`);
  try {
    await runOverridesCase({ upstreamPort: nsd.port, queryFile, seconds: Number(process.env.BENCH_SECONDS ?? 5) });
  } finally {
    await nsd.stop();
  }
  await runFlushCase();
}
