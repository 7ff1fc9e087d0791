// The DNSLink service over a stage chain (a scripted one, no network): each TXT lookup is traced
// with the source that answered it, TTLs are what is left, the result as a whole is reported as
// stale, dns, cache or local, and upstream failures are flagged for the API's 502.
import { describe, expect, it } from 'vitest';
import { resultSourceOf, txtRecordsOf, DnslinkService, type LookupTrace } from '../../../src/core/dnslink-service.js';
import { EdeCode, Rcode } from '../../../src/dns/constants.js';
import type { AnswerSource, Resolution } from '../../../src/dns/resolution.js';
import type { Question } from '../../../src/dns/types.js';
import { ScriptedStage, soaRecord, txtRecord, upstreamsFailed } from '../../../src/stages/testing/harness.js';

const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';

/** A chain answering from a table of name -> resolution; other names are NXDOMAIN from upstream. */
function chainOf(table: Record<string, Resolution>): ScriptedStage {
  return new ScriptedStage((q: Question) => table[q.name] ?? { rcode: Rcode.NXDOMAIN, answers: [], authorities: [soaRecord(60, 60)], additionals: [], source: 'upstream', upstream: 'udp://up' });
}
const answer = (source: AnswerSource, name: string, value: string, ttl: number, extra: Partial<Resolution> = {}): Resolution => ({
  rcode: Rcode.NOERROR,
  answers: [txtRecord(name, ttl, value)],
  authorities: [],
  additionals: [],
  source,
  ...extra,
});

describe('DnslinkService', () => {
  it('traces every lookup with its source and upstream, and reports the result source', async () => {
    const chain = chainOf({ '_dnslink.site.example': answer('cache', '_dnslink.site.example', `dnslink=/ipfs/${CID}`, 60, { ttlAge: 15, origin: 'ens' }) });
    const traced = await new DnslinkService(chain).resolve('site.example', 'api');
    expect(traced.result).toEqual({ links: { ipfs: [{ identifier: CID, ttl: 45 }] }, log: [], txtEntries: [{ value: `/ipfs/${CID}`, ttl: 45 }] });
    expect(traced.lookups).toEqual([{ name: '_dnslink.site.example', rcode: 0, source: 'cache', origin: 'ens' }]);
    expect(traced).toMatchObject({ source: 'ens', cached: true, stale: false, upstreamFailed: false });
    expect(chain.asked[0]?.ctx.caller).toBe('api');
  });

  it('follows the NXDOMAIN fallback to the bare name, tracing both lookups', async () => {
    const chain = chainOf({ 'bare.example': answer('upstream', 'bare.example', `dnslink=/ipfs/${CID}`, 30, { upstream: 'udp://up' }) });
    const traced = await new DnslinkService(chain).resolve('bare.example', 'cli');
    expect(traced.lookups.map((l) => [l.name, l.rcode, l.source, l.upstream])).toEqual([
      ['_dnslink.bare.example', 3, 'upstream', 'udp://up'],
      ['bare.example', 0, 'upstream', 'udp://up'],
    ]);
    expect(traced).toMatchObject({ source: 'dns', cached: false });
  });

  it('marks a result stale when a lookup was served stale, with the stale TTL', async () => {
    const stale = answer('stale', '_dnslink.s.example', `dnslink=/ipfs/${CID}`, 300, { ttlOverride: 30, origin: 'upstream', ede: { code: EdeCode.STALE_ANSWER, text: 'upstreams failed' } });
    const traced = await new DnslinkService(chainOf({ '_dnslink.s.example': stale })).resolveForGateway('s.example', {}, 'api');
    expect(traced).toMatchObject({ source: 'dns', cached: true, stale: true, upstreamFailed: false, result: { value: `/ipfs/${CID}`, ttl: 30 } });
    expect(traced.lookups[0]?.ede).toEqual({ code: EdeCode.STALE_ANSWER, text: 'upstreams failed' });
  });

  it('flags upstream failure when a lookup failed with nothing stale', async () => {
    const traced = await new DnslinkService(chainOf({ '_dnslink.down.example': upstreamsFailed('all upstreams failed: timeout') })).resolveForGateway('down.example', {}, 'api');
    expect(traced).toMatchObject({ upstreamFailed: true, source: 'dns', result: { error: { code: 'DNS_RCODE_2' } } });
  });

  it('follows /ipns/ hops through the chain, one traced lookup each', async () => {
    const chain = chainOf({
      '_dnslink.a.example': answer('local', '_dnslink.a.example', 'dnslink=/ipns/b.example/x', 300),
      '_dnslink.b.example': answer('local', '_dnslink.b.example', `dnslink=/ipfs/${CID}/y`, 100),
    });
    const traced = await new DnslinkService(chain).resolveForGateway('a.example', {}, 'api');
    expect(traced.result).toMatchObject({ value: `/ipfs/${CID}/y/x`, ttl: 100 });
    expect(traced.lookups.map((l) => l.name)).toEqual(['_dnslink.a.example', '_dnslink.b.example']);
    expect(traced.source).toBe('local');
  });
});

describe('resultSourceOf', () => {
  const l = (source: AnswerSource, origin?: AnswerSource): LookupTrace => ({ name: 'x', rcode: 0, source, ...(origin ? { origin } : {}) });
  it('reports where the value comes from, a cached answer by its origin; override over ens-fallback over dns and ens; local only when everything was ours', () => {
    expect(resultSourceOf([l('cache', 'ens'), l('stale', 'ens')])).toBe('ens');
    expect(resultSourceOf([l('cache', 'ens-fallback')])).toBe('ens-fallback');
    expect(resultSourceOf([l('stale', 'upstream')])).toBe('dns');
    expect(resultSourceOf([l('cache', 'upstream'), l('upstream')])).toBe('dns');
    expect(resultSourceOf([l('error'), l('cache', 'upstream')])).toBe('dns');
    expect(resultSourceOf([l('local')])).toBe('local');
    expect(resultSourceOf([l('local'), l('cache', 'ens')])).toBe('ens');
    expect(resultSourceOf([l('override'), l('cache', 'ens-fallback')])).toBe('override');
    expect(resultSourceOf([])).toBe('dns');
  });
});

describe('txtRecordsOf', () => {
  it('joins each record\'s strings and gives the TTL left, skipping other types', () => {
    const res: Resolution = {
      rcode: 0,
      answers: [
        { name: 'x', type: 'TXT', class: 'IN', ttl: 100, data: [Buffer.from('dnslink=/ipfs/'), Buffer.from('abc')] },
        { name: 'x', type: 'A', class: 'IN', ttl: 100, data: '192.0.2.1' },
      ],
      authorities: [],
      additionals: [],
      source: 'cache',
      ttlAge: 40,
    };
    expect(txtRecordsOf(res, 'x')).toEqual([{ value: 'dnslink=/ipfs/abc', ttl: 60 }]);
    expect(txtRecordsOf({ ...res, ttlOverride: 30 }, 'X.')).toEqual([{ value: 'dnslink=/ipfs/abc', ttl: 30 }]);
  });

  it('takes only TXT records owned by the asked name or the end of its CNAME chain', () => {
    const res = (...answers: Resolution['answers']): Resolution => ({ rcode: 0, answers, authorities: [], additionals: [], source: 'cache' });
    const poison = txtRecord('_dnslink.victim.example', 60, 'dnslink=/ipfs/X');
    expect(txtRecordsOf(res(poison), '_dnslink.e.poison.example')).toEqual([]);
    const chained = res(
      poison,
      { name: '_dnslink.E.poison.example', type: 'CNAME', class: 'IN', ttl: 60, data: 'target.other.example' },
      txtRecord('target.other.example', 30, `dnslink=/ipfs/${CID}`),
    );
    expect(txtRecordsOf(chained, '_dnslink.e.poison.example')).toEqual([{ value: `dnslink=/ipfs/${CID}`, ttl: 30 }]);
  });
});

describe('DnslinkService and records of other names', () => {
  it('finds no DNSLink in an answer that holds only another name\'s TXT record', async () => {
    const foreign = answer('upstream', '_dnslink.victim.example', 'dnslink=/ipfs/X', 60, { upstream: 'udp://up' });
    const chain = chainOf({ '_dnslink.e.poison.example': foreign, 'e.poison.example': answer('upstream', 'victim.example', 'dnslink=/ipfs/X', 60) });
    const service = new DnslinkService(chain);
    const gateway = await service.resolveForGateway('e.poison.example', {}, 'api');
    expect(gateway.result).toMatchObject({ error: { code: expect.any(String) } });
    expect(JSON.stringify(gateway.result)).not.toContain('/ipfs/X');
    const plain = await service.resolve('e.poison.example', 'cli', 'dnslink.dev');
    expect(JSON.stringify(plain.result)).not.toContain('/ipfs/X');
  });
});

describe('DnslinkService name rules', () => {
  const chain = () => chainOf({ '_dnslink.xn--bcher-kva.example': answer('cache', '_dnslink.xn--bcher-kva.example', `dnslink=/ipfs/${CID}`, 60) });

  it('looks host names up as punycode and reports the name and what was done to it', async () => {
    const c = chain();
    const traced = await new DnslinkService(c).resolveForGateway('https://bücher.example/', {}, 'api');
    expect(traced).toMatchObject({ domain: 'xn--bcher-kva.example', result: { value: `/ipfs/${CID}` } });
    expect(traced.notes).toHaveLength(1);
    expect(c.asked.map((a) => a.question.name)).toEqual(['_dnslink.xn--bcher-kva.example']);
  });

  it('asks nothing for a name no host holds, and says why', async () => {
    const c = chain();
    const gateway = await new DnslinkService(c).resolveForGateway('a b.example', {}, 'api');
    expect(gateway.result).toMatchObject({ error: { code: 'INVALID_DOMAIN', reason: 'INVALID_CHARACTER' } });
    const all = await new DnslinkService(c).resolve('a\u0000b.example', 'cli');
    expect(all.result).toMatchObject({ error: { code: 'INVALID_DOMAIN', reason: 'INVALID_CHARACTER' } });
    expect(c.calls).toBe(0);
  });

  it('keeps the dnslink.dev reference rules when asked: raw bytes reach the chain', async () => {
    const c = chain();
    await new DnslinkService(c).resolve('bücher.example', 'cli', 'dnslink.dev');
    expect(c.asked[0]?.question.name).toBe('_dnslink.bücher.example');
  });
});
