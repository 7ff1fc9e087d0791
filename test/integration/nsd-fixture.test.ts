// Guards the fixture zone and the helpers: nsd serves fixtures/zones/dnslink.test.zone directly
// (no dnslinkd involved), and dig/kdig output parses as the other suites expect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, kdig, requireBinaries, startNsd, stopAll, txtStrings, txtValue, zone } from './support/index.js';
import type { NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig', 'kdig');
const n = zone.names;

describe('txtStrings', () => {
  it('unescapes dig presentation format', () => {
    expect(txtStrings('"a b" "c\\"d" "\\195\\188" "x\\\\y"')).toEqual(['a b', 'c"d', 'ü', 'x\\y']);
  });
});

describe.skipIf(!ok)('nsd fixture zone answers directly', () => {
  let nsd: NsdHandle;
  beforeAll(async () => {
    nsd = await startNsd();
  });
  afterAll(async () => {
    await nsd?.stop();
    await stopAll();
  });

  it('plain, chain, two values, multi-string, UTF-8 label, bare name', async () => {
    const plain = await digAt(nsd.port, n.plain.name, 'TXT');
    expect(plain.parsed?.status).toBe('NOERROR');
    expect(plain.parsed?.flags).toContain('aa');
    expect(plain.parsed?.answers.map((a) => [a.type, a.ttl, txtValue(a.data)])).toEqual([['TXT', 60, n.plain.values[0]]]);

    for (const [key, ttl] of [['hop1', 300], ['hop2', 120], ['hop3', 60]] as const) {
      const r = await digAt(nsd.port, n[key]?.name ?? '', 'TXT');
      expect(r.parsed?.answers.map((a) => [a.ttl, txtValue(a.data)])).toEqual([[ttl, n[key]?.values?.[0]]]);
    }

    const two = await digAt(nsd.port, n.two.name, 'TXT');
    expect(two.parsed?.answers.map((a) => txtValue(a.data)).sort()).toEqual([...n.two.values].sort());

    const multi = await digAt(nsd.port, n.multi.name, 'TXT');
    expect(multi.parsed?.answers.map((a) => txtStrings(a.data))).toEqual([n.multi.strings]);

    const utf8 = await digAt(nsd.port, n.utf8.name, 'TXT');
    expect(utf8.parsed?.answers.map((a) => [a.name, txtValue(a.data)])).toEqual([[`${n.utf8.name}.`, n.utf8.values[0]]]);

    const bare = await digAt(nsd.port, n.bare.name, 'TXT');
    expect(bare.parsed?.answers.map((a) => txtValue(a.data))).toEqual(n.bare.values);
    const noDnslink = await digAt(nsd.port, `_dnslink.${n.bare.name}`, 'TXT');
    expect(noDnslink.parsed?.status).toBe('NXDOMAIN');
  });

  it('long TXT is split into 255-byte strings', async () => {
    const r = await digAt(nsd.port, n.long.name, 'TXT');
    const a = r.parsed?.answers ?? [];
    expect(a).toHaveLength(1);
    expect(txtStrings(a[0]?.data ?? '')).toEqual(n.long.strings);
    expect(n.long.value.length).toBeGreaterThan(255);
  });

  it('NXDOMAIN with SOA minimum 30, NODATA, A/AAAA', async () => {
    const nx = await digAt(nsd.port, n.missing.name, 'TXT');
    expect(nx.parsed?.status).toBe('NXDOMAIN');
    expect(nx.parsed?.authority.find((r) => r.type === 'SOA')?.ttl).toBe(zone.soaMinimum);
    const nodata = await digAt(nsd.port, n.nodata?.name ?? '', 'TXT');
    expect(nodata.parsed?.status).toBe('NOERROR');
    expect(nodata.parsed?.answers).toEqual([]);
    const a = await digAt(nsd.port, n.www.name, 'A');
    expect(a.parsed?.answers.map((r) => r.data)).toEqual([n.www.a]);
    const aaaa = await digAt(nsd.port, n.www.name, 'AAAA');
    expect(aaaa.parsed?.answers.map((r) => r.data)).toEqual([n.www.aaaa]);
  });

  it('big answer: TC over plain UDP, full over EDNS 1232 and TCP; huge needs TCP', async () => {
    const tc = await digAt(nsd.port, n.big.name, 'TXT', ['+noedns', '+ignore']);
    expect(tc.parsed?.flags).toContain('tc');
    const edns = await digAt(nsd.port, n.big.name, 'TXT');
    expect(edns.parsed?.flags).not.toContain('tc');
    expect(edns.parsed?.transport).toBe('UDP');
    expect(edns.parsed?.answers).toHaveLength(n.big.values.length);
    const retried = await digAt(nsd.port, n.huge.name, 'TXT');
    expect(retried.retriedTcp).toBe(true);
    expect(retried.parsed?.transport).toBe('TCP');
    expect(retried.parsed?.answers).toHaveLength(n.huge.values.length);
    expect(retried.parsed?.msgSize).toBeGreaterThan(1232);
  });

  it('kdig parses the same', async () => {
    const r = await kdig(['@127.0.0.1', '-p', String(nsd.port), 'TXT', n.plain.name]);
    expect(r.parsed?.status).toBe('NOERROR');
    expect(r.parsed?.answers.map((a) => txtValue(a.data))).toEqual(n.plain.values);
  });
});
