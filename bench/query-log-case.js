#!/usr/bin/env node
// The query log's cost (issue 17): UDP cache hits from dnsperf against dnslinkd with log.queries off,
// with log.queries all (its lines written to a file), and against the tree before the query log
// (BENCH_QUERY_LOG_BASE: the root of a built checkout of it; without it, that case is left out), in
// alternating rounds in the same run: the figures are ratios, as docs/performance.md asks.
// Each dnslinkd is a child whose stdout and stderr go to a file (the query log's lines with them).
// Alone: BENCH_ONLY=querylog npm run bench. Env: BENCH_SECONDS (10) per run, BENCH_CLIENTS (4),
// BENCH_QUERY_LOG_ROUNDS (3), BENCH_QUERY_LOG_BASE (a directory with bin/dnslinkd.js and dist/).
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digAt, freePort, repoRoot, startNsd, waitFor } from '../test/integration/support/index.js';
import { dnsperf } from './dnsperf.js';

const SECONDS = Math.max(1, Number(process.env.BENCH_SECONDS ?? 10));
const CLIENTS = Math.max(1, Number(process.env.BENCH_CLIENTS ?? 4));
const ROUNDS = Math.max(1, Number(process.env.BENCH_QUERY_LOG_ROUNDS ?? 3));
const BASE = process.env.BENCH_QUERY_LOG_BASE;
const QNAME = '_dnslink.plain.dnslink.test';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** CPU time a process has used (user + system), in µs, from /proc (clock ticks of 10 ms). */
function cpuUs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** One dnslinkd from `root` with `log` settings, its output to a file; resolves once it answers. */
async function startServer(root, upstreamPort, log, work, key) {
  const port = await freePort();
  const http = await freePort();
  const admin = await freePort();
  const dataDir = join(work, `data-${key}`);
  const configFile = join(work, `config-${key}.json`);
  writeFileSync(configFile, JSON.stringify({ localRecords: null, dataDir, ...(log ? { log } : {}) }));
  const logFile = join(work, `out-${key}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [join(root, 'bin', 'dnslinkd.js'), 'serve', '--config', configFile, '--dns', `127.0.0.1:${port}`, '--http', `127.0.0.1:${http}`, '--admin', `127.0.0.1:${admin}`, '--upstream', `udp://127.0.0.1:${upstreamPort}`], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  await waitFor(`dnslinkd (${key})`, async () => (await digAt(port, QNAME, 'TXT')).parsed?.status === 'NOERROR', 20_000, { abortIf: () => (child.exitCode !== null ? `exited ${child.exitCode}: ${readFileSync(logFile, 'utf8')}` : undefined) });
  return {
    port,
    logFile,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

export async function runQueryLogCase(log = console.log) {
  const work = mkdtempSync(join(tmpdir(), 'dnslinkd-bench-qlog-'));
  const queryFile = join(work, 'queries.txt');
  writeFileSync(queryFile, `${QNAME} TXT\n`);
  const nsd = await startNsd();
  const cases = [
    ...(BASE ? [{ key: 'before', name: 'tree before the query log', root: BASE, log: undefined }] : []),
    { key: 'off', name: 'log.queries off', root: repoRoot, log: { queries: 'off', format: 'json' } },
    { key: 'all', name: 'log.queries all, to a file', root: repoRoot, log: { queries: 'all', format: 'json' } },
  ];
  const results = Object.fromEntries(cases.map((c) => [c.key, []]));
  const lines = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        const server = await startServer(c.root, nsd.port, c.log, work, c.key);
        try {
          const cpuBefore = cpuUs(server.pid);
          const r = await dnsperf({ port: server.port, queryFile, seconds: SECONDS, clients: CLIENTS });
          const cpuPerQueryUs = (cpuUs(server.pid) - cpuBefore) / r.completed;
          const logged = readFileSync(server.logFile, 'utf8').split('\n').filter((l) => l.includes('"msg":"query"')).length;
          results[c.key].push({ qps: r.qps, cpuPerQueryUs, latencyMs: r.latencyMs, lost: r.lost, logged, logBytes: statSync(server.logFile).size });
          log(`  round ${round + 1} ${c.name}: ${Math.round(r.qps)} q/s, ${cpuPerQueryUs.toFixed(2)} µs CPU per query, avg ${r.latencyMs.toFixed(3)} ms, lost ${r.lost}, query lines ${logged}`);
        } finally {
          await server.stop();
          rmSync(server.logFile, { force: true });
        }
      }
    }
    const summary = Object.fromEntries(cases.map((c) => [c.key, { name: c.name, qps: median(results[c.key].map((r) => r.qps)), cpuPerQueryUs: median(results[c.key].map((r) => r.cpuPerQueryUs)), latencyMs: median(results[c.key].map((r) => r.latencyMs)), logged: median(results[c.key].map((r) => r.logged)) }]));
    const ratio = (a, b) => (summary[a] && summary[b] ? summary[a].qps / summary[b].qps : undefined);
    // By CPU: the q/s ratio each would reach on a core of its own (steadier on a shared box).
    const cpuRatio = (a, b) => (summary[a] && summary[b] ? summary[b].cpuPerQueryUs / summary[a].cpuPerQueryUs : undefined);
    const out = { seconds: SECONDS, clients: CLIENTS, rounds: ROUNDS, summary, offVsBefore: ratio('off', 'before'), allVsOff: ratio('all', 'off'), offVsBeforeByCpu: cpuRatio('off', 'before'), allVsOffByCpu: cpuRatio('all', 'off'), runs: results };
    lines.push(`query log: median of ${ROUNDS} rounds, ${SECONDS} s each, ${CLIENTS} dnsperf clients, UDP cache hits`);
    for (const c of cases) lines.push(`  ${c.name.padEnd(28)} ${Math.round(summary[c.key].qps)} q/s, ${summary[c.key].cpuPerQueryUs.toFixed(2)} µs CPU per query, avg ${summary[c.key].latencyMs.toFixed(3)} ms`);
    if (out.offVsBefore !== undefined) lines.push(`  off / before: ${out.offVsBefore.toFixed(3)}x q/s, ${out.offVsBeforeByCpu.toFixed(3)}x by CPU`);
    lines.push(`  all / off:    ${out.allVsOff.toFixed(3)}x q/s, ${out.allVsOffByCpu.toFixed(3)}x by CPU`);
    for (const l of lines) log(l);
    return out;
  } finally {
    await nsd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
