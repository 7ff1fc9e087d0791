// Provenance on every answer of the resolution API: the same name asked twice (a miss, then a
// cache hit) says where its value comes from both times (dns from nsd, local records, an override,
// ens and ens-fallback from anvil), with `cached` and `stale`; an ENS answer served stale when the
// RPC endpoint goes down. Every HTTP query counted in dnslinkd_queries_total (api, json), and
// /resolve taking a Unicode name (IDNA) against a real zone holding its punycode form.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum, requireBinaries, requireBuild, sleep, startDnslinkd, startNsd, stopAll } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';
import { requireAnvil, startAnvil, type AnvilHandle } from './support/anvil.js';
import { deployEns, type EnsChain } from './support/ens-chain.js';
import { startFaultRpc, type FaultRpc } from './support/fault-rpc.js';

const ok = requireBinaries('nsd') && requireBuild() && requireAnvil();

function cidOf(seed: string): CID {
  return CID.createV1(0x70, Digest.create(0x12, createHash('sha256').update(seed).digest()));
}
const DNS_CID = cidOf('dns').toString();
const IDN_CID = cidOf('idn').toString();
const LOCAL_CID = cidOf('local').toString();
const OVERRIDE_CID = cidOf('override').toString();
const ENS_CID = cidOf('ens');
const ZONE = 'idn.test';

interface Answer {
  value?: string;
  source: string;
  cached: boolean;
  stale: boolean;
  lookups: Array<{ source: string; origin?: string }>;
}

describe.skipIf(!ok)('provenance on every answer of /v1/dnslink, queries counted, Unicode /resolve', () => {
  let dir: string;
  let nsd: NsdHandle;
  let anvil: AnvilHandle;
  let ens: EnsChain;
  let rpc: FaultRpc;
  let d: DnslinkdHandle;
  let apiQueries = 0;

  const api = async (name: string): Promise<Answer> => {
    apiQueries++;
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${encodeURIComponent(name)}`);
    expect(res.status, name).toBe(200);
    return (await res.json()) as Answer;
  };
  const counted = async (transport: string) => metricSum(await d.metrics(), 'dnslinkd_queries_total', { transport, rcode: 'NOERROR' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-provenance-'));
    const zoneFile = join(dir, `${ZONE}.zone`);
    writeFileSync(
      zoneFile,
      [
        `$ORIGIN ${ZONE}.`,
        '$TTL 60',
        `@ 3600 IN SOA ns1.${ZONE}. hostmaster.${ZONE}. 1 3600 600 86400 30`,
        `@ 3600 IN NS ns1.${ZONE}.`,
        'ns1 3600 IN A 127.0.0.1',
        `_dnslink.plain 60 IN TXT "dnslink=/ipfs/${DNS_CID}"`,
        `; bücher.${ZONE}, as IDNA writes it`,
        `_dnslink.xn--bcher-kva 60 IN TXT "dnslink=/ipfs/${IDN_CID}"`,
        '; no DNSLink here: the ENS fallback answers for it (ens.aliases)',
        'nolink 60 IN A 192.0.2.1',
        '',
      ].join('\n'),
    );
    const records = join(dir, 'records.json');
    writeFileSync(records, JSON.stringify([{ name: '_dnslink.local.example', type: 'TXT', ttl: 300, data: `dnslink=/ipfs/${LOCAL_CID}` }]));
    nsd = await startNsd({ zones: [{ name: ZONE, file: zoneFile }] });
    anvil = await startAnvil();
    ens = await deployEns(anvil.url);
    await ens.registerName('site.eth', { contenthash: Uint8Array.from([0xe3, 0x01, ...ENS_CID.bytes]) });
    rpc = await startFaultRpc(anvil.url);
    d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${nsd.port}`],
      config: {
        localRecords: records,
        // ENS answers live 2 s: long enough for a hit, short enough to go stale in the test.
        ens: { rpc: [rpc.url], registry: ens.registry, ttl: 2, rpcTimeoutMs: 1000, aliases: { [`nolink.${ZONE}`]: 'site.eth' } },
        cache: { prefetch: false, serveStale: true, staleRefreshMs: 0, clientDeadlineMs: 1500 },
      },
    });
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
    await rpc?.close();
    await anvil?.stop();
    await nsd?.stop();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same source on the miss and on the hit, for each kind of source, with cached and stale beside it', async () => {
    expect((await d.admin('PUT', `/admin/v1/overrides/over.${ZONE}`, { value: `/ipfs/${OVERRIDE_CID}`, ttl: 60, reason: 'provenance test' })).status).toBe(200);
    const before = await counted('api');
    apiQueries = 0;
    const cases = [
      { name: `plain.${ZONE}`, value: `/ipfs/${DNS_CID}`, source: 'dns', cachedOnHit: true },
      { name: 'local.example', value: `/ipfs/${LOCAL_CID}`, source: 'local', cachedOnHit: false },
      { name: `over.${ZONE}`, value: `/ipfs/${OVERRIDE_CID}`, source: 'override', cachedOnHit: false },
      { name: 'site.eth', value: `/ipfs/${ENS_CID.toString()}`, source: 'ens', cachedOnHit: true },
      { name: `nolink.${ZONE}`, value: `/ipfs/${ENS_CID.toString()}`, source: 'ens-fallback', cachedOnHit: true },
    ];
    for (const c of cases) {
      const miss = await api(c.name);
      expect(miss, `${c.name} miss`).toMatchObject({ value: c.value, source: c.source, cached: false, stale: false });
      const hit = await api(c.name);
      expect(hit, `${c.name} hit`).toMatchObject({ value: c.value, source: c.source, cached: c.cachedOnHit, stale: false });
      if (c.cachedOnHit) expect(hit.lookups.every((l) => l.source === 'cache' && l.origin !== undefined), c.name).toBe(true);
    }
    // Every request to /v1/dnslink counted once, under transport api.
    expect((await counted('api')) - before).toBe(apiQueries);
  });

  it('an ENS answer served stale while its RPC endpoint is down: source ens, cached, stale', async () => {
    await api('site.eth');
    await sleep(2500); // past ens.ttl: the next ask goes to the RPC endpoint
    await rpc.setMode('down');
    const stale = await api('site.eth');
    expect(stale).toMatchObject({ value: `/ipfs/${ENS_CID.toString()}`, source: 'ens', cached: true, stale: true });
    expect(stale.lookups[0]).toMatchObject({ source: 'stale', origin: 'ens' });
    await rpc.setMode('pass');
  });

  it('/resolve takes a Unicode name (looked up in punycode) and counts as transport json, as the DNS JSON form of /dns-query', async () => {
    const before = await counted('json');
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/resolve?name=${encodeURIComponent(`_dnslink.bücher.${ZONE}`)}&type=TXT`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { Status: number; Question: Array<{ name: string }>; Answer?: Array<{ data: string }> };
    expect(body.Status).toBe(0);
    expect(body.Question).toEqual([{ name: `_dnslink.xn--bcher-kva.${ZONE}.`, type: 16 }]);
    expect(body.Answer?.map((a) => a.data)).toEqual([`"dnslink=/ipfs/${IDN_CID}"`]);
    const viaDohJson = await fetch(`http://127.0.0.1:${d.httpPort}/dns-query?name=${encodeURIComponent(`_dnslink.plain.${ZONE}`)}&type=TXT`, { headers: { accept: 'application/dns-json' } });
    expect(((await viaDohJson.json()) as { Status: number }).Status).toBe(0);
    expect((await counted('json')) - before).toBe(2);
    // The gateway path takes it the same way.
    expect(await api(`bücher.${ZONE}`)).toMatchObject({ value: `/ipfs/${IDN_CID}`, source: 'dns' });
  });
});
