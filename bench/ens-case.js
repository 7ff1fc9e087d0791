#!/usr/bin/env node
// ENS benchmark case, on a local chain (anvil, the real ENS contracts): (1) an ENS name cached is
// as fast as a DNS name cached (same instance, alternating dnsperf rounds, ratio of medians);
// (2) cold resolution against anvil: p50/p99 latency over distinct names, and JSON-RPC calls per
// resolution, counted by a proxy in front of anvil. Called by bench/run.js; alone:
// node --import ./bench/ts-support.mjs bench/ens-case.js
import { createHash } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { encodeQuery, runTool, startDnslinkd, udpExchange } from '../test/integration/support/index.js';
import { startAnvil } from '../test/integration/support/anvil.js';
import { deployEns } from '../test/integration/support/ens-chain.js';

const COLD_NAMES = Number(process.env.BENCH_ENS_NAMES ?? 200);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

function contenthash(seed) {
  const cid = CID.createV1(0x70, Digest.create(0x12, createHash('sha256').update(seed).digest()));
  return Uint8Array.from([0xe3, 0x01, ...cid.bytes]);
}

/** An HTTP proxy in front of a JSON-RPC endpoint that counts the calls (a batch counts each call). */
async function countingRpcProxy(target) {
  let calls = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      try {
        const parsed = JSON.parse(body.toString('utf8'));
        calls += Array.isArray(parsed) ? parsed.length : 1;
      } catch {
        calls++;
      }
      const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, calls: () => calls, close: () => new Promise((r) => server.close(() => r())) };
}

async function dnsperfQps(port, queryFile, seconds, clients) {
  const r = await runTool('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(seconds), '-c', String(clients), '-T', '1', '-q', '256', '-t', '2'], (seconds + 30) * 1000);
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  if (!Number.isFinite(qps)) throw new Error(`dnsperf gave no result:\n${r.stdout}\n${r.stderr}`);
  return qps;
}

export async function runEnsCase({ upstreamPort, seconds = 5, clients = 4, rounds = 3 }) {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const anvil = await startAnvil();
  const proxy = await countingRpcProxy(anvil.url);
  let d;
  try {
    const ens = await deployEns(anvil.url);
    await ens.registerName('bench.eth', { contenthash: contenthash('bench') });
    for (let i = 0; i < COLD_NAMES; i++) await ens.registerName(`n${i}.bench.eth`, { contenthash: contenthash(`n${i}`) });
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${upstreamPort}`], config: { ens: { rpc: [proxy.url], registry: ens.registry, ttl: 3600 }, cache: { prefetch: false } } });

    // (2) cold first: every name asked once, one at a time.
    const latencies = [];
    const before = proxy.calls();
    for (let i = 0; i < COLD_NAMES; i++) {
      const started = process.hrtime.bigint();
      const answer = await udpExchange(d.dnsPort, encodeQuery(i & 0xffff, `_dnslink.n${i}.bench.eth`, 'TXT'), 5000);
      if (!answer) throw new Error(`no answer for n${i}.bench.eth`);
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const rpcPerResolution = (proxy.calls() - before) / COLD_NAMES;

    // (1) cached ENS name against cached DNS name, same instance.
    const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-bench-ens-'));
    const files = { ens: join(dir, 'ens.txt'), dns: join(dir, 'dns.txt') };
    writeFileSync(files.ens, '_dnslink.bench.eth TXT\n');
    writeFileSync(files.dns, '_dnslink.plain.dnslink.test TXT\n');
    for (const name of ['_dnslink.bench.eth', '_dnslink.plain.dnslink.test']) await udpExchange(d.dnsPort, encodeQuery(1, name, 'TXT'), 5000);
    const qps = { ens: [], dns: [] };
    for (let round = 0; round < rounds; round++) {
      for (const key of round % 2 ? ['ens', 'dns'] : ['dns', 'ens']) qps[key].push(await dnsperfQps(d.dnsPort, files[key], seconds, clients));
    }
    const ratio = median(qps.ens) / median(qps.dns);
    const cold = { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), rpcPerResolution };
    console.log(`ens: cached ENS name ${Math.round(median(qps.ens))} qps, cached DNS name ${Math.round(median(qps.dns))} qps: ratio ${ratio.toFixed(3)}x (medians of ${rounds} alternating ${seconds}s rounds, same instance)`);
    console.log(`  cold resolution against anvil over ${COLD_NAMES} names: p50 ${cold.p50.toFixed(1)} ms, p99 ${cold.p99.toFixed(1)} ms, ${rpcPerResolution.toFixed(2)} JSON-RPC calls per resolution`);
    return { qpsEns: qps.ens, qpsDns: qps.dns, ratio, cold };
  } finally {
    await d?.stop();
    await proxy.close();
    await anvil.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startNsd } = await import('../test/integration/support/index.js');
  const nsd = await startNsd();
  try {
    await runEnsCase({ upstreamPort: nsd.port, seconds: Number(process.env.BENCH_SECONDS ?? 5) });
  } finally {
    await nsd.stop();
  }
}
