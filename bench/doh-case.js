#!/usr/bin/env node
// The DoH benchmark case: h2load against dnslinkd's `/dns-query?dns=` (GET, a cache hit) and, in
// the same run, against a bare fastify route returning the same answer bytes; req/s and the ratio
// (target >= 0.8x over HTTP/1.1). Called by bench/run.js, or run alone: node --import ./bench/ts-support.mjs bench/doh-case.js
// Env (standalone): BENCH_SECONDS (default 10) per measurement, BENCH_CLIENTS (8), BENCH_ROUNDS (3).
import { fileURLToPath } from 'node:url';
import { findBinary, freePort, repoRoot, runTool, spawnManaged, startDnslinkd, startNsd, waitFor } from '../test/integration/support/index.js';

const QNAME = '_dnslink.plain.dnslink.test';
const TARGET = 0.8;
const self = fileURLToPath(import.meta.url);
/** This module imports the TypeScript test support, so its child process needs the loader hook too. */
const TS_SUPPORT = new URL('./ts-support.mjs', import.meta.url).href;

/** A DoH GET query (ID 0, RD, no EDNS) for `name` TXT, base64url without padding. */
export function dohQuery(name) {
  const parts = [Buffer.from([0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of name.split('.')) parts.push(Buffer.from([l.length]), Buffer.from(l));
  parts.push(Buffer.from([0, 0, 16, 0, 1]));
  return Buffer.concat(parts).toString('base64url');
}

/** Child-process mode: a bare fastify app whose GET /dns-query returns one fixed buffer. */
async function serveBare(port, hex, h2c) {
  const { default: Fastify } = await import('fastify');
  const answer = Buffer.from(hex, 'hex');
  const app = Fastify(h2c ? { http2: true } : {});
  app.get('/dns-query', (_request, reply) => {
    reply.header('content-type', 'application/dns-message').header('cache-control', 'max-age=60').send(answer);
  });
  await app.listen({ host: '127.0.0.1', port });
  console.log('listening');
}

async function startBareFastify(answer, h2c) {
  const port = await freePort();
  const proc = spawnManaged('bare-fastify', process.execPath, ['--import', TS_SUPPORT, self, '--serve-bare', String(port), answer.toString('hex'), h2c ? 'h2c' : 'http1']);
  await waitFor('bare fastify', async () => /listening/.test(proc.output()), 10_000, {
    abortIf: () => (proc.exitCode !== undefined ? `exited ${proc.exitCode}:\n${proc.output()}` : undefined),
  });
  return { port, stop: () => proc.stop() };
}

/** One h2load run; `h1` selects HTTP/1.1, otherwise h2c with prior knowledge (-m streams). */
async function h2load(url, { seconds, clients, h1, streams = 10 }) {
  const args = [...(h1 ? ['--h1'] : ['-m', String(streams)]), '-c', String(clients), '-t', '1', '-D', String(seconds), '--warm-up-time=1', url];
  const r = await runTool('h2load', args, (seconds + 30) * 1000);
  const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(r.stdout)?.[1] ?? NaN);
  const ok = Number(/status codes: (\d+) 2xx/.exec(r.stdout)?.[1] ?? NaN);
  const failed = Number(/requests: .* (\d+) failed/.exec(r.stdout)?.[1] ?? NaN);
  if (!Number.isFinite(rps) || !(ok > 0)) throw new Error(`h2load gave no result (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return { rps, ok, failed };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Runs the DoH case. `upstreams`: dnslinkd's upstreams (e.g. the runner's nsd); when absent an nsd
 * is started here. Returns req/s of both servers (median of `rounds` alternating runs) and ratios.
 */
export async function runDohCase(options = {}) {
  const seconds = Math.max(1, Number(options.seconds ?? process.env.BENCH_SECONDS ?? 10));
  const clients = Math.max(1, Number(options.clients ?? process.env.BENCH_CLIENTS_DOH ?? 8));
  const rounds = Math.max(1, Number(options.rounds ?? process.env.BENCH_ROUNDS ?? 3));
  const log = options.log ?? ((line) => console.log(line));
  if (!findBinary('h2load')) throw new Error('bench: h2load not found (apt-get install nghttp2-client)');

  const stops = [];
  try {
    let upstreams = options.upstreams;
    if (!upstreams) {
      const nsd = await startNsd();
      stops.push(nsd.stop);
      upstreams = [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`];
    }
    const d = await startDnslinkd({ upstreams });
    stops.push(d.stop);
    const path = `/dns-query?dns=${dohQuery(QNAME)}`;
    // Warm the cache and take the exact answer bytes for the bare route.
    let answer;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${d.httpPort}${path}`, { signal: AbortSignal.timeout(5000) });
      if (res.status !== 200) throw new Error(`warm-up: HTTP ${res.status}: ${await res.text()}`);
      answer = Buffer.from(await res.arrayBuffer());
    }
    if ((answer[3] & 0x0f) !== 0 || answer.readUInt16BE(6) < 1) throw new Error(`warm-up: no answer for ${QNAME}`);
    // Bare fastify: HTTP/1.1, and a separate http2 (h2c) instance: fastify serves one or the other.
    const bare = { http1: await startBareFastify(answer, false) };
    stops.push(bare.http1.stop);
    bare.h2c = await startBareFastify(answer, true);
    stops.push(bare.h2c.stop);

    log(`h2load: ${seconds}s per run, ${clients} connections, ${rounds} rounds, GET ${QNAME} TXT (cache hit)`);
    const results = {};
    for (const [mode, h1] of [
      ['http1', true],
      ['h2c', false],
    ]) {
      const runsD = [];
      const runsB = [];
      for (let round = 0; round < rounds; round++) {
        runsB.push((await h2load(`http://127.0.0.1:${bare[mode].port}${path}`, { seconds, clients, h1 })).rps);
        runsD.push((await h2load(`http://127.0.0.1:${d.httpPort}${path}`, { seconds, clients, h1 })).rps);
      }
      const dnslinkd = median(runsD);
      const bareRps = median(runsB);
      results[mode] = { dnslinkd, bare: bareRps, ratio: dnslinkd / bareRps, runs: { dnslinkd: runsD, bare: runsB } };
      log(`  ${mode.padEnd(6)} dnslinkd ${Math.round(dnslinkd)} req/s, bare fastify ${Math.round(bareRps)} req/s, ratio ${(dnslinkd / bareRps).toFixed(2)}x`);
    }
    const met = results.http1.ratio >= TARGET;
    log(`target: DoH GET >= ${TARGET}x bare fastify over HTTP/1.1: ${met ? 'MET' : 'NOT MET'} (${results.http1.ratio.toFixed(2)}x)`);
    return { name: 'DoH GET /dns-query (cache hit) vs bare fastify', seconds, clients, rounds, ...results, target: TARGET, met };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}

export default runDohCase;

if (process.argv[1] === self) {
  if (process.argv[2] === '--serve-bare') {
    await serveBare(Number(process.argv[3]), process.argv[4], process.argv[5] === 'h2c');
  } else {
    process.chdir(repoRoot);
    const result = await runDohCase();
    console.log(JSON.stringify(result));
    if (process.env.BENCH_STRICT === '1' && !result.met) process.exitCode = 1;
  }
}
