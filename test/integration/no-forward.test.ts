// dnslinkd --no-forward: only TXT is answered; every other query type is REFUSED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, startDnslinkd, startNsd, stopAll, txtValue, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const n = zone.names;

describe.skipIf(!ok)('dnslinkd --no-forward', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  beforeAll(async () => {
    nsd = await startNsd();
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], args: ['--no-forward'] });
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('refuses A and AAAA', async () => {
    expect((await digAt(d.dnsPort, n.www.name, 'A')).parsed?.status).toBe('REFUSED');
    expect((await digAt(d.dnsPort, n.www.name, 'AAAA')).parsed?.status).toBe('REFUSED');
    expect((await digAt(d.dnsPort, n.plain.name, 'A')).parsed?.status).toBe('REFUSED');
  });

  it('still answers TXT at _dnslink.<name> and the bare name', async () => {
    const r = await digAt(d.dnsPort, n.plain.name, 'TXT');
    expect(r.parsed?.status).toBe('NOERROR');
    expect(r.parsed?.answers.map((a) => txtValue(a.data))).toEqual(n.plain.values);
    const bare = await digAt(d.dnsPort, n.bare.name, 'TXT');
    expect(bare.parsed?.answers.map((a) => txtValue(a.data))).toEqual(n.bare.values);
  });
});
