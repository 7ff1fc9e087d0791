// fixtures/local-records.json: well-formed (real CIDs, chain reaches the demo), and served by dnslinkd.
import { readFileSync } from 'node:fs';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, localRecordsFile, requireBinaries, requireBuild, startDnslinkd, startNsd, stopAll, txtValue } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';

interface LocalRecord {
  name: string;
  type: 'TXT' | 'A' | 'AAAA';
  ttl: number;
  data: string | string[];
}
const records = JSON.parse(readFileSync(localRecordsFile, 'utf8')) as LocalRecord[];
const txt = (name: string) =>
  records.filter((r) => r.name === name && r.type === 'TXT').map((r) => (Array.isArray(r.data) ? r.data.join('') : r.data));

describe('fixtures/local-records.json', () => {
  it('has a demo name with a valid CIDv1, a 2-hop /ipns/ chain to it, and a name with a path', () => {
    const [demo] = txt('_dnslink.demo.dnslinkd.example');
    const cid = /^dnslink=\/ipfs\/([^/]+)$/.exec(demo ?? '')?.[1] ?? '';
    expect(CID.parse(cid).version).toBe(1);
    // chain -> hop -> demo
    let name = 'chain.dnslinkd.example';
    const hops: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = /^dnslink=\/ipns\/([^/]+)$/.exec(txt(`_dnslink.${name}`)[0] ?? '');
      if (!m?.[1]) break;
      name = m[1];
      hops.push(name);
    }
    expect(hops).toEqual(['hop.dnslinkd.example', 'demo.dnslinkd.example']);
    const docs = /^dnslink=\/ipfs\/([^/]+)(\/.+)$/.exec(txt('_dnslink.docs.dnslinkd.example')[0] ?? '');
    expect(CID.parse(docs?.[1] ?? '').version).toBe(1);
    expect(docs?.[2]).toBe('/guide/index.html');
  });
});

const ok = requireBinaries('nsd', 'dig') && requireBuild();

describe.skipIf(!ok)('dnslinkd serves fixtures/local-records.json', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  beforeAll(async () => {
    nsd = await startNsd();
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { localRecords: localRecordsFile } });
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('answers the local TXT and A records without asking upstream', async () => {
    for (const name of ['_dnslink.demo.dnslinkd.example', '_dnslink.chain.dnslinkd.example', '_dnslink.docs.dnslinkd.example']) {
      const r = await digAt(d.dnsPort, name, 'TXT');
      expect(r.parsed?.status, name).toBe('NOERROR');
      expect(r.parsed?.answers.map((a) => txtValue(a.data))).toEqual(txt(name));
    }
    const a = await digAt(d.dnsPort, 'demo.dnslinkd.example', 'A');
    expect(a.parsed?.answers.map((x) => x.data)).toEqual(['127.0.0.1']);
  });
});
