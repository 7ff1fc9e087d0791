// ENSIP-7 contenthash decoding against known vectors: ipfs (CIDv0 and v1), ipns as a key and as a
// DNS name, the namespaces DNSLink has no form for, an empty one, and broken ones.
import { base36 } from 'multiformats/bases/base36';
import { CID } from 'multiformats/cid';
import { identity } from 'multiformats/hashes/identity';
import { describe, expect, it } from 'vitest';
import { decodeContenthash } from '../../../src/stages/ens/contenthash.js';

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'));

describe('decodeContenthash', () => {
  it('ipfs-ns: the CID as CIDv1 base32 (the ENS documentation vector, a CIDv0 inside)', () => {
    // ipfs://QmRAQB6YaCyidP37UdDnjFY5vQuiBrcqdyoW1CuDgwxkD4, as the ENS docs encode it.
    const expected = CID.parse('QmRAQB6YaCyidP37UdDnjFY5vQuiBrcqdyoW1CuDgwxkD4').toV1().toString();
    expect(decodeContenthash(hex('0xe3010170122029f2d17be6139079dc48696d1f582a8530eb9805b561eda517e22a892c7e3f1f'))).toEqual({ kind: 'dnslink', value: `/ipfs/${expected}` });
    expect(expected).toMatch(/^bafybei/);
  });

  it('ipns-ns: a DNS name in an identity CID (ipns://app.uniswap.org)', () => {
    expect(decodeContenthash(hex('0xe5010170000f6170702e756e69737761702e6f7267'))).toEqual({ kind: 'dnslink', value: '/ipns/app.uniswap.org' });
  });

  it('ipns-ns: a libp2p key, in base36 as gateways write it', () => {
    const key = CID.createV1(0x72, identity.digest(hex('080112205cbd2a1e1ad5c18b6c9e6c6d8f7b6a5e4d3c2b1a09f8e7d6c5b4a39281706f5e')));
    const bytes = Uint8Array.from([0xe5, 0x01, ...key.bytes]);
    const decoded = decodeContenthash(bytes);
    expect(decoded).toMatchObject({ kind: 'dnslink', value: expect.stringMatching(/^\/ipns\/k51/) });
    expect(CID.parse((decoded as { value: string }).value.slice(6), base36).equals(key)).toBe(true);
  });

  it('names the namespaces DNSLink has no form for', () => {
    expect(decodeContenthash(hex('0xe40101fa011b20d1de9994b4d039f6548d191eb26786769f580809256b4685ef316805265ea162'))).toMatchObject({ kind: 'unsupported', codec: 'swarm' });
    expect(decodeContenthash(hex('0x90b2ca05c90abcdef0'))).toMatchObject({ kind: 'unsupported', codec: 'arweave' });
    expect(decodeContenthash(hex('0xbc037a6a6d7a6c6a'))).toMatchObject({ kind: 'unsupported', codec: 'onion' });
    expect(decodeContenthash(hex('0xf00100'))).toMatchObject({ kind: 'unsupported', codec: '0xf0' });
  });

  it('an empty contenthash is unset; broken ones are invalid, never a throw', () => {
    expect(decodeContenthash(new Uint8Array())).toEqual({ kind: 'unset' });
    expect(decodeContenthash(hex('0xe30101'))).toMatchObject({ kind: 'invalid' });
    expect(decodeContenthash(hex('0xff'))).toMatchObject({ kind: 'invalid' });
    expect(decodeContenthash(hex('0xe5010170000361ff62'))).toMatchObject({ kind: 'invalid' }); // not UTF-8
    expect(decodeContenthash(hex('0xe50101700003612062'))).toMatchObject({ kind: 'invalid' }); // "a b" is no DNS name
  });
});
