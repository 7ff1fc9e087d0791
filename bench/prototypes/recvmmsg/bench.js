#!/usr/bin/env node
// Measures the recvmmsg/sendmmsg prototype against pure node:dgram in one run, with dnsperf (same
// query file, clients and duration): the bare fixed-answer server both ways, and dnslinkd's
// core.wireHandler.handle on cache hits both ways. Per-core figure: answers per CPU-second of the
// server process (/proc/PID/stat utime+stime), next to raw qps; ratio batched / pure-Node.
// Run: npm run build && bench/prototypes/recvmmsg/build.sh && node --import ./bench/ts-support.mjs bench/prototypes/recvmmsg/bench.js
// Env: PROTO_SECONDS (10) per run, PROTO_ROUNDS (2, alternating, median kept), PROTO_BATCH (64), BENCH_CLIENTS (4).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digAt, encodeQuery, exitedWith, repoRoot, spawnManaged, startNsd, startOnFreePort, udpExchange, waitFor } from '../../../test/integration/support/index.js';
import { dnsperf } from '../../dnsperf.js';

const SECONDS = Math.max(1, Number(process.env.PROTO_SECONDS ?? 10));
const ROUNDS = Math.max(1, Number(process.env.PROTO_ROUNDS ?? 2));
const BATCH = Math.max(1, Number(process.env.PROTO_BATCH ?? 64));
const CLIENTS = Math.max(1, Number(process.env.BENCH_CLIENTS ?? 4));
const QNAME = '_dnslink.plain.dnslink.test';
const here = fileURLToPath(new URL('.', import.meta.url));
const addonPath = join(here, 'build', 'recvmmsg.node');
if (!existsSync(addonPath)) throw new Error(`${addonPath} missing: run bench/prototypes/recvmmsg/build.sh`);
if (!existsSync(join(repoRoot, 'dist', 'core', 'resolver-core.js'))) throw new Error('dist/ missing: run npm run build');

/** utime+stime of a process in seconds (Linux /proc, clock ticks of 1/100 s). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** One server process (`script` with args after the port) on a free port, up once it prints "listening". */
function startServer(name, script, args) {
  return startOnFreePort(
    undefined,
    (port) => {
      const proc = spawnManaged(name, process.execPath, [script, ...(script.endsWith('server.js') ? [args[0], String(port), ...args.slice(1)] : [String(port), ...args])]);
      return { port, proc, stop: () => proc.stop() };
    },
    (handle) => waitFor(name, async () => /listening/.test(handle.proc.output()), 10_000, { abortIf: exitedWith(handle.proc) }),
  );
}

const nsd = await startNsd();
const work = mkdtempSync(join(tmpdir(), 'dnslinkd-proto-q-'));
const queryFile = join(work, 'queries.txt');
writeFileSync(queryFile, `${QNAME} TXT\n`);
const server = join(here, 'server.js');
try {
  const answer = await udpExchange(nsd.port, encodeQuery(0, QNAME, 'TXT'), 2000);
  if (!answer) throw new Error('nsd did not answer');
  const expected = (await digAt(nsd.port, QNAME, 'TXT')).parsed?.answers.map((a) => a.data).join(' ');
  const variants = {
    bareDgram: ['bare node:dgram', join(repoRoot, 'bench', 'bare-dgram.js'), [answer.toString('hex')]],
    bareBatch: [`bare recvmmsg/sendmmsg (batch ${BATCH})`, server, ['bare-batch', answer.toString('hex'), String(BATCH)]],
    dnslinkdDgram: ['dnslinkd wireHandler, node:dgram', server, ['dnslinkd-dgram', String(nsd.port)]],
    dnslinkdBatch: [`dnslinkd wireHandler, recvmmsg (batch ${BATCH})`, server, ['dnslinkd-batch', String(nsd.port), String(BATCH)]],
  };
  const runs = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  console.log(`recvmmsg prototype: dnsperf ${SECONDS}s x ${ROUNDS} rounds, ${CLIENTS} clients, ${QNAME} TXT (cache hits)`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [key, [name, script, args]] of Object.entries(variants)) {
      const s = await startServer(key, script, args);
      try {
        for (let i = 0; i < 3; i++) {
          const msg = (await digAt(s.port, QNAME, 'TXT')).parsed;
          const got = msg?.answers.map((a) => a.data).join(' ');
          if (msg?.status !== 'NOERROR' || got !== expected) throw new Error(`${name}: ${msg?.status} ${got}`);
        }
        const cpuBefore = cpuSeconds(s.proc.child.pid);
        const r = await dnsperf({ port: s.port, queryFile, seconds: SECONDS, clients: CLIENTS });
        const cpu = cpuSeconds(s.proc.child.pid) - cpuBefore;
        runs[key].push({ qps: r.qps, cpu, perCpuSecond: r.completed / cpu, lost: r.lost, latencyMs: r.latencyMs });
        console.log(`  ${name}: ${Math.round(r.qps)} qps, ${cpu.toFixed(2)} CPU-s, ${Math.round(r.completed / cpu)} answers/CPU-s`);
      } finally {
        await s.stop();
        const stats = s.proc.lines.find((l) => l.startsWith('stats '));
        if (stats) console.log(`    ${stats}`);
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const figure = (key, field) => median(runs[key].map((r) => r[field]));
  console.log(`\n${'server'.padEnd(44)}${'qps'.padEnd(9)}answers/CPU-s`);
  for (const [key, [name]] of Object.entries(variants)) console.log(`${name.padEnd(44)}${String(Math.round(figure(key, 'qps'))).padEnd(9)}${Math.round(figure(key, 'perCpuSecond'))}`);
  for (const [label, batched, pure] of [
    ['bare', 'bareBatch', 'bareDgram'],
    ['dnslinkd', 'dnslinkdBatch', 'dnslinkdDgram'],
  ]) {
    console.log(`${label} batched / pure-Node: qps ${(figure(batched, 'qps') / figure(pure, 'qps')).toFixed(2)}x, per core (answers/CPU-s) ${(figure(batched, 'perCpuSecond') / figure(pure, 'perCpuSecond')).toFixed(2)}x`);
  }
} finally {
  await nsd.stop();
  rmSync(work, { recursive: true, force: true });
}
