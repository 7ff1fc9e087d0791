#!/usr/bin/env node
// The cache snapshot (issue 15): (1) write and load time of a snapshot of 100k and 1M DNSLink
// entries, in process (bench/snapshot-store.js, a child each); (2) a real dnslinkd started on a data
// dir holding a 1M-entry snapshot (its load time at start, from its log), then UDP cache hits for
// those names at a fixed rate from a client process (bench/udp-latency.js) while dnslinkd writes
// its periodic snapshot (cache.persistIntervalMs): the DNS port's p50/p99/max latency of the queries
// sent while a snapshot was being written, beside those sent while it was idle.
// Called by bench/run.js (runSnapshotCase); alone: BENCH_ONLY=snapshot npm run bench, or
// node --import ./bench/ts-support.mjs bench/snapshot-case.js (after npm run build).
// Env: BENCH_SNAPSHOT_SIZES (100000,1000000), BENCH_SNAPSHOT_QPS (3000), BENCH_SNAPSHOT_INTERVAL_MS (10000),
// BENCH_SNAPSHOT_WRITES (3: periodic writes the latency run covers).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digAt, repoRoot, runTool, startDnslinkd } from '../test/integration/support/index.js';
import { quantile } from './dnsperf.js';
import { SNAPSHOT_ZONE, snapshotCacheFor, snapshotName } from './snapshot-store.js';

const SIZES = (process.env.BENCH_SNAPSHOT_SIZES ?? '100000,1000000').split(',').map(Number).filter((n) => n > 0);
const QPS = Number(process.env.BENCH_SNAPSHOT_QPS ?? 3000);
const INTERVAL_MS = Number(process.env.BENCH_SNAPSHOT_INTERVAL_MS ?? 10_000);
const WRITES = Number(process.env.BENCH_SNAPSHOT_WRITES ?? 3);
const LATENCY_ENTRIES = Math.max(...SIZES);

/** node --expose-gc bench/snapshot-store.js N [dir]: its JSON line. */
async function storeRun(n, dir) {
  const r = await runTool(process.execPath, ['--expose-gc', join(repoRoot, 'bench', 'snapshot-store.js'), String(n), ...(dir ? [dir] : [])], 10 * 60_000);
  const line = r.stdout.trim().split('\n').pop();
  if (r.code !== 0 || !line) throw new Error(`snapshot-store.js ${n} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line);
}

const logLines = (d) =>
  d
    .logs()
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });

function latencyOf(samples) {
  const answered = Float64Array.from(samples.filter((v) => v >= 0)).sort();
  return { queries: samples.length, lost: samples.filter((v) => v < 0).length, p50Ms: quantile(answered, 0.5), p99Ms: quantile(answered, 0.99), maxMs: answered.length ? answered[answered.length - 1] : NaN };
}

/** (2): dnslinkd started on a 1M-entry snapshot; latency while it writes its periodic snapshots vs idle. */
async function latencyDuringWrites(log) {
  const dataDir = mkdtempSync(join(tmpdir(), 'dnslinkd-snapshot-case-'));
  try {
    await storeRun(LATENCY_ENTRIES, dataDir);
    const config = { cache: { ...snapshotCacheFor(LATENCY_ENTRIES), prefetch: false, persistIntervalMs: INTERVAL_MS } };
    const d = await startDnslinkd({ upstreams: [], dataDir, config });
    try {
      const loaded = logLines(d).find((l) => l.msg === 'cache snapshot loaded');
      if (loaded?.kept !== LATENCY_ENTRIES) throw new Error(`dnslinkd loaded ${JSON.stringify(loaded)}`);
      log(`dnslinkd started on a ${LATENCY_ENTRIES}-entry snapshot: loaded in ${loaded.durationMs} ms (CPU ${loaded.cpuMs} ms) before listening`);
      const probe = (await digAt(d.dnsPort, snapshotName(7), 'TXT')).parsed;
      if (probe?.status !== 'NOERROR' || probe.answers.length !== 1) throw new Error(`dnslinkd answered ${probe?.status} for a snapshot name`);
      const seconds = Math.ceil((INTERVAL_MS * WRITES + INTERVAL_MS / 2) / 1000);
      log(`UDP cache hits at ${QPS} qps for ${seconds}s (${LATENCY_ENTRIES} names) while dnslinkd writes a snapshot every ${INTERVAL_MS} ms`);
      const client = await runTool(process.execPath, [join(repoRoot, 'bench', 'udp-latency.js'), String(d.dnsPort), String(QPS), String(seconds), String(LATENCY_ENTRIES), '_dnslink.n', SNAPSHOT_ZONE], (seconds + 60) * 1000);
      if (client.code !== 0) throw new Error(`udp-latency.js failed (exit ${client.code}): ${client.stderr}`);
      const { sentAt, rtt } = JSON.parse(client.stdout);
      const writes = logLines(d)
        .filter((l) => l.msg === 'cache snapshot written')
        .map((l) => ({ from: l.time - l.durationMs, to: l.time, durationMs: l.durationMs, cpuMs: l.cpuMs, entries: l.entries, bytes: l.bytes }));
      const during = [];
      const idle = [];
      for (let i = 0; i < sentAt.length; i++) (writes.some((w) => sentAt[i] >= w.from && sentAt[i] <= w.to) ? during : idle).push(rtt[i]);
      const result = { qps: QPS, loadMs: loaded.durationMs, loadCpuMs: loaded.cpuMs, writes, during: latencyOf(during), idle: latencyOf(idle) };
      const fmt = (r) => `p50 ${r.p50Ms.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms, max ${r.maxMs.toFixed(3)} ms, lost ${r.lost} of ${r.queries}`;
      log(`  ${writes.length} snapshot writes of ${writes[0]?.entries ?? 0} entries (${writes.map((w) => `${w.durationMs} ms, CPU ${w.cpuMs} ms`).join('; ')})`);
      log(`  during a write: ${fmt(result.during)}`);
      log(`  idle:           ${fmt(result.idle)}`);
      return result;
    } finally {
      await d.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runSnapshotCase({ log = console.log } = {}) {
  log('cache snapshot: write and load in process (bench/snapshot-store.js)');
  const sizes = [];
  for (const n of SIZES) {
    const r = await storeRun(n);
    sizes.push(r);
    log(`  ${n} entries: write ${r.writeMs} ms (CPU ${r.writeCpuMs} ms), load ${r.loadMs} ms (CPU ${r.loadCpuMs} ms), file ${r.fileMb} MB${n >= 1_000_000 ? ` (goal: load under 5 s: ${r.loadMs < 5000 ? 'MET' : 'NOT MET'})` : ''}`);
  }
  const latency = await latencyDuringWrites(log);
  return { sizes, latency };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runSnapshotCase();
