#!/usr/bin/env node
// The DoH benchmark case: h2load GET `/dns-query?dns=` cache hits, peers in the same run.
// - h2+TLS (the way Kubo and Rainbow reach a DoH resolver; 8 connections x 16 streams, a self-signed
//   certificate): dnslinkd, a bare node:http2 secure server returning the same bytes (bench/bare-h2.js),
//   Unbound's DoH, dnsdist's DoH (when its build has it), dnslinkd --workers 2. Target >= 0.9x bare.
// - h2c and HTTP/1.1: dnslinkd against a bare fastify route returning the same bytes (target >= 0.8x
//   over HTTP/1.1).
// Called by bench/run.js, or run alone: node --import ./bench/ts-support.mjs bench/doh-case.js
// Env (standalone): BENCH_SECONDS (default 10) per measurement, BENCH_CLIENTS_DOH (8), BENCH_ROUNDS (3),
// BENCH_DOH_STREAMS (16, h2+TLS streams per connection).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digAt, exitedWith, findBinary, freePort, repoRoot, runTool, spawnManaged, startDnslinkd, startNsd, startUnbound, waitFor } from '../test/integration/support/index.js';
import { makeSelfSignedCert } from '../test/integration/support/tls.js';

const QNAME = '_dnslink.plain.dnslink.test';
/** dnslinkd / bare fastify over HTTP/1.1. */
const TARGET = 0.8;
/** dnslinkd / bare node:http2 over h2+TLS. */
const TARGET_H2_TLS = 0.9;
const self = fileURLToPath(import.meta.url);
const benchDir = fileURLToPath(new URL('.', import.meta.url));
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

/** A bare server in a child process on a free port, `args(port)` after node, up once it prints "listening". */
async function startBare(name, args) {
  const port = await freePort();
  const proc = spawnManaged(name, process.execPath, args(port));
  await waitFor(name, async () => /listening/.test(proc.output()), 10_000, { abortIf: exitedWith(proc) });
  return { port, pid: proc.child.pid, stop: () => proc.stop() };
}

const startBareFastify = (answer, h2c) =>
  startBare('bare fastify', (port) => ['--import', TS_SUPPORT, self, '--serve-bare', String(port), answer.toString('hex'), h2c ? 'h2c' : 'http1']);

/** The bare node:http2 secure server (bench/bare-h2.js) answering `answer`. */
const startBareH2 = (answer, cert) =>
  startBare('bare node:http2', (port) => [join(benchDir, 'bare-h2.js'), String(port), answer.toString('hex'), cert.cert, cert.key]);

/** Whether this dnsdist build serves DoH (`dnsdist --version` lists its features). */
async function dnsdistHasDoh() {
  if (!findBinary('dnsdist')) return false;
  const r = await runTool('dnsdist', ['--version'], 10_000);
  return /dns-over-https\(DOH\)/.test(r.stdout + r.stderr);
}

/** dnsdist with its packet cache in front of `upstreamPort`, DoH on `dohPort` (and UDP for the warm-up). */
async function startDnsdistDoh(upstreamPort, dohPort, cert) {
  const dnsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-dnsdist-'));
  const conf = join(dir, 'dnsdist.conf');
  writeFileSync(
    conf,
    [
      `setLocal('127.0.0.1:${dnsPort}')`,
      `addDOHLocal('127.0.0.1:${dohPort}', '${cert.cert}', '${cert.key}', '/dns-query')`,
      `newServer({address='127.0.0.1:${upstreamPort}'})`,
      "getPool(''):setCache(newPacketCache(10000))",
      "setSecurityPollSuffix('')",
      '',
    ].join('\n'),
  );
  const proc = spawnManaged('dnsdist', findBinary('dnsdist'), ['--supervised', '--disable-syslog', '-C', conf]);
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('dnsdist', async () => (await digAt(dnsPort, QNAME, 'TXT')).parsed?.status === 'NOERROR', 15_000, {
      intervalMs: 200,
      abortIf: exitedWith(proc),
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { port: dohPort, dnsPort, pid: proc.child.pid, stop };
}

/** Clock ticks per second in /proc/PID/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far by `root` and its descendants (cluster workers). */
export function cpuSecondsOfTree(root) {
  const procs = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After "pid (comm) ": state ppid ... utime (index 11) stime (12).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.push({ pid: Number(entry), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // exited meanwhile
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  return procs.filter((p) => tree.has(p.pid)).reduce((sum, p) => sum + p.ticks, 0) / TICKS_PER_SECOND;
}

/**
 * Server CPU time per request (µs): `requests` GETs (h2load -n, no warm-up) against `url`, the CPU
 * the server's process tree used meanwhile divided by the requests answered. Less sensitive than
 * req/s to other load on a shared machine.
 */
async function cpuPerRequest(url, pid, { requests, clients, streams }) {
  const before = cpuSecondsOfTree(pid);
  const r = await runTool('h2load', ['-m', String(streams), '-c', String(clients), '-t', '1', '-n', String(requests), url], 300_000);
  const ok = Number(/status codes: (\d+) 2xx/.exec(r.stdout)?.[1] ?? NaN);
  if (!(ok > 0)) throw new Error(`h2load gave no result (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return ((cpuSecondsOfTree(pid) - before) / ok) * 1e6;
}

/** One h2load run; `h1` selects HTTP/1.1, otherwise HTTP/2 (h2c with prior knowledge, or h2 over https://) with -m streams. */
async function h2load(url, { seconds, clients, h1, streams = 10, warmUp = true }) {
  const args = [...(h1 ? ['--h1'] : ['-m', String(streams)]), '-c', String(clients), '-t', '1', '-D', String(seconds), ...(warmUp ? ['--warm-up-time=1'] : []), url];
  const r = await runTool('h2load', args, (seconds + 30) * 1000);
  const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(r.stdout)?.[1] ?? NaN);
  const ok = Number(/status codes: (\d+) 2xx/.exec(r.stdout)?.[1] ?? NaN);
  const failed = Number(/requests: .* (\d+) failed/.exec(r.stdout)?.[1] ?? NaN);
  if (!Number.isFinite(rps) || !(ok > 0)) throw new Error(`h2load gave no result (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return { rps, ok, failed };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const portOf = (config) => Number(/:(\d+)$/.exec(config.http.tls.listen)?.[1]);

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
    // h2+TLS: one self-signed certificate for every server; dnslinkd's HTTPS listener next to its cleartext one.
    const cert = makeSelfSignedCert();
    stops.push(async () => cert.remove());
    const tlsConfig = async () => ({ http: { tls: { listen: `127.0.0.1:${await freePort()}`, cert: cert.cert, key: cert.key } } });
    const dConfig = await tlsConfig();
    const d = await startDnslinkd({ upstreams, config: dConfig });
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

    const servers = { dnslinkd: portOf(dConfig) };
    const pids = { dnslinkd: d.proc.child.pid };
    const bareH2 = await startBareH2(answer, cert);
    stops.push(bareH2.stop);
    servers.bare = bareH2.port;
    pids.bare = bareH2.pid;
    const workersConfig = await tlsConfig();
    const workers = await startDnslinkd({ upstreams, config: workersConfig, args: ['--workers', '2'] });
    stops.push(workers.stop);
    servers.workers2 = portOf(workersConfig);
    pids.workers2 = workers.proc.child.pid;
    const peers = {};
    const upstreamPort = Number(/:(\d+)$/.exec(upstreams[0])?.[1]);
    try {
      const unboundPort = await freePort();
      const unbound = await startUnbound({ stubs: [{ zone: 'dnslink.test', port: upstreamPort }], https: { port: unboundPort, cert: cert.cert, key: cert.key } });
      stops.push(unbound.stop);
      for (let i = 0; i < 3; i++) await digAt(unbound.port, QNAME, 'TXT');
      servers.unbound = unboundPort;
      pids.unbound = unbound.proc.child.pid;
    } catch (err) {
      peers.unbound = `not measured: ${String(err).split('\n')[0]}`;
    }
    if (await dnsdistHasDoh()) {
      try {
        const dnsdist = await startDnsdistDoh(upstreamPort, await freePort(), cert);
        stops.push(dnsdist.stop);
        for (let i = 0; i < 3; i++) await digAt(dnsdist.dnsPort, QNAME, 'TXT');
        servers.dnsdist = dnsdist.port;
        pids.dnsdist = dnsdist.pid;
      } catch (err) {
        peers.dnsdist = `not measured: ${String(err).split('\n')[0]}`;
      }
    } else {
      peers.dnsdist = 'not measured: no dnsdist with DoH in its features';
    }
    // Warm the workers' caches (each worker has its own) over the path measured.
    await h2load(`https://127.0.0.1:${servers.workers2}${path}`, { seconds: 1, clients: 4, streams: 1 });

    log(`h2load: ${seconds}s per run, ${rounds} rounds, GET ${QNAME} TXT (cache hit), ${answer.length}-byte answer`);
    const results = {};
    const streams = Math.max(1, Number(options.streams ?? process.env.BENCH_DOH_STREAMS ?? 16));
    const tlsRuns = Object.fromEntries(Object.keys(servers).map((k) => [k, []]));
    for (let round = 0; round < rounds; round++) {
      for (const [key, port] of Object.entries(servers)) {
        tlsRuns[key].push((await h2load(`https://127.0.0.1:${port}${path}`, { seconds, clients, streams })).rps);
      }
    }
    const h2tls = { connections: clients, streams, runs: tlsRuns, cpuUsPerRequest: {} };
    for (const [key, runs] of Object.entries(tlsRuns)) h2tls[key] = median(runs);
    h2tls.ratio = h2tls.dnslinkd / h2tls.bare;
    // About two seconds of work per server at the rate measured above.
    const requests = Math.max(20_000, Math.round(h2tls.bare * 2));
    for (const [key, port] of Object.entries(servers)) {
      h2tls.cpuUsPerRequest[key] = await cpuPerRequest(`https://127.0.0.1:${port}${path}`, pids[key], { requests, clients, streams });
    }
    const cpu = h2tls.cpuUsPerRequest;
    h2tls.cpuRatio = cpu.bare / cpu.dnslinkd;
    results.h2tls = h2tls;
    const LABELS = { dnslinkd: 'dnslinkd', bare: 'bare node:http2', workers2: 'dnslinkd --workers 2', unbound: "Unbound's DoH", dnsdist: "dnsdist's DoH" };
    log(`  h2+TLS (${clients} connections x ${streams} streams; server CPU per request over ${requests} more requests):`);
    for (const key of Object.keys(servers)) {
      const vs = key === 'bare' ? '' : `  ${(h2tls[key] / h2tls.bare).toFixed(2)}x bare`;
      const vsUnbound = h2tls.unbound && key !== 'unbound' ? `  ${(h2tls[key] / h2tls.unbound).toFixed(2)}x Unbound` : '';
      log(`    ${LABELS[key].padEnd(22)}${String(Math.round(h2tls[key])).padStart(8)} req/s  ${cpu[key].toFixed(1).padStart(6)} µs CPU/req${vs}${vsUnbound}`);
    }
    log(`    CPU per request, bare / dnslinkd: ${h2tls.cpuRatio.toFixed(2)}x (the req/s ratio on a core of its own)`);
    for (const [key, why] of Object.entries(peers)) log(`    ${LABELS[key].padEnd(22)}${why}`);

    // The method outside checks use, next to ours: `h2load -c 8 -m 16 -D 4` (no warm-up, 3 runs
    // alternated, median) against Unbound set up as a caching forwarder (forward-zone) with https-port.
    try {
      const fwdHttps = await freePort();
      const forwarder = await startUnbound({ forwards: [{ zone: 'dnslink.test', port: upstreamPort }], https: { port: fwdHttps, cert: cert.cert, key: cert.key } });
      stops.push(forwarder.stop);
      for (let i = 0; i < 3; i++) await digAt(forwarder.port, QNAME, 'TXT');
      const outsideServers = { dnslinkd: servers.dnslinkd, workers2: servers.workers2, bare: servers.bare, unboundForwarder: fwdHttps };
      const outsideRuns = Object.fromEntries(Object.keys(outsideServers).map((k) => [k, []]));
      for (let round = 0; round < 3; round++) {
        for (const [key, port] of Object.entries(outsideServers)) outsideRuns[key].push((await h2load(`https://127.0.0.1:${port}${path}`, { seconds: 4, clients: 8, streams: 16, warmUp: false })).rps);
      }
      const outside = { method: 'h2load -c 8 -m 16 -D 4, no warm-up, 3 runs alternated, median; Unbound as a forwarder', runs: outsideRuns };
      for (const [key, runs] of Object.entries(outsideRuns)) outside[key] = median(runs);
      results.outside = outside;
      log(`  h2+TLS, the outside method (${outside.method}):`);
      for (const key of Object.keys(outsideServers)) {
        const label = key === 'unboundForwarder' ? "Unbound's DoH (forwarder)" : LABELS[key];
        log(`    ${label.padEnd(26)}${String(Math.round(outside[key])).padStart(8)} req/s  runs ${outsideRuns[key].map(Math.round).join('/')}  ${(outside[key] / outside.unboundForwarder).toFixed(2)}x Unbound`);
      }
    } catch (err) {
      log(`  h2+TLS, the outside method: not measured: ${String(err).split('\n')[0]}`);
    }

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
    const metH1 = results.http1.ratio >= TARGET;
    const metH2Tls = h2tls.ratio >= TARGET_H2_TLS;
    const met = metH1 && metH2Tls;
    log(`target: DoH GET >= ${TARGET}x bare fastify over HTTP/1.1: ${metH1 ? 'MET' : 'NOT MET'} (${results.http1.ratio.toFixed(2)}x)`);
    log(`target: DoH GET >= ${TARGET_H2_TLS}x bare node:http2 over h2+TLS: ${metH2Tls ? 'MET' : 'NOT MET'} (${h2tls.ratio.toFixed(2)}x)`);
    return { name: 'DoH GET /dns-query (cache hit) vs bare servers and peers', seconds, clients, rounds, ...results, peers, target: TARGET, targetH2Tls: TARGET_H2_TLS, met };
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
