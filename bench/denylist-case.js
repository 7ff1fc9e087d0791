#!/usr/bin/env node
// The denylist at scale (issue 18): a compact denylist of BENCH_DENYLIST_RULES (default 1,000,000)
// rules, a realistic mix (Bad Bits' legacy double hashes, modern double hashes, CIDs v0 and v1,
// CID paths, path prefixes, DNSLink names), written to a file by one child and compiled by another
// (bench/denylist-load.js) the way a source does it: load time (wall and CPU), RSS after the load
// against before it (the list's text released, after a GC), peak RSS, and the longest event-loop
// pause while it compiled (a 5 ms timer's longest gap, and perf_hooks' monitorEventLoopDelay max).
// Targets: load < 5 s, RSS < 200 MB, pause < 50 ms.
// Called by bench/run.js (runDenylistCase); alone: BENCH_ONLY=denylist npm run bench, or
// node --import ./bench/ts-support.mjs bench/denylist-case.js (after npm run build).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot, runTool } from '../test/integration/support/index.js';

const RULES = Number(process.env.BENCH_DENYLIST_RULES ?? 1_000_000);

async function child(args, expose) {
  const r = await runTool(process.execPath, [...(expose ? ['--expose-gc'] : []), join(repoRoot, 'bench', 'denylist-load.js'), ...args], 10 * 60_000);
  if (r.code !== 0) throw new Error(`denylist-load.js ${args.join(' ')} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim().split('\n').pop();
}

/** The 1-minute load average: above the number of cores, wall times include waiting for one. */
const loadAverage = () => loadavg()[0].toFixed(1);

export async function runDenylistCase(log = console.log) {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-denylist-case-'));
  try {
    const file = join(dir, 'bench.deny');
    await child(['generate', String(RULES), file], false);
    const r = JSON.parse(await child(['load', file, String(RULES)], true));
    // On a machine busier than its cores, wall times include waiting for one: then the CPU figures
    // (load CPU, main-thread CPU within the longest pause) are the ones to hold to the targets.
    const met = { load: r.loadMs < 5000, loadCpu: r.loadCpuMs < 5000, rss: r.rssDeltaMb < 200, pause: r.longestPauseMs < 50, pauseCpu: r.longestPauseCpuMs < 50 };
    const loaded = loadAverage();
    log(`denylist of ${r.rules} rules (${r.textMb} MB of text): loaded in ${r.loadMs} ms (CPU ${r.loadCpuMs} ms), RSS +${r.rssDeltaMb} MB after (peak +${r.peakRssDeltaMb} MB while compiling), ` +
      `longest event-loop pause ${r.longestPauseMs} ms of which ${r.longestPauseCpuMs} ms main-thread CPU (monitorEventLoopDelay max ${r.eventLoopDelayMaxMs} ms, p99 ${r.eventLoopDelayP99Ms} ms); load average ${loaded}`);
    log(`  match: ${r.matchListedUs} µs per listed path, ${r.matchUnlistedNameUs} µs per unlisted name; targets load < 5 s ${met.load ? 'MET' : 'NOT MET'} (CPU ${met.loadCpu ? 'MET' : 'NOT MET'}), RSS < 200 MB ${met.rss ? 'MET' : 'NOT MET'}, pause < 50 ms ${met.pause ? 'MET' : 'NOT MET'} (main-thread CPU ${met.pauseCpu ? 'MET' : 'NOT MET'})`);
    return { ...r, met };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runDenylistCase();
