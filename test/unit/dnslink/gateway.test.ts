import { describe, expect, it } from 'vitest';
import {
  isGatewayFailure,
  joinContentPaths,
  resolveGatewayValue,
  type GatewayResult,
} from '../../../src/dnslink/gateway.js';
import type { TxtLookup, TxtLookupResult } from '../../../src/dnslink/resolve.js';
import { fakeLookup, rcode, txt } from './fake-lookup.js';

const CID_V0 = 'QmPChd2hVbrJ6bfo3WBcTW4iZnpHm8TEzWkLHmLpXhF68A';
const CID_V1 = 'bafybeiam2jkwnk42kyvgce33hekrmtr2bkmoozx5ttw66lwljizv2josam';
const IPNS_KEY_BASE36 = 'k51qzi5t0l4yioe48rdkrnle71f20fa2mi73j6110dcl77m60zc1vv1wxkgxs7';
const IPNS_KEY_BASE32 = 'bafzaajaha4dqobyha4dqobyha4dqobyha4dqobyha4dqobyha4dqobyha4dqobyh';

const zone = (entries: Array<[string, TxtLookupResult]>) => fakeLookup(new Map(entries));

function expectFailure(result: GatewayResult, code: string) {
  if (!isGatewayFailure(result)) {
    throw new Error(`expected ${code}, got ${JSON.stringify(result)}`);
  }
  expect(result.error.code).toBe(code);
  expect(result.error.message.length).toBeGreaterThan(0);
  return result;
}

/** name0 -> /ipns/name1 -> ... -> name<n-1> -> /ipfs/CID: a chain of n DNSLink lookups. */
function chainOf(length: number): TxtLookup {
  const entries: Array<[string, TxtLookupResult]> = [];
  for (let index = 0; index < length - 1; index += 1) {
    entries.push([`_dnslink.n${index}.example`, txt([`dnslink=/ipns/n${index + 1}.example`], 1000 - index)]);
  }
  entries.push([`_dnslink.n${length - 1}.example`, txt([`dnslink=/ipfs/${CID_V1}`], 900)]);
  return zone(entries).lookup;
}

describe('resolveGatewayValue', () => {
  it('returns the single /ipfs/ value, ignoring other namespaces', async () => {
    const { lookup } = zone([
      ['_dnslink.example.com', txt([`dnslink=/ipfs/${CID_V1}`, 'dnslink=/foo/bar', 'dnslink=/ipfs/', 'other=1'], 60)],
    ]);
    expect(await resolveGatewayValue('example.com', lookup)).toEqual({
      name: 'example.com',
      value: `/ipfs/${CID_V1}`,
      namespace: 'ipfs',
      cid: CID_V1,
      cidV1: CID_V1,
      path: '',
      ttl: 60,
      hops: [{ name: 'example.com', value: `/ipfs/${CID_V1}`, ttl: 60 }],
      log: [{ code: 'INVALID_ENTRY', entry: 'dnslink=/ipfs/', reason: 'NO_IDENTIFIER', name: 'example.com' }],
    });
  });

  it('gives CIDv1 base32 for a CIDv0 value and keeps the record path', async () => {
    const { lookup } = zone([['example.com', txt([`dnslink=/ipfs/${CID_V0}/docs/index.html`])]]);
    const result = await resolveGatewayValue('example.com', lookup);
    expect(result).toMatchObject({
      value: `/ipfs/${CID_V0}/docs/index.html`,
      cid: CID_V0,
      cidV1: CID_V1,
      path: '/docs/index.html',
      log: [{ code: 'FALLBACK', name: 'example.com' }],
    });
  });

  it('MULTIPLE_DNSLINK when more than one valid /ipfs/ or /ipns/ value exists', async () => {
    const { lookup } = zone([['_dnslink.example.com', txt([`dnslink=/ipfs/${CID_V1}`, 'dnslink=/ipns/example.net'])]]);
    const failure = expectFailure(await resolveGatewayValue('example.com', lookup), 'MULTIPLE_DNSLINK');
    expect(failure.error.domain).toBe('example.com');
    expect(failure.error.message).toContain('/ipns/example.net');
  });

  it('an /ipfs/ value with a bad CID does not count towards MULTIPLE_DNSLINK', async () => {
    const { lookup } = zone([['_dnslink.example.com', txt([`dnslink=/ipfs/${CID_V1}`, 'dnslink=/ipfs/notacid'])]]);
    expect(await resolveGatewayValue('example.com', lookup)).toMatchObject({ value: `/ipfs/${CID_V1}` });
  });

  it('INVALID_CID when the only /ipfs/ value has a bad CID', async () => {
    const { lookup } = zone([['_dnslink.example.com', txt(['dnslink=/ipfs/notacid/x'])]]);
    const failure = expectFailure(await resolveGatewayValue('example.com', lookup), 'INVALID_CID');
    expect(failure.error.message).toContain('notacid');
  });

  it('NO_DNSLINK when there is no /ipfs/ or /ipns/ value', async () => {
    const { lookup } = zone([['_dnslink.example.com', txt(['dnslink=/foo/bar', 'v=spf1'])]]);
    expectFailure(await resolveGatewayValue('example.com', lookup), 'NO_DNSLINK');
  });

  it('passes INVALID_DOMAIN and DNS_RCODE_<n> through', async () => {
    expectFailure(await resolveGatewayValue('a..b', zone([]).lookup), 'INVALID_DOMAIN');
    expectFailure(await resolveGatewayValue('example.com', zone([['_dnslink.example.com', rcode(2)]]).lookup), 'DNS_RCODE_2');
    expectFailure(await resolveGatewayValue('example.com', zone([]).lookup), 'DNS_RCODE_3');
  });

  it('follows a 3-hop /ipns/ chain, joining paths inner first and keeping the shortest TTL', async () => {
    const { lookup, asked } = zone([
      ['_dnslink.a.example', txt(['dnslink=/ipns/b.example/x'], 300)],
      ['_dnslink.b.example', txt(['dnslink=/ipns/c.example/y/'], 30)],
      ['_dnslink.c.example', txt([`dnslink=/ipfs/${CID_V0}/z`], 120)],
    ]);
    const result = await resolveGatewayValue('a.example', lookup);
    expect(result).toEqual({
      name: 'a.example',
      value: `/ipfs/${CID_V0}/z/y/x`,
      namespace: 'ipfs',
      cid: CID_V0,
      cidV1: CID_V1,
      path: '/z/y/x',
      ttl: 30,
      hops: [
        { name: 'a.example', value: '/ipns/b.example/x', ttl: 300 },
        { name: 'b.example', value: '/ipns/c.example/y/', ttl: 30 },
        { name: 'c.example', value: `/ipfs/${CID_V0}/z`, ttl: 120 },
      ],
      log: [],
    });
    expect(asked).toEqual(['_dnslink.a.example', '_dnslink.b.example', '_dnslink.c.example']);
  });

  it('joins paths as boxo does: a -> /ipns/b/x, b -> /ipfs/CID/y gives /ipfs/CID/y/x', async () => {
    const { lookup } = zone([
      ['_dnslink.a', txt(['dnslink=/ipns/b/x'])],
      ['_dnslink.b', txt([`dnslink=/ipfs/${CID_V1}/y`])],
    ]);
    expect(await resolveGatewayValue('a', lookup)).toMatchObject({ value: `/ipfs/${CID_V1}/y/x`, path: '/y/x' });
  });

  it('does not follow /ipns/<domain> when recursive is false', async () => {
    const { lookup, asked } = zone([['_dnslink.a.example', txt(['dnslink=/ipns/b.example/x'], 50)]]);
    expect(await resolveGatewayValue('a.example', lookup, { recursive: false })).toEqual({
      name: 'a.example',
      value: '/ipns/b.example/x',
      namespace: 'ipns',
      path: '/x',
      ttl: 50,
      hops: [{ name: 'a.example', value: '/ipns/b.example/x', ttl: 50 }],
      log: [],
    });
    expect(asked).toEqual(['_dnslink.a.example']);
  });

  it('treats /ipns/<libp2p-key> as final', async () => {
    const { lookup, asked } = zone([['_dnslink.a.example', txt([`dnslink=/ipns/${IPNS_KEY_BASE36}/p`])]]);
    expect(await resolveGatewayValue('a.example', lookup)).toMatchObject({
      value: `/ipns/${IPNS_KEY_BASE36}/p`,
      namespace: 'ipns',
      cid: IPNS_KEY_BASE36,
      cidV1: IPNS_KEY_BASE32,
      path: '/p',
    });
    expect(asked).toEqual(['_dnslink.a.example']);
  });

  it('LOOP when a chain comes back to a name (case-insensitively)', async () => {
    const { lookup } = zone([
      ['_dnslink.a.example', txt(['dnslink=/ipns/b.example'])],
      ['_dnslink.b.example', txt(['dnslink=/ipns/A.Example'])],
    ]);
    const failure = expectFailure(await resolveGatewayValue('a.example', lookup), 'LOOP');
    expect(failure.hops.map((hop) => hop.name)).toEqual(['a.example', 'b.example']);
    expect(failure.error.message).toContain('a.example -> b.example -> A.Example');
  });

  it('LOOP for a name pointing at itself', async () => {
    const { lookup } = zone([['_dnslink.a.example', txt(['dnslink=/ipns/_dnslink.a.example.'])]]);
    expectFailure(await resolveGatewayValue('a.example', lookup), 'LOOP');
  });

  it('allows 32 hops and fails with TOO_MANY_HOPS at 33', async () => {
    const ok = await resolveGatewayValue('n0.example', chainOf(32));
    expect(ok).toMatchObject({ value: `/ipfs/${CID_V1}`, ttl: 900 });
    if (isGatewayFailure(ok)) throw new Error('expected success');
    expect(ok.hops).toHaveLength(32);
    expect(ok.ttl).toBe(900);

    const failure = expectFailure(await resolveGatewayValue('n0.example', chainOf(33)), 'TOO_MANY_HOPS');
    expect(failure.hops).toHaveLength(32);
    expect(failure.error.domain).toBe('n32.example');
  });

  it('honours a smaller maxHops', async () => {
    expectFailure(await resolveGatewayValue('n0.example', chainOf(3), { maxHops: 2 }), 'TOO_MANY_HOPS');
    expect(await resolveGatewayValue('n0.example', chainOf(3), { maxHops: 3 })).toMatchObject({ namespace: 'ipfs' });
  });

  it('reports an error of a later hop with that hop as domain', async () => {
    const { lookup } = zone([
      ['_dnslink.a.example', txt(['dnslink=/ipns/b.example'])],
      ['_dnslink.b.example', rcode(2)],
    ]);
    const failure = expectFailure(await resolveGatewayValue('a.example', lookup), 'DNS_RCODE_2');
    expect(failure.error.domain).toBe('b.example');
    expect(failure.hops).toHaveLength(1);
  });

  it('lets an exception of the lookup propagate unchanged', async () => {
    const failure = new Error('socket closed');
    await expect(
      resolveGatewayValue('a.example', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });
});

describe('joinContentPaths', () => {
  it.each([
    ['', '', ''],
    ['/y', '', '/y'],
    ['', '/x', '/x'],
    ['/y', '/x', '/y/x'],
    ['/y/', '/x', '/y/x'],
    ['/y', '/', '/y/'],
  ])('join(%j, %j) = %j', (inner, outer, joined) => {
    expect(joinContentPaths(inner, outer)).toBe(joined);
  });
});
