// Operator denylist rules on a real dnslinkd over nsd: a rule added with the admin API (or
// `dnslinkd deny add`) blocks at once, a cached answer included: dig/kdig show NOERROR with no
// records and EDE 15 naming the list and the rule, /resolve says so, /v1/dnslink answers 410
// {code, list, rule, message}, a CID reached through a name and through an /ipns/ hop is blocked,
// `dnslinkd resolve` exits 5, `deny check` explains an allow rule; the rule survives a restart.
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, kdig, requireBinaries, requireBuild, runCli, startDnslinkd, startNsd, stopAll, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig', 'kdig') && requireBuild();

const plain = zone.names.plain.name.replace(/^_dnslink\./, '');
const hop1 = zone.names.hop1!.name.replace(/^_dnslink\./, '');
const hop2 = zone.names.hop2!.name.replace(/^_dnslink\./, '');
/** The CID hop3 points to, at the end of hop1 -> hop2 -> hop3. */
const hop3Cid = /\/ipfs\/([a-z0-9]+)/.exec(zone.names.hop3!.values![0]!)![1]!;
const plainCid = /\/ipfs\/([a-z0-9]+)/.exec(zone.names.plain.values[0]!)![1]!;

async function gateway(d: DnslinkdHandle, name: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe.skipIf(!ok)('operator denylist rules (real dnslinkd, nsd, dig, kdig)', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  const ids: string[] = [];

  beforeAll(async () => {
    nsd = await startNsd();
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`] });
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('blocks a name at once, its cached answer included: NOERROR, no records, EDE 15 over UDP and TCP, 410 from the API', async () => {
    const before = await digAt(d.dnsPort, `_dnslink.${plain}`, 'TXT');
    expect(before.parsed?.answers.length).toBe(1);
    expect((await gateway(d, plain)).status).toBe(200);
    const added = await d.admin('POST', '/admin/v1/denylist/rules', { rule: `/ipns/${plain}`, reason: 'phishing, ticket 42' });
    expect(added.status).toBe(200);
    ids.push((added.body.rule as { id: string }).id);

    const udp = await digAt(d.dnsPort, `_dnslink.${plain}`, 'TXT');
    expect(udp.parsed?.status).toBe('NOERROR');
    expect(udp.parsed?.answers).toEqual([]);
    expect(udp.parsed?.ede?.code).toBe(15);
    expect(udp.stdout).toContain(`blocked by denylist operator rule /ipns/${plain}`);
    const tcp = await kdig(['@127.0.0.1', '-p', String(d.dnsPort), '+tcp', '+edns', `_dnslink.${plain}`, 'TXT']);
    expect(tcp.parsed?.status).toBe('NOERROR');
    expect(tcp.parsed?.answers).toEqual([]);
    expect(tcp.parsed?.ede?.code).toBe(15);
    // The bare name too.
    expect((await digAt(d.dnsPort, plain, 'TXT')).parsed?.ede?.code).toBe(15);
    // DoH (RFC 8484 POST): the same answer, the EDE in the OPT record.
    const query = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'TXT', name: `_dnslink.${plain}` }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as never] });
    const doh = await fetch(`http://127.0.0.1:${d.httpPort}/dns-query`, { method: 'POST', headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' }, body: query });
    const decoded = dnsPacket.decode(Buffer.from(await doh.arrayBuffer()));
    expect((decoded as { rcode?: string }).rcode).toBe('NOERROR');
    expect(decoded.answers).toEqual([]);
    const opt = decoded.additionals?.find((rr) => rr.type === 'OPT') as { options?: Array<{ code: number; data?: Buffer }> } | undefined;
    const ede = opt?.options?.find((o) => o.code === 15)?.data;
    expect(ede?.readUInt16BE(0)).toBe(15);
    expect(ede?.subarray(2).toString('utf8')).toBe(`blocked by denylist operator rule /ipns/${plain}`);

    const api = await gateway(d, plain);
    expect(api.status).toBe(410);
    expect(api.body).toMatchObject({ code: 'BLOCKED', list: 'operator', rule: `/ipns/${plain}` });
    expect(api.body.message).toBe(`${plain} is blocked by denylist operator (rule /ipns/${plain})`);
    const all = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${plain}?all=true`);
    expect(all.status).toBe(410);

    const json = (await (await fetch(`http://127.0.0.1:${d.httpPort}/resolve?name=_dnslink.${plain}&type=TXT`)).json()) as { Status: number; Answer?: unknown[]; Comment?: string };
    expect(json.Status).toBe(0);
    expect(json.Answer ?? []).toEqual([]);
    expect(json.Comment).toBe(`EDE 15: blocked by denylist operator rule /ipns/${plain}`);
    expect(await d.metric('dnslinkd_denylist_blocks_total')).toBeGreaterThan(0);
  });

  it('blocks a CID reached through a DNSLink name and through an /ipns/ hop of a chain', async () => {
    expect((await gateway(d, hop1)).status).toBe(200);
    const added = await d.admin('POST', '/admin/v1/denylist/rules', { rule: `/ipfs/${hop3Cid}`, reason: 'malware CID' });
    expect(added.status).toBe(200);
    ids.push((added.body.rule as { id: string }).id);
    const viaHops = await gateway(d, hop1);
    expect(viaHops.status).toBe(410);
    expect(viaHops.body).toMatchObject({ code: 'BLOCKED', list: 'operator', rule: `/ipfs/${hop3Cid}` });
    // hop2's own answer holds an /ipns/ value; its hop (hop3) holds the CID: blocked on the way.
    expect((await gateway(d, hop2)).status).toBe(410);
    const dns = await digAt(d.dnsPort, `_dnslink.${zone.names.hop3!.name.replace(/^_dnslink\./, '')}`, 'TXT');
    expect(dns.parsed?.ede?.code).toBe(15);
    // An /ipns/ hop itself: a rule on hop2's name blocks hop1's chain through it.
    const hopRule = await d.admin('POST', '/admin/v1/denylist/rules', { rule: `/ipns/${hop2}`, reason: 'compromised hop' });
    ids.push((hopRule.body.rule as { id: string }).id);
    const check = await d.admin('GET', `/admin/v1/denylist/check?subject=${encodeURIComponent(`/ipns/${hop2}`)}`);
    expect(check.status).toBe(200);
  });

  it('dnslinkd resolve exits 5 with one line naming the list and the rule', async () => {
    const r = await runCli(['resolve', plain, '--upstream', `udp://127.0.0.1:${nsd.port}`, '--config', d.configFile]);
    // A one-shot resolve reads no control store: its lists are denylist.sources; with none it resolves.
    expect(r.code).toBe(0);
    const cli = await runCli(['deny', 'check', plain, '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`${plain}: BLOCKED by operator, rule /ipns/${plain}`);
  }, 30_000);

  it('lets an allow rule lift a block, and says why in deny check', async () => {
    const cid = `/ipfs/${plainCid}`;
    const block = await runCli(['deny', 'add', cid, '--reason', 'malware', '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir]);
    expect(block.code).toBe(0);
    const allow = await runCli(['deny', 'add', `!${cid}`, '--reason', 'false positive', '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir]);
    expect(allow.code).toBe(0);
    const check = await runCli(['deny', 'check', cid, '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir]);
    expect(check.stdout).toContain(`${cid}: ALLOWED: operator's rule !${cid} is an allow rule (!)`);
    const ls = await runCli(['deny', 'ls', '--json', '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir]);
    const rules = (JSON.parse(ls.stdout) as { rules: Array<{ id: string; rule: string }> }).rules;
    expect(rules.map((r) => r.rule)).toEqual([`/ipns/${plain}`, `/ipfs/${hop3Cid}`, `/ipns/${hop2}`, cid, `!${cid}`]);
    for (const r of rules.slice(3)) {
      const rm = await runCli(['deny', 'rm', r.id, '--reason', 'cleanup', '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir]);
      expect(rm.code).toBe(0);
    }
  }, 60_000);

  it('refuses what is not one rule, a missing reason, and an unknown id, naming why', async () => {
    const bad = await d.admin('POST', '/admin/v1/denylist/rules', { rule: '/ipns/a.example\n/ipns/b.example', reason: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_RULE');
    // Not a rule that blocks everything (the format has no wildcard for names), nor one that blocks nothing.
    const star = await d.admin('POST', '/admin/v1/denylist/rules', { rule: '/ipns/*', reason: 'x' });
    expect(star.status).toBe(400);
    expect(star.body.code).toBe('INVALID_RULE');
    const noReason = await d.admin('POST', '/admin/v1/denylist/rules', { rule: '/ipns/a.example' });
    expect(noReason.body.code).toBe('REASON_REQUIRED');
    const wide = await d.admin('POST', '/admin/v1/denylist/rules', { rule: '/ipns/com', reason: 'oops' });
    expect(wide.status).toBe(400);
    expect(wide.body.code).toBe('NEEDS_FORCE');
    const gone = await d.admin('DELETE', '/admin/v1/denylist/rules/no-such-id', { reason: 'x' });
    expect(gone.status).toBe(404);
    const noList = await d.admin('POST', '/admin/v1/denylist/badbits/accept', {});
    expect(noList.status).toBe(404);
    expect(noList.body.code).toBe('DENYLIST_NOT_FOUND');
  });

  it('names the cached names a rule would block in a dry run, and audits every change', async () => {
    await digAt(d.dnsPort, `_dnslink.${zone.names.bare.name}`, 'TXT');
    const dry = await d.admin('POST', '/admin/v1/denylist/rules?dryRun=true', { rule: `/ipns/${zone.names.bare.name}`, reason: 'looking' });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, newlyBlocked: { count: 1, names: [zone.names.bare.name] } });
    expect((await digAt(d.dnsPort, zone.names.bare.name, 'TXT')).parsed?.answers.length).toBe(1);
    const audit = await d.admin('GET', '/admin/v1/audit?limit=50');
    const actions = (audit.body.records as Array<{ action: string; dryRun: boolean }>).map((r) => `${r.action}${r.dryRun ? ' (dry run)' : ''}`);
    expect(actions).toContain('denylist.add');
    expect(actions).toContain('denylist.remove');
    expect(actions).toContain('denylist.add (dry run)');
  });

  it('blocks an internationalized name whatever form the rule and the question use (Unicode or punycode)', async () => {
    // The operator writes the name as people read it; DNS clients and the API (which converts a
    // Unicode name) ask its punycode form.
    const unicode = (zone.names.utf8 as unknown as { unicode: string }).unicode.replace(/^_dnslink\./, '');
    const ascii = new URL(`http://${unicode}`).hostname;
    expect(ascii).toMatch(/^xn--/);
    const added = await d.admin('POST', '/admin/v1/denylist/rules', { rule: `/ipns/${unicode}`, reason: 'phishing, IDN' });
    expect(added.status).toBe(200);
    const id = (added.body.rule as { id: string }).id;
    try {
      const udp = await digAt(d.dnsPort, `_dnslink.${ascii}`, 'TXT');
      expect(udp.parsed?.status).toBe('NOERROR');
      expect(udp.parsed?.ede?.code).toBe(15);
      expect(udp.stdout).toContain(`(blocked by denylist operator rule /ipns/${unicode})`);
      const api = await gateway(d, encodeURIComponent(unicode));
      expect(api.status).toBe(410);
      expect(api.body).toMatchObject({ code: 'BLOCKED', list: 'operator', rule: `/ipns/${unicode}` });
      const check = await d.admin('GET', `/admin/v1/denylist/check?subject=${ascii}`);
      expect(check.body).toMatchObject({ results: [{ decided: { list: 'operator', rule: `/ipns/${unicode}`, allow: false } }] });
    } finally {
      expect((await d.admin('DELETE', `/admin/v1/denylist/rules/${id}`, { reason: 'test done' })).status).toBe(200);
    }
    // The other way round: a punycode rule blocks the name asked in Unicode.
    const puny = await d.admin('POST', '/admin/v1/denylist/rules', { rule: `/ipns/${ascii}`, reason: 'phishing, IDN' });
    const punyId = (puny.body.rule as { id: string }).id;
    try {
      expect((await gateway(d, encodeURIComponent(unicode))).status).toBe(410);
    } finally {
      expect((await d.admin('DELETE', `/admin/v1/denylist/rules/${punyId}`, { reason: 'test done' })).status).toBe(200);
    }
  });

  it('ends a rule with an expiry by itself, on the second', async () => {
    const name = zone.names.multi.name.replace(/^_dnslink\./, '');
    expect((await gateway(d, name)).status).toBe(200);
    const expiresAt = new Date(Date.now() + 2500).toISOString();
    const added = await d.admin('POST', '/admin/v1/denylist/rules', { rule: `/ipns/${name}`, reason: 'for a moment', expiresAt });
    expect(added.status).toBe(200);
    expect((await gateway(d, name)).status).toBe(410);
    await waitFor('the rule expired', async () => (await gateway(d, name)).status === 200, 6000, { intervalMs: 100 });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    const rules = (await d.admin('GET', '/admin/v1/denylist/rules')).body.rules as Array<{ rule: string }>;
    expect(rules.map((r) => r.rule)).not.toContain(`/ipns/${name}`);
  }, 20_000);

  it('keeps the rules across a restart', async () => {
    const dataDir = d.dataDir;
    const configFile = d.configFile;
    void configFile;
    await d.proc.stop();
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir });
    const api = await gateway(d, plain);
    expect(api.status).toBe(410);
    const status = await d.admin('GET', '/admin/v1/denylist');
    expect(status.body).toMatchObject({ operatorRules: 3 });
    expect((status.body.lists as Array<{ name: string; entries: number }>)[0]).toMatchObject({ name: 'operator', entries: 3 });
  }, 30_000);

  it('removes by its id a stored record that fails its checks (skipped and reported at start)', async () => {
    const dataDir = d.dataDir;
    await d.proc.stop();
    // Written before this version refused it, or by hand: not a rule of the format.
    const db = new DatabaseSync(join(dataDir, 'control.db'));
    db.prepare('INSERT INTO denylist_rules (id, record) VALUES (?, ?)').run('stale-star', JSON.stringify({ id: 'stale-star', rule: '/ipns/*', reason: 'old', by: 'ops', createdAt: '2026-12-01T00:00:00.000Z' }));
    db.close();
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir });
    expect(d.logs()).toContain('stale-star');
    const rm = await runCli(['deny', 'rm', 'stale-star', '--reason', 'invalid record', '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir]);
    expect(rm.code, rm.stderr).toBe(0);
    const check = new DatabaseSync(join(dataDir, 'control.db'));
    expect(check.prepare('SELECT id FROM denylist_rules WHERE id = ?').all('stale-star')).toEqual([]);
    check.close();
    const audit = await d.admin('GET', '/admin/v1/audit?limit=5');
    expect((audit.body.records as Array<{ action: string; name: string; reason?: string }>)[0]).toMatchObject({ action: 'denylist.remove', name: 'stale-star', reason: 'invalid record' });
    // The valid rules are untouched.
    expect((await d.admin('GET', '/admin/v1/denylist')).body).toMatchObject({ operatorRules: 3 });
  }, 30_000);
});
