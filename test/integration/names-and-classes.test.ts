// Questions forwarded exactly, against a real nsd serving a root zone and driven by dig: the root
// name, the CHAOS class, a label holding byte 0xff, a dot inside a label; zone transfers and
// meta-types refused without a trip upstream. Each once failed (SERVFAIL after a timeout, names
// changed on the way, transfers forwarded).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig, digAt, encodeQuery, parseHeader, requireBinaries, requireBuild, startDnslinkd, startNsd, stopAll, tcpExchange, txtValue, udpExchange } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();

const ROOT_ZONE = `$TTL 3600
. IN SOA ns.root-test. admin.root-test. 1 3600 600 86400 300
. IN NS ns.root-test.
ns.root-test. IN A 127.0.0.1
\\255weird.root-test. 60 IN TXT "dnslink=/ipfs/weird"
a\\.b.root-test. 60 IN TXT "dnslink=/ipfs/dotted"
a.b.root-test. 60 IN TXT "two labels"
`;

describe.skipIf(!ok)('names and classes forwarded exactly (nsd root zone, dig)', () => {
  let dir: string;
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  const upstreamAsked = () => d.metric('dnslinkd_upstream_latency_seconds_count');
  const upstreamErrors = () => d.metric('dnslinkd_upstream_errors_total');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-root-'));
    writeFileSync(join(dir, 'root.zone'), ROOT_ZONE);
    nsd = await startNsd({ zones: [{ name: '.', file: join(dir, 'root.zone') }], showVersion: true });
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`], config: { upstreamTimeoutMs: 1000 } });
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers NS and SOA for the root name at once, with no upstream marked failed', async () => {
    for (const type of ['NS', 'SOA']) {
      const r = await digAt(d.dnsPort, '.', type);
      expect(r.parsed?.status, `${type} .`).toBe('NOERROR');
      expect(r.parsed?.answers[0]).toMatchObject({ name: '.', type });
      expect(r.parsed?.ede).toBeUndefined();
    }
    expect(await upstreamErrors()).toBe(0);
  });

  it('forwards the CHAOS class and returns the upstream answer (version.bind)', async () => {
    const r = await digAt(d.dnsPort, 'version.bind', 'TXT', ['-c', 'CH']);
    expect(r.parsed?.status).toBe('NOERROR');
    expect(r.parsed?.answers[0]).toMatchObject({ name: 'version.bind.', class: 'CH', type: 'TXT' });
    expect(txtValue(r.parsed!.answers[0]!.data)).toMatch(/NSD/);
    expect(await upstreamErrors()).toBe(0);
  });

  it('forwards a label holding byte 0xff byte for byte, and answers with the same owner name', async () => {
    const r = await digAt(d.dnsPort, '\\255weird.root-test.', 'TXT');
    expect(r.parsed?.status).toBe('NOERROR');
    expect(r.parsed?.answers.map((a) => [a.name, txtValue(a.data)])).toEqual([['\\255weird.root-test.', 'dnslink=/ipfs/weird']]);
    // Served again from the cache: still the same bytes.
    const cached = await digAt(d.dnsPort, '\\255WEIRD.root-test.', 'TXT');
    expect(cached.parsed?.answers.map((a) => txtValue(a.data))).toEqual(['dnslink=/ipfs/weird']);
  });

  it('keeps a dot inside a label as one label, distinct from the two-label name', async () => {
    const dotted = await digAt(d.dnsPort, 'a\\.b.root-test.', 'TXT');
    expect(dotted.parsed?.status).toBe('NOERROR');
    expect(dotted.parsed?.answers.map((a) => [a.name, txtValue(a.data)])).toEqual([['a\\.b.root-test.', 'dnslink=/ipfs/dotted']]);
    const twoLabels = await digAt(d.dnsPort, 'a.b.root-test.', 'TXT');
    expect(twoLabels.parsed?.answers.map((a) => txtValue(a.data))).toEqual(['two labels']);
  });

  it('refuses AXFR and IXFR over UDP and TCP with EDE 21, never asking upstream', async () => {
    const before = await upstreamAsked();
    const axfr = await dig(['@127.0.0.1', '-p', String(d.dnsPort), 'root-test.', 'AXFR']);
    expect(axfr.stdout).toMatch(/Transfer failed/);
    expect(axfr.stdout).not.toMatch(/XFR size/);
    // dig prints transfers as transfers: ask IXFR with a plain query over UDP and TCP.
    const ixfr = encodeQuery(77, 'root-test', 'IXFR');
    const overUdp = await udpExchange(d.dnsPort, ixfr, 2000);
    const [overTcp] = await tcpExchange(d.dnsPort, [ixfr], 2000);
    for (const answer of [overUdp, overTcp]) expect(answer && parseHeader(answer).rcode).toBe(5);
    // The refusal says why (EDE 21, Not Supported): shown by the JSON API as Comment.
    const json = await fetch(`http://127.0.0.1:${d.httpPort}/resolve?name=root-test.&type=AXFR`).then((r) => r.json() as Promise<{ Status: number; Comment?: string }>);
    expect(json.Status).toBe(5);
    expect(json.Comment).toMatch(/^EDE 21: zone transfers/);
    expect(await upstreamAsked()).toBe(before);
  });

  it('answers an OPT question FORMERR and other meta-types REFUSED, never asking upstream', async () => {
    const before = await upstreamAsked();
    expect((await digAt(d.dnsPort, 'x.root-test.', 'TYPE41')).parsed?.status).toBe('FORMERR');
    expect((await digAt(d.dnsPort, 'x.root-test.', 'TYPE250')).parsed?.status).toBe('FORMERR');
    for (const type of ['TYPE128', 'TYPE254', 'TYPE0', 'TYPE65535']) {
      expect((await digAt(d.dnsPort, 'x.root-test.', type)).parsed?.status, type).toBe('REFUSED');
    }
    expect(await upstreamAsked()).toBe(before);
  });
});
