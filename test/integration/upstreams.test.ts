// dnslinkd behind a recursive resolver (Unbound stub-zone to nsd), and failover between the
// upstreams given with a repeated --upstream flag.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, freePort, requireBinaries, requireBuild, startDnslinkd, startNsd, startUnbound, stopAll, txtValue, zone } from './support/index.js';
import type { NsdHandle, UnboundHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'unbound', 'dig') && requireBuild();
const n = zone.names;

describe.skipIf(!ok)('dnslinkd upstreams', () => {
  let nsd: NsdHandle;
  let unbound: UnboundHandle;
  beforeAll(async () => {
    nsd = await startNsd();
    unbound = await startUnbound({ stubs: [{ zone: zone.origin, port: nsd.port }] });
  });
  afterAll(async () => {
    await unbound?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('resolves through Unbound as a recursive upstream', async () => {
    const direct = await digAt(unbound.port, n.plain.name, 'TXT');
    expect(direct.parsed?.flags).toContain('ra');
    const d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${unbound.port}`] });
    try {
      const r = await digAt(d.dnsPort, n.plain.name, 'TXT');
      expect(r.parsed?.status).toBe('NOERROR');
      expect(r.parsed?.answers.map((a) => txtValue(a.data))).toEqual(n.plain.values);
      const nx = await digAt(d.dnsPort, n.missing.name, 'TXT');
      expect(nx.parsed?.status).toBe('NXDOMAIN');
    } finally {
      await d.stop();
    }
  });

  it('fails over to the next --upstream when the first does not answer', async () => {
    const dead = await freePort(); // nothing listens there
    const d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${dead}`, `udp://127.0.0.1:${nsd.port}`],
      config: { upstreamTimeoutMs: 500 },
    });
    try {
      const r = await digAt(d.dnsPort, n.two.name, 'TXT', ['+time=5']);
      expect(r.parsed?.status).toBe('NOERROR');
      expect(r.parsed?.answers).toHaveLength(2);
    } finally {
      await d.stop();
    }
  });
});
