// The admin API against a real dnslinkd (nsd upstream behind a counting proxy), checked with real
// clients: tokens (none, wrong, read-only writing), each flush form with exact counts and the next
// query going upstream, overrides set / read / pinned / expired / removed answering over UDP, TCP
// and DoH at once with their TTL and EDE 4, bad values, dry runs changing nothing, the audit log.
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, sleep, startCountingProxy, startDnslinkd, startNsd, stopAll, txtValue, zone } from './support/index.js';
import type { CountingProxy, DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const n = zone.names;
const PLAIN = n.plain.name.replace(/^_dnslink\./, '');
const CID2 = 'bafkreiadj22nmzm5o7uqd43fhkcvnko4o2kh3npx54yfo76fyor4d6kgje';
const WRITE = 'ops-write-token-0123456789';
const READ = 'viewer-read-token-0123456789';

describe.skipIf(!ok)('admin API (nsd upstream, dig, DoH, HTTP)', () => {
  let nsd: NsdHandle;
  let proxy: CountingProxy;
  let d: DnslinkdHandle;
  const admin = (method: string, path: string, body?: unknown, token: string | null = WRITE) => d.admin(method, path, body, token);
  const txt = async (name: string, extra: string[] = []) => {
    const r = await digAt(d.dnsPort, name, 'TXT', extra);
    return { status: r.parsed?.status, flags: r.parsed?.flags ?? [], ede: r.parsed?.ede, answers: (r.parsed?.answers ?? []).map((a) => ({ ttl: a.ttl, value: txtValue(a.data) })) };
  };

  beforeAll(async () => {
    nsd = await startNsd();
    proxy = await startCountingProxy(nsd.port);
    d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${proxy.port}`],
      config: {
        cache: { prefetch: false },
        admin: { tokens: [{ label: 'ops', scope: 'write', secret: WRITE }, { label: 'viewer', scope: 'read', secret: READ }] },
      },
    });
  });
  afterAll(async () => {
    await d?.stop();
    await proxy?.close();
    await nsd?.stop();
    await stopAll();
  });

  describe('tokens', () => {
    it('401 without a token or with a wrong one, 403 for a read token that writes, JSON {code, message} each', async () => {
      const none = await admin('GET', '/admin/v1/overrides', undefined, null);
      expect(none).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', message: expect.stringMatching(/Bearer/) } });
      const wrong = await admin('GET', '/admin/v1/overrides', undefined, 'not-the-token-at-all-000');
      expect(wrong).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
      expect((await admin('GET', '/admin/v1/overrides', undefined, READ)).status).toBe(200);
      const readWrites = await admin('POST', '/admin/v1/cache/flush', { all: true }, READ);
      expect(readWrites).toMatchObject({ status: 403, body: { code: 'FORBIDDEN', message: expect.stringMatching(/viewer/) } });
    });

    it('serves no admin route on the public HTTP listener', async () => {
      const res = await fetch(`http://127.0.0.1:${d.httpPort}/admin/v1/status`, { headers: { authorization: `Bearer ${WRITE}` } });
      expect(res.status).toBe(404);
    });
  });

  describe('flush', () => {
    it('by name: both forms, every type, exact count, stale included; dry run first changes nothing; the next query goes upstream', async () => {
      await txt(n.plain.name);
      await txt(PLAIN);
      await digAt(d.dnsPort, PLAIN, 'A');
      const cached = await admin('GET', `/admin/v1/cache/${PLAIN}`, undefined, READ);
      const entries = cached.body.entries as Array<{ type: number; source: string }>;
      expect(entries.length).toBe(3);
      const dry = await admin('POST', '/admin/v1/cache/flush?dryRun=true', { name: PLAIN });
      expect(dry).toMatchObject({ status: 200, body: { dryRun: true, removed: 3 } });
      expect(((await admin('GET', `/admin/v1/cache/${PLAIN}`)).body.entries as unknown[]).length).toBe(3);
      const asked = proxy.count(n.plain.name);
      const flushed = await admin('POST', '/admin/v1/cache/flush', { name: PLAIN, reason: 'test' });
      expect(flushed).toMatchObject({ status: 200, body: { dryRun: false, removed: 3, generation: expect.any(Number) } });
      expect(((await admin('GET', `/admin/v1/cache/${PLAIN}`)).body.entries as unknown[]).length).toBe(0);
      await txt(n.plain.name);
      expect(proxy.count(n.plain.name)).toBe(asked + 1);
    });

    it('by suffix with negativeOnly takes only the negative answers under it; all takes everything', async () => {
      await txt(n.missing.name);
      await txt(n.missing.bare);
      await txt(n.plain.name);
      const negatives = await admin('POST', '/admin/v1/cache/flush', { suffix: 'dnslink.test', negativeOnly: true });
      expect(negatives.body).toMatchObject({ removed: 2 });
      const entries = await d.metric('dnslinkd_cache_entries');
      expect(entries).toBeGreaterThan(0);
      const all = await admin('POST', '/admin/v1/cache/flush', { all: true });
      expect(all.body).toMatchObject({ removed: entries });
      expect(await d.metric('dnslinkd_cache_entries')).toBe(0);
    });

    it('refuses a body that names no target, or two', async () => {
      expect(await admin('POST', '/admin/v1/cache/flush', {})).toMatchObject({ status: 400, body: { code: 'INVALID_BODY' } });
      expect(await admin('POST', '/admin/v1/cache/flush', { name: 'a.example', all: true })).toMatchObject({ status: 400, body: { code: 'INVALID_BODY' } });
      expect(await admin('POST', '/admin/v1/cache/flush', { name: 'a b.example' })).toMatchObject({ status: 400, body: { code: 'INVALID_NAME' } });
    });
  });

  describe('overrides', () => {
    it('answers at once over UDP, TCP and DoH with its TTL, aa and EDE 4; the API shows source and reason', async () => {
      await txt(n.plain.name); // cached from DNS first: the override must win over the cache
      const set = await admin('PUT', `/admin/v1/overrides/${PLAIN}`, { value: `/ipfs/${CID2}/site`, ttl: 42, reason: 'registrar incident' });
      expect(set).toMatchObject({ status: 200, body: { dryRun: false, before: null, after: { name: PLAIN, value: `/ipfs/${CID2}/site`, ttl: 42, by: 'ops' }, answers: { before: n.plain.values[0]!.replace('dnslink=', ''), after: `/ipfs/${CID2}/site` } } });
      for (const extra of [[], ['+tcp']]) {
        for (const name of [n.plain.name, PLAIN]) {
          const r = await txt(name, extra);
          expect(r.answers, `${name} ${extra.join(' ')}`).toEqual([{ ttl: 42, value: `dnslink=/ipfs/${CID2}/site` }]);
          expect(r.flags).toContain('aa');
          expect(r.ede).toMatchObject({ code: 4, text: expect.stringContaining('override: registrar incident') });
        }
      }
      const wire = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: n.plain.name, type: 'TXT' }] });
      const doh = await fetch(`http://127.0.0.1:${d.httpPort}/dns-query`, { method: 'POST', headers: { 'content-type': 'application/dns-message' }, body: wire });
      const decoded = dnsPacket.decode(Buffer.from(await doh.arrayBuffer()));
      expect(decoded.answers?.map((a) => String((a as { data: Buffer[] }).data))).toEqual([`dnslink=/ipfs/${CID2}/site`]);
      expect(doh.headers.get('cache-control')).toBe('max-age=42');
      const api = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${PLAIN}`).then((r) => r.json() as Promise<Record<string, unknown>>);
      expect(api).toMatchObject({ source: 'override', reason: 'registrar incident', value: `/ipfs/${CID2}/site`, ttl: 42 });
      // Other types for the name pass through.
      expect((await digAt(d.dnsPort, PLAIN, 'A')).parsed?.ede?.code).not.toBe(4);
    });

    it('reads one and all; a missing one is 404', async () => {
      expect((await admin('GET', `/admin/v1/overrides/${PLAIN}`, undefined, READ)).body).toMatchObject({ name: PLAIN, reason: 'registrar incident' });
      expect(((await admin('GET', '/admin/v1/overrides', undefined, READ)).body.overrides as Array<{ name: string }>).map((o) => o.name)).toContain(PLAIN);
      expect(await admin('GET', '/admin/v1/overrides/none.example', undefined, READ)).toMatchObject({ status: 404, body: { code: 'OVERRIDE_NOT_FOUND' } });
    });

    it('refuses bad values, a missing reason and bad names with 400 naming what is wrong', async () => {
      const put = (body: unknown, name = 'x.dnslink.test') => admin('PUT', `/admin/v1/overrides/${name}`, body);
      expect(await put({ value: '/ipfs/not-a-cid', reason: 'r' })).toMatchObject({ status: 400, body: { code: 'INVALID_VALUE', message: expect.stringMatching(/invalid CID "not-a-cid"/) } });
      expect(await put({ value: 'ipfs://x', reason: 'r' })).toMatchObject({ status: 400, body: { code: 'INVALID_VALUE', message: expect.stringMatching(/must start with \/ipfs\/ or \/ipns\//) } });
      expect(await put({ value: `/ipfs/${CID2}` })).toMatchObject({ status: 400, body: { code: 'REASON_REQUIRED' } });
      expect(await put({ value: `/ipfs/${CID2}`, reason: 'r', ttl: -1 })).toMatchObject({ status: 400, body: { code: 'INVALID_TTL' } });
      expect(await put({ value: `/ipfs/${CID2}`, reason: 'r', expiresAt: '2001-01-01T00:00:00Z' })).toMatchObject({ status: 400, body: { code: 'INVALID_EXPIRY' } });
      expect(await put({ value: `/ipfs/${CID2}`, reason: 'r' }, 'a%20b.example')).toMatchObject({ status: 400, body: { code: 'INVALID_NAME' } });
    });

    it('a dry run says what would change and changes nothing', async () => {
      const dry = await admin('PUT', '/admin/v1/overrides/bare.dnslink.test?dryRun=true', { value: `/ipfs/${CID2}`, reason: 'trying' });
      expect(dry).toMatchObject({ status: 200, body: { dryRun: true, after: { value: `/ipfs/${CID2}` } } });
      expect((await admin('GET', '/admin/v1/overrides/bare.dnslink.test')).status).toBe(404);
      expect((await txt('_dnslink.bare.dnslink.test')).ede?.code).not.toBe(4);
      const dryRemove = await admin('DELETE', `/admin/v1/overrides/${PLAIN}?dryRun=true`, { reason: 'trying' });
      expect(dryRemove).toMatchObject({ status: 200, body: { dryRun: true, after: null } });
      expect((await txt(n.plain.name)).ede?.code).toBe(4);
    });

    it('removing it brings the DNS answer back, asked upstream anew', async () => {
      const asked = proxy.count(n.plain.name);
      expect(await admin('DELETE', `/admin/v1/overrides/${PLAIN}`, { reason: 'incident over' })).toMatchObject({ status: 200, body: { after: null } });
      const r = await txt(n.plain.name);
      expect(r.answers.map((a) => a.value)).toEqual(n.plain.values);
      expect(r.ede).toBeUndefined();
      expect(proxy.count(n.plain.name)).toBe(asked + 1);
      expect(await admin('DELETE', `/admin/v1/overrides/${PLAIN}`, { reason: 'again' })).toMatchObject({ status: 404 });
    });

    it('pin freezes what the name resolves to now, from the cache', async () => {
      await txt(n.plain.name);
      const pinned = await admin('PUT', `/admin/v1/overrides/${PLAIN}`, { pin: true, reason: 'DNS provider flapping' });
      expect(pinned).toMatchObject({ status: 200, body: { after: { value: n.plain.values[0]!.replace('dnslink=', ''), pinned: true } } });
      expect((await txt(n.plain.name)).ede).toMatchObject({ code: 4, text: expect.stringContaining('override: DNS provider flapping') });
      expect(await admin('PUT', '/admin/v1/overrides/never-asked.dnslink.test', { pin: true, reason: 'r' })).toMatchObject({ status: 409, body: { code: 'NOTHING_CACHED' } });
      await admin('DELETE', `/admin/v1/overrides/${PLAIN}`, { reason: 'unpin' });
    });

    it('an expired override stops applying by itself, and the audit log says so', async () => {
      const expiresAt = new Date(Date.now() + 1500).toISOString();
      await admin('PUT', '/admin/v1/overrides/bare.dnslink.test', { value: `/ipfs/${CID2}`, reason: 'short-lived', expiresAt });
      expect((await txt('_dnslink.bare.dnslink.test')).ede?.code).toBe(4);
      await sleep(2000);
      expect((await txt('_dnslink.bare.dnslink.test')).ede?.code).not.toBe(4);
      const audit = await admin('GET', '/admin/v1/audit?name=bare.dnslink.test&limit=5', undefined, READ);
      expect((audit.body.records as Array<{ action: string; token: string }>)[0]).toMatchObject({ action: 'override.expire', token: 'system' });
    });
  });

  describe('audit', () => {
    it('lists every change newest first with token, action, name, reason, before, after and dry-run flag', async () => {
      const { body } = await admin('GET', `/admin/v1/audit?name=${PLAIN}&limit=20`, undefined, READ);
      const records = body.records as Array<{ id: string; time: string; token: string; action: string; reason?: string; dryRun: boolean; before?: unknown; after?: unknown }>;
      expect(records.map((r) => [r.action, r.dryRun])).toEqual([
        ['override.remove', false],
        ['override.pin', false],
        ['override.remove', false],
        ['override.remove', true],
        ['override.set', false],
        ['cache.flush', false],
        ['cache.flush', true],
      ]);
      expect(records[4]).toMatchObject({ token: 'ops', reason: 'registrar incident', before: null, after: { value: `/ipfs/${CID2}/site` } });
      const times = records.map((r) => Date.parse(r.time));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      const since = await admin('GET', `/admin/v1/audit?since=${encodeURIComponent(records[1]!.time)}&name=${PLAIN}`, undefined, READ);
      expect((since.body.records as unknown[]).length).toBe(2);
      expect(await admin('GET', '/admin/v1/audit?limit=0', undefined, READ)).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER' } });
    });
  });
});
