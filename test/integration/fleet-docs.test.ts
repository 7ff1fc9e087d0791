// docs/fleet.md's "Migrate from the embedded store", run as written: its `sh fleet` blocks go to
// bash with `dnslinkd` on the PATH, in a working folder of their own: the export against a real
// single instance (embedded store) holding overrides, the import through one instance of a fleet of
// two sharing a real redis-server, the check on the other one; both instances then answer the
// overrides over DNS, and the audit log has one `override.import` record per override.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, startDnslinkd, startNsd, startRedis, stopAll, txtValue, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';
import { dnslinkdOnPath, runShellSnippet, taggedBlocks } from './support/doc-snippets.js';

const ok = requireBinaries('nsd', 'dig', 'redis-server', 'redis-cli', 'bash') && requireBuild();
const n = zone.names;
const TOKEN = 'fleet-docs-token-0123456789abcdef';
const bare = (fixtureName: string) => fixtureName.replace(/^_dnslink\./, '');
/** Two overrides on the single instance, each with a value DNS does not give. */
const OVERRIDES = [
  { name: bare(n.plain.name), value: `/ipfs/${n.multi.cid}` },
  { name: bare(n.hop3!.name), value: `/ipfs/${n.bare.cid}` },
];

describe.skipIf(!ok)('docs/fleet.md: migrate from the embedded store, as written', () => {
  let nsd: NsdHandle;
  let redis: RedisHandle;
  let single: DnslinkdHandle;
  const fleet: DnslinkdHandle[] = [];
  let work: string;
  const bin = dnslinkdOnPath();
  const blocks = taggedBlocks('docs/fleet.md', 'fleet');

  /** A block run by bash in the working folder, its `dnslinkd` commands pointed at one instance as that host's config would. */
  const runOn = async (d: DnslinkdHandle, block: string) => {
    const r = await runShellSnippet(block, { cwd: work, env: { PATH: bin.path, DNSLINKD_ADMIN__LISTEN: `127.0.0.1:${d.adminPort}`, DNSLINKD_ADMIN_TOKEN: TOKEN } });
    expect(r.code, `${block}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const dnsValue = async (d: DnslinkdHandle, name: string) => {
    const r = await digAt(d.dnsPort, `_dnslink.${name}`, 'TXT');
    return { ede: r.parsed?.ede?.code, values: (r.parsed?.answers ?? []).map((a) => txtValue(a.data)) };
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'dnslinkd-fleet-docs-'));
    nsd = await startNsd();
    const upstreams = [`udp://127.0.0.1:${nsd.port}`];
    single = await startDnslinkd({ upstreams, env: { DNSLINKD_ADMIN_TOKEN: TOKEN } });
    for (const o of OVERRIDES) expect((await single.admin('PUT', `/admin/v1/overrides/${o.name}`, { value: o.value, reason: 'before the fleet' })).status).toBe(200);
    redis = await startRedis();
    for (let i = 0; i < 2; i++) fleet.push(await startDnslinkd({ upstreams, env: { DNSLINKD_ADMIN_TOKEN: TOKEN }, config: { state: { redis: redis.url, syncIntervalMs: 1000 } } }));
  });
  afterAll(async () => {
    await single?.stop();
    for (const d of fleet) await d.stop();
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
    bin.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('has the three blocks the section describes: export, import, check', () => {
    expect(blocks.map((b) => b.trim().split(' ').slice(0, 3).join(' '))).toEqual(['dnslinkd override export', 'dnslinkd override import', 'dnslinkd override ls']);
  });

  it('moves the overrides into the fleet: every instance answers them, the audit log has each import', async () => {
    const [exportBlock, importBlock, checkBlock] = blocks;
    for (const d of fleet) expect((await dnsValue(d, OVERRIDES[0]!.name)).values).toEqual(n.plain.values); // DNS, before

    // 1. Export on the single instance: the file the page names, holding its overrides.
    await runOn(single, exportBlock!);
    const file = join(work, 'overrides.json');
    expect(existsSync(file)).toBe(true);
    const exported = JSON.parse(readFileSync(file, 'utf8')) as { name: string; value: string }[];
    expect(exported.map((o) => [o.name, o.value]).sort()).toEqual(OVERRIDES.map((o) => [o.name, o.value]).sort());

    // 3. Import through the first instance of the fleet; the second answers them over DNS.
    await runOn(fleet[0]!, importBlock!);
    for (const d of fleet) {
      for (const o of OVERRIDES) {
        await waitFor(`${o.name} overridden on :${d.dnsPort}`, async () => {
          const r = await dnsValue(d, o.name);
          return r.ede === 4 && r.values.join() === `dnslink=${o.value}`;
        }, 5_000, { intervalMs: 50 });
      }
    }

    // The check on the other instance lists both overrides.
    const listed = (await runOn(fleet[1]!, checkBlock!)).split('\n');
    for (const o of OVERRIDES) expect(listed.some((line) => line.includes(o.name) && line.includes(o.value)), `${o.name} in:\n${listed.join('\n')}`).toBe(true);

    // One override.import audit record per override, with the page's reason.
    const audit = await fleet[1]!.admin('GET', '/admin/v1/audit?limit=50');
    const records = (audit.body.records as { action: string; name: string; reason: string }[]).filter((r) => r.action === 'override.import');
    expect(records.map((r) => r.name).sort()).toEqual(OVERRIDES.map((o) => o.name).sort());
    for (const r of records) expect(r.reason).toBe('migrate to the fleet store');
  }, 40_000);

  it('"delete it in Redis": the repair line removes a record written by hand, and every instance stops reporting it', async () => {
    const [repair] = taggedBlocks('docs/fleet.md', 'fleet-repair');
    expect(repair).toBeDefined();
    // The page's Redis URL and name stand for the reader's: the only substitutions.
    const line = repair!.replace(/redis:\/\/\S+/, redis.url).replace(/\bexample\.com\b/g, 'broken.example');
    const cli = await runShellSnippet(`redis-cli -u "${redis.url}" HSET dnslinkd:overrides broken.example 'not JSON'`, { cwd: work });
    expect(cli.code, cli.stderr).toBe(0);
    const invalid = async (d: DnslinkdHandle) => ((await d.admin('GET', '/admin/v1/status')).body.invalidRecords as { count: number }).count;
    for (const d of fleet) await waitFor('the hand-written record reported', async () => (await invalid(d)) === 1, 5_000, { intervalMs: 100 });
    await runOn(fleet[0]!, line);
    for (const d of fleet) {
      await waitFor('no invalid record reported', async () => (await invalid(d)) === 0, 5_000, { intervalMs: 100 });
      expect(await d.metric('dnslinkd_control_invalid_records')).toBe(0);
    }
  }, 20_000);
});
