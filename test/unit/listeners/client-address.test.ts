// Client address parsing and the compiled network set, checked against Node's own parsers
// (URL's IPv6 normalisation, net.BlockList) on random addresses and networks.
import fc from 'fast-check';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ClientAddress, NetworkSet, parseAddressInto, parseNetwork, type ClientNetwork } from '../../../src/listeners/client-address.js';

const parsed = (text: string) => parseAddressInto(text, new ClientAddress());
const groupsText = (groups: number[]) => groups.map((g) => g.toString(16)).join(':');
/** The compressed form Node writes (`2001:db8::1`), from the full eight groups. */
const compressed = (groups: number[]) => new URL(`http://[${groupsText(groups)}]/`).hostname.slice(1, -1);
const v4Text = (bytes: number[]) => bytes.join('.');
const network = (text: string): ClientNetwork => {
  const n = parseNetwork(text);
  if (typeof n === 'string') throw new Error(n);
  return n;
};

const arbGroups = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
const arbV4 = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });

describe('parseAddressInto', () => {
  it('reads IPv4 and IPv6 in every text form Node writes, IPv4-mapped IPv6 as IPv4', () => {
    expect(parsed('192.0.2.1')).toMatchObject({ family: 4, v4: 0xc0000201 });
    expect(parsed('::1')).toMatchObject({ family: 6 });
    expect([...parsed('::1').v6]).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect([...parsed('2001:db8::').v6]).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]);
    expect([...parsed('fe80::1%eth0').v6]).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    expect(parsed('::ffff:192.0.2.1')).toMatchObject({ family: 4, v4: 0xc0000201 });
    expect(parsed('::ffff:c000:201')).toMatchObject({ family: 4, v4: 0xc0000201 });
    expect(parsed('::')).toMatchObject({ family: 6 });
  });

  it('agrees with Node on random IPv6 addresses, full and compressed', () => {
    fc.assert(
      fc.property(arbGroups, (groups) => {
        const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
        for (const text of [groupsText(groups), compressed(groups)]) {
          const address = parsed(text);
          if (mapped) expect(address.family).toBe(4);
          else expect([address.family, ...address.v6]).toEqual([6, ...groups]);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects what is no address, as Node does', () => {
    const junk = ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '01234.1.1.1', '01.2.3.4', '1.2.3.00', 'a.b.c.d', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', '::g', '1:', ':1', 'localhost', '1.2.3.4:53'];
    for (const text of junk) {
      expect(isIPv4(text) || isIPv6(text)).toBe(false);
      expect(parsed(text).family, text).toBe(0);
    }
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0012349abf:.'.split('')), maxLength: 24 }), (text) => {
        const valid = isIPv4(text) || isIPv6(text);
        expect(parsed(text).family !== 0, text).toBe(valid);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('parseNetwork', () => {
  it('reads CIDR networks and bare addresses, masking host bits; says what is wrong otherwise', () => {
    expect(network('10.1.2.3/8')).toEqual({ family: 4, address: 0x0a000000, prefix: 8 });
    expect(network('192.0.2.7')).toEqual({ family: 4, address: 0xc0000207, prefix: 32 });
    expect(network('::ffff:10.0.0.0/104')).toEqual({ family: 4, address: 0x0a000000, prefix: 8 });
    const v6 = network('2001:db8:ffff::/33');
    expect(v6.family === 6 && [...v6.groups]).toEqual([0x2001, 0xdb8, 0x8000, 0, 0, 0, 0, 0]);
    expect(parseNetwork('10.0.0.0/33')).toMatch(/prefix length must be 0-32/);
    expect(parseNetwork('::/129')).toMatch(/prefix length must be 0-128/);
    expect(parseNetwork('example.org/24')).toMatch(/not an IPv4 or IPv6 address/);
    expect(parseNetwork('10.0.0.0/x')).toMatch(/prefix length/);
  });
});

describe('NetworkSet', () => {
  it('matches exactly what net.BlockList matches, on random networks and addresses', () => {
    const arbNetwork = fc.oneof(
      fc.tuple(arbV4, fc.integer({ min: 0, max: 32 })).map(([b, p]) => ({ text: `${v4Text(b)}/${p}`, base: v4Text(b), prefix: p, family: 'ipv4' as const })),
      fc.tuple(arbGroups, fc.integer({ min: 0, max: 128 })).map(([g, p]) => ({ text: `${compressed(g)}/${p}`, base: compressed(g), prefix: p, family: 'ipv6' as const })),
    );
    fc.assert(
      fc.property(fc.array(arbNetwork, { minLength: 1, maxLength: 4 }), fc.array(fc.oneof(arbV4.map(v4Text), arbGroups.map(compressed)), { maxLength: 20 }), (networks, addresses) => {
        // Mapped IPv6 networks are IPv4 networks here, as they are not in BlockList: keep to plain IPv6.
        const plain = networks.filter((n) => n.family === 'ipv4' || parsed(n.base).family === 6);
        if (plain.length === 0) return;
        // One oracle per family: BlockList also matches IPv4 addresses against IPv6 networks
        // holding ::ffff:0:0/96, where an allow-list keeps the families apart (as Unbound does).
        const oracles = { ipv4: new BlockList(), ipv6: new BlockList() };
        for (const n of plain) oracles[n.family].addSubnet(n.base, n.prefix, n.family);
        const set = new NetworkSet(plain.map((n) => network(n.text)));
        // Near misses too: each network's own base address.
        for (const text of [...addresses, ...plain.map((n) => n.base)]) {
          const address = parsed(text);
          if (address.family === 4 && text.includes(':')) continue;
          expect(set.has(address), `${text} in ${plain.map((n) => n.text).join(', ')}`).toBe(address.family === 4 ? oracles.ipv4.check(text, 'ipv4') : oracles.ipv6.check(text, 'ipv6'));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('says when a /0 makes it hold every address of a family', () => {
    expect(new NetworkSet([network('0.0.0.0/0')]).coversAllV4).toBe(true);
    expect(new NetworkSet([network('::/0')]).coversAllV6).toBe(true);
    const some = new NetworkSet([network('10.0.0.0/8'), network('2001:db8::/32')]);
    expect([some.coversAllV4, some.coversAllV6]).toEqual([false, false]);
  });
});
