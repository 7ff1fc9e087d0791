// `dnslinkd resolve NAME --upstream ... --json` against nsd: the dnslink.dev result shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinaries, requireBuild, runCli, startNsd, stopAll, zone } from './support/index.js';
import type { NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const n = zone.names;
const strip = (name: string) => name.replace(/^_dnslink\./, '');

describe.skipIf(!ok)('dnslinkd resolve --json against nsd', () => {
  let nsd: NsdHandle;
  let up: string;
  beforeAll(async () => {
    nsd = await startNsd();
    up = `udp://127.0.0.1:${nsd.port}`;
  });
  afterAll(async () => {
    await nsd?.stop();
    await stopAll();
  });

  const resolve = async (name: string) => {
    const r = await runCli(['resolve', name, '--upstream', up, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  it('plain /ipfs/ name', async () => {
    expect(await resolve(strip(n.plain.name))).toEqual({
      links: { ipfs: [{ identifier: n.plain.cid, ttl: 60 }] },
      log: [],
      txtEntries: [{ value: `/ipfs/${n.plain.cid}`, ttl: 60 }],
    });
  });

  it('NXDOMAIN on both names: DNS_RCODE_3', async () => {
    expect(await resolve(n.missing.bare)).toMatchObject({ error: { code: 'DNS_RCODE_3' } });
  });

  it('falls back to the bare name only on NXDOMAIN at _dnslink.', async () => {
    const bare = await resolve(n.bare.name);
    expect(bare).toMatchObject({ links: { ipfs: [{ identifier: n.bare.cid, ttl: 60 }] } });
    expect(bare.log).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'FALLBACK' })]));

    const none = await resolve(strip(n.none?.name ?? ''));
    expect(none).toMatchObject({ links: {}, txtEntries: [] });
    expect(none.log).not.toEqual(expect.arrayContaining([expect.objectContaining({ code: 'FALLBACK' })]));
  });

  it('concatenates multi-string TXT records and sorts several values', async () => {
    expect(await resolve(strip(n.multi.name))).toMatchObject({ links: { ipfs: [{ identifier: n.multi.cid }] } });
    const two = (await resolve(strip(n.two.name))) as { links: { ipfs: { identifier: string }[] } };
    const ids = n.two.values.map((v) => v.replace('dnslink=/ipfs/', '')).sort();
    expect(two.links.ipfs.map((l) => l.identifier)).toEqual(ids);
  });

  it('usage error exits 2', async () => {
    const r = await runCli(['resolve', '--json', '--upstream', up]);
    expect(r.code).toBe(2);
  });
});
