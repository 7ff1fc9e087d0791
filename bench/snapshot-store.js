#!/usr/bin/env node
// The cache snapshot in process, no daemon (issue 15): an answer store filled with N DNSLink
// entries (one TXT each, as bench/memory-store.js fills it) written to a snapshot file, then read
// back into an empty store; prints write and load time, file size and entries kept, as JSON.
// With a directory as third argument the snapshot is left there as <dir>/cache-0.snapshot, for a
// daemon to start from (bench/snapshot-case.js); `name(i)` below gives its names.
// Run (after npm run build): node --expose-gc bench/snapshot-store.js N [dataDir]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeQuestion } from '../dist/dns/names.js';
import { RRType } from '../dist/dns/constants.js';
import { AnswerStore } from '../dist/stages/cache/answer-store.js';
import { cacheSnapshotFile, loadSnapshot, writeSnapshot } from '../dist/stages/cache/snapshot.js';
import { SNAPSHOT_HEADER_BYTES } from '../dist/stages/cache/snapshot-format.js';

export const SNAPSHOT_ZONE = 'snap.test';
export const snapshotName = (i) => `_dnslink.n${i}.${SNAPSHOT_ZONE}`;
/** A cache large enough for N such entries (what the daemon of the case is configured with). */
export const snapshotCacheFor = (n) => ({ maxEntries: n * 2, maxBytes: Math.max(64 * 1024 * 1024, n * 1024) });

const answer = (i) => ({
  rcode: 0, source: 'upstream', upstream: 'udp://127.0.0.1:5300', authorities: [], additionals: [],
  answers: [{ name: snapshotName(i), type: 'TXT', class: 'IN', ttl: 86_400, data: [`dnslink=/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi${i}`] }],
});

async function main() {
  const [count = '100000', keepIn] = process.argv.slice(2);
  const n = Number(count);
  const policy = { ...snapshotCacheFor(n), minTtl: 0, maxTtl: 86_400, negativeMinTtl: 0, negativeMaxTtl: 3600, serveStale: true, staleMaxAge: 86_400 };
  const dir = keepIn ?? mkdtempSync(join(tmpdir(), 'dnslinkd-snapshot-bench-'));
  const file = cacheSnapshotFile(dir);
  try {
    let store = new AnswerStore(policy);
    for (let i = 0; i < n; i++) store.put(makeQuestion(snapshotName(i), RRType.TXT).key, answer(i));
    const written = await writeSnapshot(store, file);
    store = undefined;
    globalThis.gc?.();
    const loadedStore = new AnswerStore(policy);
    const loaded = await loadSnapshot(loadedStore, file, policy.maxBytes + SNAPSHOT_HEADER_BYTES);
    if (loaded.result !== 'loaded' || loaded.kept !== n) throw new Error(`snapshot of ${n} entries loaded as ${JSON.stringify(loaded)}`);
    console.log(JSON.stringify({ entries: n, writeMs: Math.round(written.durationMs), writeCpuMs: Math.round(written.cpuMs), loadMs: Math.round(loaded.durationMs), loadCpuMs: Math.round(loaded.cpuMs), fileMb: +(written.bytes / 1024 / 1024).toFixed(1), kept: loaded.kept }));
  } finally {
    if (!keepIn) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
