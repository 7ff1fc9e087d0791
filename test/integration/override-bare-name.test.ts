// An override changes DNSLink, not the name's other records (issue 16), against a real nsd whose
// zone holds SPF and a site-verification TXT beside a dnslink= at the bare name: with an override,
// dig TXT of the bare name still shows the SPF and verification strings and only the dnslink=
// string is the override's; `_dnslink.<name>` is replaced whole; the TTL of an override expiring
// in a few seconds is capped at what is left; with the upstream gone the override is answered
// alone and the EDE text says so; once removed, the upstream's own answer comes back unmerged.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, startDnslinkd, startNsd, stopAll, txtValue, UPSTREAM_DOWN_CONFIG } from './support/index.js';
import type { DigResult, DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();

const ZONE = 'merge.example';
const SITE = `site.${ZONE}`;
const UPSTREAM_CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const OVERRIDE = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const SPF = 'v=spf1 include:_spf.mail.example -all';
const VERIFY = 'google-site-verification=Z3x9QkPq2w';

const zoneText = [
  `$ORIGIN ${ZONE}.`,
  '$TTL 300',
  `@ IN SOA ns.${ZONE}. hostmaster.${ZONE}. 1 3600 600 86400 60`,
  `@ IN NS ns.${ZONE}.`,
  'ns IN A 127.0.0.1',
  `site IN TXT "${SPF}"`,
  `site IN TXT "${VERIFY}"`,
  `site IN TXT "dnslink=/ipfs/${UPSTREAM_CID}"`,
  `_dnslink.site IN TXT "dnslink=/ipfs/${UPSTREAM_CID}"`,
  '_dnslink.site IN TXT "not-dnslink=kept-only-without-an-override"',
  `short IN TXT "${SPF}"`,
  '',
].join('\n');

const strings = (r: DigResult) => (r.parsed?.answers ?? []).filter((a) => a.type === 'TXT').map((a) => txtValue(a.data)).sort();

describe.skipIf(!ok)('an override changes DNSLink, not the name\'s other records (real nsd)', () => {
  let dir: string;
  let nsd: NsdHandle;
  let d: DnslinkdHandle;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-bare-'));
    const file = join(dir, `${ZONE}.zone`);
    writeFileSync(file, zoneText);
    nsd = await startNsd({ zones: [{ name: ZONE, file }] });
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`] });
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('at the bare name keeps SPF and verification strings and replaces only the dnslink= one; _dnslink.<name> is replaced whole', async () => {
    // Cached before the override: the merge must not come from, or go into, this entry.
    expect(strings(await digAt(d.dnsPort, SITE, 'TXT'))).toEqual([`dnslink=/ipfs/${UPSTREAM_CID}`, VERIFY, SPF].sort());
    expect((await d.admin('PUT', `/admin/v1/overrides/${SITE}`, { value: OVERRIDE, ttl: 60, reason: 'incident 7' })).status).toBe(200);

    const bare = await digAt(d.dnsPort, SITE, 'TXT');
    expect(bare.parsed?.status).toBe('NOERROR');
    expect(strings(bare)).toEqual([`dnslink=${OVERRIDE}`, VERIFY, SPF].sort());
    expect(bare.parsed?.flags).toContain('aa');
    expect(bare.parsed?.ede).toMatchObject({ code: 4, text: '(override: incident 7)' });
    // One RRset, one TTL, never above the override's.
    const ttls = new Set(bare.parsed!.answers.map((a) => a.ttl));
    expect(ttls.size).toBe(1);
    expect([...ttls][0]).toBeLessThanOrEqual(60);

    const dnslink = await digAt(d.dnsPort, `_dnslink.${SITE}`, 'TXT');
    expect(strings(dnslink)).toEqual([`dnslink=${OVERRIDE}`]);

    // The resolution API reads the override.
    const api = (await (await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${SITE}`)).json()) as { value?: string };
    expect(api.value).toBe(OVERRIDE);

    // Removed: the upstream's own answer again, unmerged (the cache never held the merge).
    expect((await d.admin('DELETE', `/admin/v1/overrides/${SITE}`, { reason: 'over' })).status).toBe(200);
    expect(strings(await digAt(d.dnsPort, SITE, 'TXT'))).toEqual([`dnslink=/ipfs/${UPSTREAM_CID}`, VERIFY, SPF].sort());
    expect(strings(await digAt(d.dnsPort, `_dnslink.${SITE}`, 'TXT'))).toEqual([`dnslink=/ipfs/${UPSTREAM_CID}`, 'not-dnslink=kept-only-without-an-override'].sort());
  }, 30_000);

  it('caps the TTL at the remaining life of an override that expires in a few seconds', async () => {
    const expiresAt = new Date(Date.now() + 6_000).toISOString();
    expect((await d.admin('PUT', `/admin/v1/overrides/short.${ZONE}`, { value: OVERRIDE, ttl: 60, expiresAt, reason: 'brief' })).status).toBe(200);
    for (const name of [`_dnslink.short.${ZONE}`, `short.${ZONE}`]) {
      const r = await digAt(d.dnsPort, name, 'TXT');
      expect(strings(r)).toContain(`dnslink=${OVERRIDE}`);
      for (const a of r.parsed!.answers) expect(a.ttl).toBeLessThanOrEqual(6);
    }
    expect(strings(await digAt(d.dnsPort, `short.${ZONE}`, 'TXT'))).toEqual([`dnslink=${OVERRIDE}`, SPF].sort());
  }, 30_000);

  it('with the upstream gone, answers the override alone and says so in the EDE text', async () => {
    const dead = await startDnslinkd({ upstreams: ['udp://127.0.0.1:9'], config: { ...UPSTREAM_DOWN_CONFIG } });
    try {
      expect((await dead.admin('PUT', `/admin/v1/overrides/${SITE}`, { value: OVERRIDE, reason: 'incident 8' })).status).toBe(200);
      const r = await digAt(dead.dnsPort, SITE, 'TXT', ['+time=5']);
      expect(r.parsed?.status).toBe('NOERROR');
      expect(strings(r)).toEqual([`dnslink=${OVERRIDE}`]);
      expect(r.parsed?.ede?.text).toBe('(override: incident 8 (other TXT records of the name left out: the resolvers below answered SERVFAIL))');
      expect(await dead.metric('dnslinkd_override_partial_answers_total')).toBe(1);
    } finally {
      await dead.stop();
    }
  }, 30_000);
});
