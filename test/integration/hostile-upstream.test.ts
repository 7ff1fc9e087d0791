// Answers only from the asked name, against a hostile upstream of the test's own
// (support/hostile-upstream.ts) that answers with records owned by other names in all three
// sections: the resolution API, `dnslinkd resolve` (plain, --gateway, --json), dig through the DNS
// listener (first answer and the cached one), the control plane's current answer, and the scrub
// metric. Legitimate CNAME chains, one leaving the zone and coming back, still resolve.
import * as dnsPacket from 'dns-packet';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, runCli, startDnslinkd, startNsd, stopAll, txtValue, zone } from './support/index.js';
import type { DigResult, DnslinkdHandle, NsdHandle } from './support/index.js';
import { startHostileUpstream, type HostileUpstream, type ScriptedAnswer } from './support/hostile-upstream.js';

const ok = requireBinaries('dig') && requireBuild();

/** A CIDv1 (raw, sha256) of `text`: a valid value no other test uses. */
const cidOf = async (text: string) => CID.create(1, 0x55, await sha256.digest(new TextEncoder().encode(text))).toString();

const txt = (name: string, value: string): dnsPacket.Answer => ({ name, type: 'TXT', class: 'IN', ttl: 300, data: [value] });
const cname = (name: string, target: string): dnsPacket.Answer => ({ name, type: 'CNAME', class: 'IN', ttl: 300, data: target });
const ns = (name: string, host: string): dnsPacket.Answer => ({ name, type: 'NS', class: 'IN', ttl: 300, data: host });
const a = (name: string, address: string): dnsPacket.Answer => ({ name, type: 'A', class: 'IN', ttl: 300, data: address });
const soa = (zone: string): dnsPacket.Answer => ({
  name: zone,
  type: 'SOA',
  class: 'IN',
  ttl: 300,
  data: { mname: `ns1.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 300 },
});

/** `owner TYPE data` of each record dig printed, owner without its trailing dot. */
const shown = (records: DigResult['messages'][number]['answers']) => records.map((r) => `${r.name.replace(/\.$/, '')} ${r.type} ${r.type === 'TXT' ? txtValue(r.data) : r.data}`);

describe.skipIf(!ok)('answers only from the asked name (hostile upstream)', () => {
  let X: string;
  let OWN: string;
  let CHAIN: string;
  let BACK: string;
  let up: HostileUpstream;
  let d: DnslinkdHandle;

  beforeAll(async () => {
    [X, OWN, CHAIN, BACK] = await Promise.all(['victim', 'own', 'chain', 'back'].map(cidOf)) as [string, string, string, string];
    const poison = (name: string) => txt(name, `dnslink=/ipfs/${X}`);
    const script: Record<string, ScriptedAnswer> = {
      // Only another name's record, at _dnslink. and at the bare name (with the zone's SOA).
      '_dnslink.e.poison.example': { answers: [poison('_dnslink.victim.example')], authorities: [soa('poison.example')] },
      'e.poison.example': { answers: [poison('victim.example')], authorities: [soa('poison.example')] },
      // The asked name's own record, and foreign records in all three sections.
      '_dnslink.all.poison.example': {
        answers: [txt('_dnslink.all.poison.example', `dnslink=/ipfs/${OWN}`), poison('_dnslink.victim.example')],
        authorities: [ns('poison.example', 'ns1.poison.example'), ns('victim.example', 'ns.attacker.example'), soa('victim.example'), poison('_dnslink.victim.example')],
        additionals: [a('ns1.poison.example', '192.0.2.53'), a('ns.attacker.example', '198.51.100.1'), poison('_dnslink.victim.example')],
      },
      // A legitimate CNAME chain, with a foreign record beside it.
      '_dnslink.chain.poison.example': {
        answers: [cname('_dnslink.chain.poison.example', '_dnslink.target.other.example'), txt('_dnslink.target.other.example', `dnslink=/ipfs/${CHAIN}`), poison('_dnslink.victim.example')],
      },
      // A chain that leaves the zone and comes back to it, records out of order, foreign ones between.
      '_dnslink.away.poison.example': {
        answers: [
          txt('_dnslink.back.poison.example', `dnslink=/ipfs/${BACK}`),
          poison('_dnslink.victim.example'),
          cname('hop.elsewhere.example', '_dnslink.back.poison.example'),
          poison('_dnslink.away.poison.example.victim.example'),
          cname('_dnslink.away.poison.example', 'hop.elsewhere.example'),
        ],
      },
      // A chain that loops back to the asked name: no data, whatever TXT sits on the loop.
      '_dnslink.loop.poison.example': {
        answers: [cname('_dnslink.loop.poison.example', 'x.loop.poison.example'), cname('x.loop.poison.example', '_dnslink.loop.poison.example'), poison('x.loop.poison.example')],
      },
    };
    up = await startHostileUpstream(script);
    d = await startDnslinkd({ upstreams: [up.url], config: { upstreamTimeoutMs: 1000 } });
  });
  afterAll(async () => {
    await d?.stop();
    await up?.close();
    await stopAll();
  });

  const api = async (name: string) => {
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("/v1/dnslink never returns a value from another name's TXT record", async () => {
    const r = await api('e.poison.example');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ code: 'NO_DNSLINK' });
    expect(JSON.stringify(r.body)).not.toContain(X);
    const loop = await api('loop.poison.example');
    expect(loop.status).not.toBe(200);
    expect(JSON.stringify(loop.body)).not.toContain(X);
  });

  it('dnslinkd resolve (plain, --gateway, --json) finds no DNSLink there; plain and --gateway exit 3 (no DNSLink)', async () => {
    for (const flags of [[], ['--gateway'], ['--json'], ['--gateway', '--json']]) {
      const r = await runCli(['resolve', 'e.poison.example', '--upstream', up.url, ...flags]);
      // --json always exits 0 (the dnslink.dev harness reads any other code as a crash): its body says.
      expect(r.code, `${flags.join(' ')}: ${r.stdout}${r.stderr}`).toBe(flags.includes('--json') ? 0 : 3);
      expect(`${r.stdout}${r.stderr}`).not.toContain(X);
      if (flags.includes('--json')) expect(JSON.parse(r.stdout)).toMatchObject(flags.includes('--gateway') ? { error: { code: 'NO_DNSLINK' } } : { links: {} });
    }
  }, 60_000);

  it('dig: foreign records are absent from all three sections, in the first answer and in the cached one', async () => {
    const expected = {
      status: 'NOERROR',
      answers: [`_dnslink.all.poison.example TXT dnslink=/ipfs/${OWN}`],
      authority: ['poison.example NS ns1.poison.example.'],
      additional: ['ns1.poison.example A 192.0.2.53'],
    };
    const before = await d.metrics();
    let asked = 0;
    for (let i = 0; i < 2; i++) {
      const m = (await digAt(d.dnsPort, '_dnslink.all.poison.example', 'TXT')).parsed!;
      expect({ status: m.status, answers: shown(m.answers), authority: shown(m.authority), additional: shown(m.additional) }).toEqual(expected);
    }
    expect(up.asked('_dnslink.all.poison.example')).toBe(1); // the second answer was the cached one
    const scrubbed = (text: string, section: string) => Number(new RegExp(`^dnslinkd_upstream_scrubbed_records_total\\{section="${section}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    const after = await d.metrics();
    expect(['answer', 'authority', 'additional'].map((s) => scrubbed(after, s) - scrubbed(before, s))).toEqual([1, 3, 2]);

    // Only another name's record: an empty answer with the zone's SOA, cached as such.
    for (let i = 0; i < 2; i++) {
      const m = (await digAt(d.dnsPort, '_dnslink.e.poison.example', 'TXT')).parsed!;
      expect([m.status, shown(m.answers), shown(m.authority).map((l) => l.split(' ').slice(0, 2).join(' '))]).toEqual(['NOERROR', [], ['poison.example SOA']]);
      if (i === 0) asked = up.asked('_dnslink.e.poison.example');
    }
    expect(up.asked('_dnslink.e.poison.example')).toBe(asked); // the second answer was the cached one
  });

  it('a legitimate CNAME chain still resolves, also one that leaves the zone and comes back', async () => {
    expect((await api('chain.poison.example')).body).toMatchObject({ value: `/ipfs/${CHAIN}` });
    expect((await api('away.poison.example')).body).toMatchObject({ value: `/ipfs/${BACK}` });
    const m = (await digAt(d.dnsPort, '_dnslink.away.poison.example', 'TXT')).parsed!;
    expect(shown(m.answers)).toEqual([
      `_dnslink.back.poison.example TXT dnslink=/ipfs/${BACK}`,
      'hop.elsewhere.example CNAME _dnslink.back.poison.example.',
      '_dnslink.away.poison.example CNAME hop.elsewhere.example.',
    ]);
    const r = await runCli(['resolve', 'chain.poison.example', '--upstream', up.url, '--gateway']);
    expect([r.code, r.stdout.split('\t')[0]]).toEqual([0, `/ipfs/${CHAIN}`]);
  });

  it("the control plane's current answer for a name never comes from another name's record", async () => {
    await digAt(d.dnsPort, '_dnslink.e.poison.example', 'TXT');
    const dry = await d.admin('PUT', '/admin/v1/overrides/e.poison.example?dryRun=true', { value: `/ipfs/${OWN}`, reason: 'hostile upstream test' });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, answers: { before: null, after: `/ipfs/${OWN}` } });
    const cached = await d.admin('GET', '/admin/v1/cache/_dnslink.e.poison.example');
    expect(cached.status).toBe(200);
    expect(JSON.stringify(cached.body)).not.toContain(X);
  });
});

describe.skipIf(!ok || !requireBinaries('nsd'))('a CNAME chain from a real authoritative server (nsd)', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  beforeAll(async () => {
    nsd = await startNsd();
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`] });
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('_dnslink.cname.dnslink.test CNAME _dnslink.plain.dnslink.test: the TXT at the chain end is the value, the chain is served', async () => {
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/cname.dnslink.test`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ value: `/ipfs/${zone.names.plain.cid}` });
    const m = (await digAt(d.dnsPort, '_dnslink.cname.dnslink.test', 'TXT')).parsed!;
    expect(shown(m.answers)).toEqual(['_dnslink.cname.dnslink.test CNAME _dnslink.plain.dnslink.test.', `_dnslink.plain.dnslink.test TXT ${zone.names.plain.values[0]}`]);
  });
});
