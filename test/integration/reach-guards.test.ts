// The guards on changes with a wide reach, over the admin API and the real CLI against a real
// dnslinkd (nsd upstream): overrides and imports on a one-label name, a special-use name, an IP
// literal or a public suffix, and flushes of such a suffix or of more than admin.maxFlushEntries
// entries, refused with NEEDS_FORCE and their dry run unless forced (the audit says so); /ipns/
// values that loop or name no key, and reasons that are not printable text, refused.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, runCli, startDnslinkd, startNsd, stopAll, txtValue, zone, zonesDir } from './support/index.js';
import type { CliResult, DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const VALUE = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const KEY = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8';
/** A dag-pb CID: content, not an IPNS key. */
const NOT_A_KEY = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const MAX_FLUSH = 3;
const WIDE: Array<[string, string]> = [
  ['com', 'one-label'],
  ['co.uk', 'public-suffix'],
  ['arpa', 'special-use'],
  ['1.2.3.4', 'ip-literal'],
  ['localhost', 'special-use'],
  ['foo.in-addr.arpa', 'special-use'],
  ['intranet', 'one-label'],
];

/** The test runner's environment without a token of its own: the CLI finds the instance's. */
const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));

interface AuditView {
  action: string;
  name?: string;
  dryRun: boolean;
  force?: boolean;
}

describe.skipIf(!ok)('guards for changes with a wide reach (API and CLI)', { timeout: 90_000 }, () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  let dir: string;
  const admin = (method: string, path: string, body?: unknown) => d.admin(method, path, body);
  const cli = (args: string[]): Promise<CliResult> => runCli([...args, '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir], 15_000, baseEnv);
  const audit = async (name: string) => ((await admin('GET', `/admin/v1/audit?name=${encodeURIComponent(name)}&limit=10`)).body.records as AuditView[]).filter((r) => !r.dryRun);
  /** Fills the cache with `count` answers under dnslink.test (names nsd answers, and ones it does not). */
  const warm = async (count: number) => {
    const names = [zone.names.plain.name, ...Array.from({ length: count }, (_, i) => `absent-${i}.dnslink.test`)];
    for (const name of names) await digAt(d.dnsPort, name, 'TXT');
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-reach-'));
    // A one-label zone of the test's own, with a DNSLink record to pin.
    const intranet = join(dir, 'intranet.zone');
    writeFileSync(
      intranet,
      ['$ORIGIN intranet.', '$TTL 60', '@ 3600 IN SOA ns1.intranet. hostmaster.intranet. 1 3600 600 86400 30', '@ 3600 IN NS ns1.intranet.', 'ns1 IN A 127.0.0.1', `_dnslink IN TXT "dnslink=${VALUE}"`, ''].join('\n'),
    );
    nsd = await startNsd({ zones: [{ name: 'dnslink.test', file: join(zonesDir, 'dnslink.test.zone') }, { name: 'intranet', file: intranet }] });
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { cache: { prefetch: false }, admin: { maxFlushEntries: MAX_FLUSH } } });
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('PUT override: each wide name refused with NEEDS_FORCE and its dry run, nothing set; with force set, answered, and audited as forced', async () => {
    for (const [name, kind] of WIDE) {
      const path = `/admin/v1/overrides/${encodeURIComponent(name)}`;
      const refused = await admin('PUT', path, { value: VALUE, reason: 'INC-1: takedown' });
      expect(refused.status, name).toBe(400);
      expect(refused.body, name).toMatchObject({
        code: 'NEEDS_FORCE',
        message: expect.stringMatching(/reaches wide.*dry run: override \(none\) -> \/ipfs\/.*cache entries would be removed.*"force": true/),
        reach: [{ name, kind, why: expect.any(String) }],
        dryRun: { name, before: null, after: VALUE, cache: { removed: expect.any(Number) } },
      });
      expect((await admin('GET', path)).status, `${name}: nothing set`).toBe(404);

      const forced = await admin('PUT', path, { value: VALUE, reason: 'INC-1: takedown', force: true });
      expect(forced.status, JSON.stringify(forced.body)).toBe(200);
      expect(forced.body).toMatchObject({ name, after: { value: VALUE } });
      const [record] = await audit(name);
      expect(record, name).toMatchObject({ action: 'override.set', name, force: true });
    }
    // The forced override answers at the name, as any other.
    const dig = await digAt(d.dnsPort, '_dnslink.co.uk', 'TXT');
    expect((dig.parsed?.answers ?? []).map((a) => txtValue(a.data))).toEqual([`dnslink=${VALUE}`]);
    // A change of an ordinary name is neither refused nor marked forced.
    expect((await admin('PUT', '/admin/v1/overrides/site.example.org', { value: VALUE, reason: 'ordinary' })).status).toBe(200);
    expect((await audit('site.example.org'))[0]).not.toHaveProperty('force');
    // A dry run is answered without force: it changes nothing.
    const dry = await admin('PUT', '/admin/v1/overrides/org?dryRun=true', { value: VALUE, reason: 'just looking' });
    expect(dry).toMatchObject({ status: 200, body: { dryRun: true, name: 'org' } });
    expect((await admin('PUT', '/admin/v1/overrides/org', { value: VALUE, reason: 'x', force: 'yes' })).body).toMatchObject({ code: 'INVALID_BODY' });
    for (const [name] of WIDE) expect((await admin('DELETE', `/admin/v1/overrides/${encodeURIComponent(name)}`, { reason: 'cleanup' })).status).toBe(200);
    await admin('DELETE', '/admin/v1/overrides/site.example.org', { reason: 'cleanup' });
  });

  it('import: refused whole when any name reaches wide, listing them; with force imported', async () => {
    const items = [
      { name: 'one.example.org', value: VALUE, ttl: 60 },
      { name: 'com', value: VALUE, ttl: 60 },
      { name: 'co.uk', value: VALUE, ttl: 60 },
    ];
    const refused = await admin('POST', '/admin/v1/overrides/import', { overrides: items, reason: 'migration' });
    expect(refused).toMatchObject({ status: 400, body: { code: 'NEEDS_FORCE', message: expect.stringMatching(/an import of 3 overrides reaches wide: com .*co\.uk/), dryRun: { overrides: 3 } } });
    expect((refused.body.reach as Array<{ name: string }>).map((r) => r.name)).toEqual(['com', 'co.uk']);
    expect((await admin('GET', '/admin/v1/overrides')).body.overrides).toEqual([]);

    const forced = await admin('POST', '/admin/v1/overrides/import', { overrides: items, reason: 'migration', force: true });
    expect(forced.status, JSON.stringify(forced.body)).toBe(200);
    expect((forced.body.changed as unknown[]).length).toBe(3);
    expect((await audit('com'))[0]).toMatchObject({ action: 'override.import', force: true });
    for (const { name } of items) await admin('DELETE', `/admin/v1/overrides/${name}`, { reason: 'cleanup' });
  });

  it('flush: a one-label or public suffix, or more than admin.maxFlushEntries entries, needs force; --all does not; the limit applies on reload', async () => {
    const refused = await admin('POST', '/admin/v1/cache/flush', { suffix: 'com' });
    expect(refused).toMatchObject({
      status: 400,
      body: { code: 'NEEDS_FORCE', reach: [{ name: 'com', kind: 'one-label' }], dryRun: { target: { suffix: 'com' }, negativeOnly: false, removed: 0, maxFlushEntries: MAX_FLUSH } },
    });
    expect((await admin('POST', '/admin/v1/cache/flush', { suffix: 'co.uk' })).body).toMatchObject({ code: 'NEEDS_FORCE', reach: [{ kind: 'public-suffix' }] });

    await warm(MAX_FLUSH + 2);
    const counted = await admin('POST', '/admin/v1/cache/flush?dryRun=true', { suffix: 'dnslink.test' });
    const entries = counted.body.removed as number;
    expect(entries).toBeGreaterThan(MAX_FLUSH);
    const tooMany = await admin('POST', '/admin/v1/cache/flush', { suffix: 'dnslink.test' });
    expect(tooMany).toMatchObject({
      status: 400,
      body: { code: 'NEEDS_FORCE', message: expect.stringMatching(new RegExp(`would remove ${entries} cache entries, more than admin\\.maxFlushEntries \\(${MAX_FLUSH}\\)`)), reach: [], dryRun: { removed: entries } },
    });
    // Refused: nothing was removed.
    expect((await admin('POST', '/admin/v1/cache/flush?dryRun=true', { suffix: 'dnslink.test' })).body.removed).toBe(entries);
    const forced = await admin('POST', '/admin/v1/cache/flush', { suffix: 'dnslink.test', force: true });
    expect(forced).toMatchObject({ status: 200, body: { dryRun: false, removed: entries } });
    expect((await audit('dnslink.test'))[0]).toMatchObject({ action: 'cache.flush', force: true });

    await warm(MAX_FLUSH + 2);
    expect((await admin('POST', '/admin/v1/cache/flush', { all: true })).status).toBe(200);

    // admin.maxFlushEntries applies on reload: raised, the same flush goes through without force.
    await warm(MAX_FLUSH + 2);
    expect((await admin('POST', '/admin/v1/cache/flush', { suffix: 'dnslink.test' })).body).toMatchObject({ code: 'NEEDS_FORCE' });
    const config = JSON.parse(readFileSync(d.configFile, 'utf8')) as { admin: Record<string, unknown> };
    config.admin.maxFlushEntries = 1000;
    writeFileSync(d.configFile, JSON.stringify(config));
    expect((await admin('POST', '/admin/v1/reload')).body).toMatchObject({ changed: ['admin.maxFlushEntries'], needsRestart: [] });
    expect(await admin('POST', '/admin/v1/cache/flush', { suffix: 'dnslink.test' })).toMatchObject({ status: 200, body: { removed: expect.any(Number) } });
    config.admin.maxFlushEntries = MAX_FLUSH;
    writeFileSync(d.configFile, JSON.stringify(config));
    expect((await admin('POST', '/admin/v1/reload')).status).toBe(200);
  });

  it('/ipns/ values: a self-loop or a CID that is no key refused; reasons: control or bidi characters, or 501 characters, refused', async () => {
    const put = (name: string, body: Record<string, unknown>) => admin('PUT', `/admin/v1/overrides/${name}`, { value: VALUE, reason: 'ok', ...body });
    expect((await put('loop.example.org', { value: '/ipns/loop.example.org' })).body).toMatchObject({ code: 'INVALID_VALUE', message: expect.stringMatching(/loop/) });
    expect((await put('loop.example.org', { value: '/ipns/_dnslink.loop.example.org/x' })).body).toMatchObject({ code: 'INVALID_VALUE', message: expect.stringMatching(/loop/) });
    expect((await put('loop.example.org', { value: `/ipns/${NOT_A_KEY}` })).body).toMatchObject({ code: 'INVALID_VALUE', message: expect.stringMatching(/not an IPNS key/) });
    expect((await put('loop.example.org', { value: `/ipns/${KEY}` })).status).toBe(200);
    expect((await put('loop.example.org', { value: '/ipns/other.example.org/x' })).status).toBe(200);

    for (const reason of ['line one\nline two', 'invoice\u200Efdp.exe', 'abc\u202Etxt.exe', 'x'.repeat(501)]) {
      const r = await put('reason.example.org', { reason });
      expect(r, JSON.stringify(reason.slice(0, 20))).toMatchObject({ status: 400, body: { code: 'INVALID_REASON' } });
    }
    expect((await put('reason.example.org', { reason: 'x'.repeat(500) })).status).toBe(200);
    const imported = await admin('POST', '/admin/v1/overrides/import', { overrides: [{ name: 'i.example.org', value: VALUE, reason: 'bad\u0007bell' }], reason: 'migration' });
    expect(imported.body).toMatchObject({ code: 'INVALID_IMPORT', message: expect.stringMatching(/U\+0007/) });
    for (const name of ['loop.example.org', 'reason.example.org']) await admin('DELETE', `/admin/v1/overrides/${name}`, { reason: 'cleanup' });
  });

  it('CLI: override set, import and flush refused with NEEDS_FORCE and the dry run (exit 2); --force accepted and audited', async () => {
    const set = await cli(['override', 'set', 'com', VALUE, '--reason', 'INC-2']);
    expect(set.code, set.stderr).toBe(2);
    expect(set.stderr).toMatch(/^dnslinkd: \[NEEDS_FORCE\] an override of com reaches wide: com has one label.*dry run: .*cache entries would be removed.*--force/);
    const forced = await cli(['override', 'set', 'com', VALUE, '--reason', 'INC-2', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    const table = await cli(['audit', '--name', 'com', '--limit', '1']);
    expect(table.stdout).toMatch(/override\.set \(forced\)\s+com\s+INC-2/);
    expect((await cli(['override', 'rm', 'com', '--reason', 'cleanup'])).code).toBe(0);

    const file = join(dir, 'export.json');
    writeFileSync(file, JSON.stringify([{ name: 'localhost', value: VALUE, ttl: 60 }, { name: 'fine.example.org', value: VALUE, ttl: 60 }]));
    const imp = await cli(['override', 'import', file, '--reason', 'migration']);
    expect(imp.code, imp.stderr).toBe(2);
    expect(imp.stderr).toMatch(/\[NEEDS_FORCE\] an import of 2 overrides reaches wide: localhost is a special-use name/);
    expect((await cli(['override', 'import', file, '--reason', 'migration', '--force'])).code).toBe(0);
    for (const name of ['localhost', 'fine.example.org']) await cli(['override', 'rm', name, '--reason', 'cleanup']);

    await warm(1);
    const flush = await cli(['flush', '--suffix', 'com']);
    expect(flush.code, flush.stderr).toBe(2);
    expect(flush.stderr).toMatch(/^dnslinkd: \[NEEDS_FORCE\] a flush of every name under com reaches wide: com has one label.*\(dry run: 0 entries would be removed\).*--force/);
    const forcedFlush = await cli(['flush', '--suffix', 'com', '--force']);
    expect(forcedFlush.code, forcedFlush.stderr).toBe(0);
    expect(forcedFlush.stdout).toMatch(/removed 0 cache entries \(every name under com\)/);
    expect((await cli(['flush', '--all'])).code).toBe(0);
    expect((await cli(['override', 'rm', 'x.example.org', '--reason', 'r', '--force'])).stderr).toMatch(/^dnslinkd: override rm has no flag --force\n/);

    // pin: what the one-label name resolves to now is in the cache; pinning it needs --force too.
    expect((await digAt(d.dnsPort, '_dnslink.intranet', 'TXT')).parsed?.status).toBe('NOERROR');
    const pin = await cli(['override', 'pin', 'intranet', '--reason', 'INC-3: freeze']);
    expect(pin.code, pin.stderr).toBe(2);
    expect(pin.stderr).toMatch(/^dnslinkd: \[NEEDS_FORCE\] a pin of intranet reaches wide: intranet has one label.*dry run: override \(none\) -> \/ipfs\/bafybei/);
    expect((await admin('GET', '/admin/v1/overrides/intranet')).status).toBe(404);
    const pinned = await cli(['override', 'pin', 'intranet', '--reason', 'INC-3: freeze', '--force', '--json']);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(JSON.parse(pinned.stdout)).toMatchObject({ name: 'intranet', after: { value: VALUE, pinned: true } });
    expect((await audit('intranet'))[0]).toMatchObject({ action: 'override.pin', force: true });
    await cli(['override', 'rm', 'intranet', '--reason', 'cleanup']);
  });
});
