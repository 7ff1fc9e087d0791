// dnslinkd in front of a real authoritative server (nsd), driven by dig and kdig over UDP and TCP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  digAt,
  encodeQuery,
  hasMetric,
  kdig,
  parseHeader,
  requireBinaries,
  requireBuild,
  sleep,
  startDnslinkd,
  startNsd,
  stopAll,
  tcpExchange,
  txtStrings,
  txtValue,
  udpExchange,
  zone,
} from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig', 'kdig') && requireBuild();
const n = zone.names;

describe.skipIf(!ok)('dnslinkd DNS server in front of nsd', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;

  beforeAll(async () => {
    nsd = await startNsd();
    d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`],
      config: { cache: { prefetch: false } },
    });
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('answers TXT at _dnslink.<name> and at the bare name', async () => {
    const r = await digAt(d.dnsPort, n.plain.name, 'TXT');
    expect(r.parsed?.status).toBe('NOERROR');
    expect(r.parsed?.flags).toContain('qr');
    expect(r.parsed?.answers.filter((a) => a.type === 'TXT').map((a) => txtValue(a.data))).toEqual(n.plain.values);
    expect(r.parsed?.answers[0]?.ttl).toBeLessThanOrEqual(n.plain.ttl);

    const bare = await digAt(d.dnsPort, n.bare.name, 'TXT');
    expect(bare.parsed?.status).toBe('NOERROR');
    expect(bare.parsed?.answers.map((a) => txtValue(a.data))).toEqual(n.bare.values);

    const two = await digAt(d.dnsPort, n.two.name, 'TXT');
    expect(two.parsed?.answers.map((a) => txtValue(a.data)).sort()).toEqual([...n.two.values].sort());
  });

  it('keeps multi-string TXT records and a raw UTF-8 label as they are', async () => {
    const multi = await digAt(d.dnsPort, n.multi.name, 'TXT');
    expect(multi.parsed?.answers.map((a) => txtStrings(a.data))).toEqual([n.multi.strings]);
    const utf8 = await digAt(d.dnsPort, n.utf8.name, 'TXT');
    expect(utf8.parsed?.status).toBe('NOERROR');
    expect(utf8.parsed?.answers.map((a) => [a.name, txtValue(a.data)])).toEqual([[`${n.utf8.name}.`, n.utf8.values[0]]]);
  });

  it('serves a TXT value over 255 bytes intact, identical to nsd', async () => {
    const direct = await digAt(nsd.port, n.long.name, 'TXT');
    const via = await digAt(d.dnsPort, n.long.name, 'TXT');
    expect(via.parsed?.status).toBe('NOERROR');
    const viaData = via.parsed?.answers.map((a) => a.data) ?? [];
    expect(viaData).toEqual(direct.parsed?.answers.map((a) => a.data));
    expect(txtValue(viaData[0] ?? '')).toBe(n.long.value);
    expect(txtStrings(viaData[0] ?? '').every((s) => Buffer.byteLength(s) <= 255)).toBe(true);
  });

  it('second query is a cache hit and its TTL decreases', async () => {
    const name = n.hop1?.name ?? '';
    const hits0 = await d.metric('dnslinkd_cache_hits_total');
    const misses0 = await d.metric('dnslinkd_cache_misses_total');
    const first = await digAt(d.dnsPort, name, 'TXT');
    expect(first.parsed?.status).toBe('NOERROR');
    const ttl1 = first.parsed?.answers[0]?.ttl ?? -1;
    expect(ttl1).toBeGreaterThan(290);
    expect(ttl1).toBeLessThanOrEqual(300);
    expect(await d.metric('dnslinkd_cache_misses_total')).toBeGreaterThan(misses0);
    const hits1 = await d.metric('dnslinkd_cache_hits_total');

    await sleep(2200);
    const second = await digAt(d.dnsPort, name, 'TXT');
    expect(second.parsed?.answers.map((a) => txtValue(a.data))).toEqual(n.hop1?.values);
    const ttl2 = second.parsed?.answers[0]?.ttl ?? -1;
    expect(ttl2).toBeLessThan(ttl1);
    expect(ttl2).toBeGreaterThanOrEqual(ttl1 - 5);
    expect(await d.metric('dnslinkd_cache_hits_total')).toBeGreaterThan(Math.max(hits0, hits1));
  });

  it('caches NXDOMAIN (second answer from the cache)', async () => {
    const name = n.missing.name;
    const first = await digAt(d.dnsPort, name, 'TXT');
    expect(first.parsed?.status).toBe('NXDOMAIN');
    const soa = first.parsed?.authority.find((r) => r.type === 'SOA');
    expect(soa).toBeDefined();
    expect(soa?.ttl).toBeLessThanOrEqual(zone.soaMinimum);
    const hits1 = await d.metric('dnslinkd_cache_hits_total');
    const second = await digAt(d.dnsPort, name, 'TXT');
    expect(second.parsed?.status).toBe('NXDOMAIN');
    expect(await d.metric('dnslinkd_cache_hits_total')).toBeGreaterThan(hits1);
  });

  it('answers NODATA (name exists, no TXT) with NOERROR and no answer', async () => {
    const r = await digAt(d.dnsPort, n.nodata?.name ?? '', 'TXT');
    expect(r.parsed?.status).toBe('NOERROR');
    expect(r.parsed?.answers.filter((a) => a.type === 'TXT')).toEqual([]);
  });

  it('forwards other types through the cache (A, AAAA)', async () => {
    const a = await digAt(d.dnsPort, n.www.name, 'A');
    expect(a.parsed?.status).toBe('NOERROR');
    expect(a.parsed?.answers.filter((r) => r.type === 'A').map((r) => r.data)).toEqual([n.www.a]);
    const aaaa = await digAt(d.dnsPort, n.www.name, 'AAAA');
    expect(aaaa.parsed?.answers.filter((r) => r.type === 'AAAA').map((r) => r.data)).toEqual([n.www.aaaa]);
  });

  it('answers ANY minimally (RFC 8482: REFUSED/NOTIMP or HINFO)', async () => {
    const r = await digAt(d.dnsPort, n.plain.name, 'ANY');
    const status = r.parsed?.status ?? '';
    const hinfo = (r.parsed?.answers ?? []).some((a) => a.type === 'HINFO');
    expect(['REFUSED', 'NOTIMP'].includes(status) || (status === 'NOERROR' && hinfo)).toBe(true);
  });

  it('sets TC over UDP when the answer exceeds 512 (no EDNS) or the EDNS size', async () => {
    const noEdns = await digAt(d.dnsPort, n.big.name, 'TXT', ['+noedns', '+ignore']);
    expect(noEdns.parsed?.status).toBe('NOERROR');
    expect(noEdns.parsed?.flags).toContain('tc');
    expect(noEdns.parsed?.msgSize ?? 0).toBeLessThanOrEqual(512);

    const small = await digAt(d.dnsPort, n.big.name, 'TXT', ['+bufsize=512', '+ignore']);
    expect(small.parsed?.flags).toContain('tc');
    expect(small.parsed?.msgSize ?? 0).toBeLessThanOrEqual(512);

    const edns = await digAt(d.dnsPort, n.big.name, 'TXT');
    expect(edns.parsed?.flags).not.toContain('tc');
    expect(edns.parsed?.transport).toBe('UDP');
    expect(edns.parsed?.answers).toHaveLength(n.big.values.length);
  });

  it('serves the full big answer over TCP, and dig retries over TCP after TC', async () => {
    const tcp = await digAt(d.dnsPort, n.big.name, 'TXT', ['+tcp']);
    expect(tcp.parsed?.flags).not.toContain('tc');
    expect(tcp.parsed?.transport).toBe('TCP');
    expect(tcp.parsed?.answers.map((a) => txtValue(a.data)).sort()).toEqual([...n.big.values].sort());

    const retried = await digAt(d.dnsPort, n.big.name, 'TXT', ['+noedns']);
    expect(retried.retriedTcp).toBe(true);
    expect(retried.parsed?.transport).toBe('TCP');
    expect(retried.parsed?.answers).toHaveLength(n.big.values.length);
  });

  it('serves an answer over 1232 bytes (fetched upstream over TCP) via TC + TCP retry', async () => {
    const r = await digAt(d.dnsPort, n.huge.name, 'TXT', ['+time=4']);
    expect(r.parsed?.status).toBe('NOERROR');
    expect(r.retriedTcp).toBe(true);
    expect(r.parsed?.answers.map((a) => txtValue(a.data)).sort()).toEqual([...n.huge.values].sort());
  });

  it('answers several queries on one TCP connection (dig +keepopen, and pipelined)', async () => {
    const r = await digAt(d.dnsPort, n.plain.name, 'TXT', ['+tcp', '+keepopen', n.two.name, 'TXT', n.www.name, 'A']);
    expect(r.messages.map((m) => m.status)).toEqual(['NOERROR', 'NOERROR', 'NOERROR']);
    expect(r.messages.map((m) => m.answers.length)).toEqual([1, 2, 1]);

    const ids = [0x1111, 0x2222, 0x3333];
    const replies = await tcpExchange(
      d.dnsPort,
      [encodeQuery(ids[0] ?? 0, n.plain.name, 'TXT'), encodeQuery(ids[1] ?? 0, n.two.name, 'TXT'), encodeQuery(ids[2] ?? 0, n.missing.name, 'TXT')],
      10_000,
    );
    const byId = new Map(replies.map((b) => [parseHeader(b).id, parseHeader(b)]));
    expect([...byId.keys()].sort((x, y) => x - y)).toEqual(ids);
    expect(byId.get(0x1111)?.ancount).toBe(1);
    expect(byId.get(0x2222)?.ancount).toBe(2);
    expect(byId.get(0x3333)?.rcode).toBe(3);
  });

  it('answers FORMERR to a readable header with a broken question; drops runts; keeps serving', async () => {
    const header = Buffer.from([0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
    const junk = Buffer.concat([header, Buffer.from([0x3f, 0x61, 0x62])]); // label says 63 bytes, 2 follow
    const reply = await udpExchange(d.dnsPort, junk, 2000);
    expect(reply).toBeDefined();
    const h = parseHeader(reply ?? Buffer.alloc(12));
    expect(h.id).toBe(0xbeef);
    expect(h.qr).toBe(true);
    expect(h.rcode).toBe(1);

    const runt = await udpExchange(d.dnsPort, Buffer.from([0x12, 0x9a, 0xff, 0x00, 0x7e]), 500);
    expect(runt).toBeUndefined();

    const after = await digAt(d.dnsPort, n.plain.name, 'TXT');
    expect(after.parsed?.status).toBe('NOERROR');
    expect(after.parsed?.answers.map((a) => txtValue(a.data))).toEqual(n.plain.values);
  });

  it('answers kdig (a second client implementation)', async () => {
    const r = await kdig(['@127.0.0.1', '-p', String(d.dnsPort), 'TXT', n.hop3?.name ?? '']);
    expect(r.parsed?.status).toBe('NOERROR');
    expect(r.parsed?.answers.map((a) => txtValue(a.data))).toEqual(n.hop3?.values);
    const tcp = await kdig(['@127.0.0.1', '-p', String(d.dnsPort), '+tcp', 'TXT', n.big.name]);
    expect(tcp.parsed?.answers).toHaveLength(n.big.values.length);
  });

  it('exposes the Prometheus metrics on /metrics', async () => {
    const text = await d.metrics();
    for (const name of [
      'dnslinkd_queries_total',
      'dnslinkd_cache_hits_total',
      'dnslinkd_cache_misses_total',
      'dnslinkd_stale_answers_total',
      'dnslinkd_upstream_errors_total',
      'dnslinkd_upstream_latency_seconds',
    ]) {
      expect(hasMetric(text, name), name).toBe(true);
    }
    expect(await d.metric('dnslinkd_queries_total')).toBeGreaterThan(10);
  });
});
