import { base16 } from 'multiformats/bases/base16';
import { base2 } from 'multiformats/bases/base2';
import { CID } from 'multiformats/cid';
import { identity } from 'multiformats/hashes/identity';
import { base32upper } from 'multiformats/bases/base32';
import { base58btc } from 'multiformats/bases/base58';
import { describe, expect, it } from 'vitest';
import { CidError, parseCid, parseIpfsPath, parseIpnsKey, tryParseCid } from '../../../src/dnslink/cid.js';

const CID_V0 = 'QmPChd2hVbrJ6bfo3WBcTW4iZnpHm8TEzWkLHmLpXhF68A';
const CID_V1 = 'bafybeiam2jkwnk42kyvgce33hekrmtr2bkmoozx5ttw66lwljizv2josam';
const IPNS_KEY_BASE36 = 'k51qzi5t0l4yioe48rdkrnle71f20fa2mi73j6110dcl77m60zc1vv1wxkgxs7';
const IPNS_KEY_BASE32 = 'bafzaajaha4dqobyha4dqobyha4dqobyha4dqobyha4dqobyha4dqobyha4dqobyh';
const PEER_ID_BASE58 = '12D2trk3aybVWTYmmEHvV8eKutCMcXywXauk8jpo3tGVksdecPp2';

describe('parseCid', () => {
  it('upgrades CIDv0 to CIDv1 base32', () => {
    expect(parseCid(CID_V0)).toMatchObject({ text: CID_V0, cidV1: CID_V1 });
  });

  it('keeps CIDv1 base32 as is', () => {
    expect(parseCid(CID_V1).cidV1).toBe(CID_V1);
  });

  it('reads other multibases: base36, base58btc, base32 upper case, base16', () => {
    const cid = parseCid(CID_V1).cid;
    expect(parseCid(IPNS_KEY_BASE36).cidV1).toBe(IPNS_KEY_BASE32);
    expect(parseCid(cid.toString(base58btc)).cidV1).toBe(CID_V1);
    expect(parseCid(cid.toString(base32upper)).cidV1).toBe(CID_V1);
    expect(parseCid(cid.toString(base16)).cidV1).toBe(CID_V1);
  });

  it.each(['', 'Qm', 'notacid', 'bafy!', `${CID_V0}x`, 'x123'])('rejects %j with INVALID_CID', (text) => {
    expect(() => parseCid(text)).toThrow(CidError);
    expect(tryParseCid(text)).toBeUndefined();
    try {
      parseCid(text);
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_CID' });
    }
  });
});

describe('parseIpfsPath', () => {
  it('splits /ipfs/<cid>/<path> without decoding the path', () => {
    expect(parseIpfsPath(`/ipfs/${CID_V0}/a/b%20c/?x=y`)).toEqual({ cid: CID_V0, cidV1: CID_V1, path: '/a/b%20c/?x=y' });
  });

  it('gives an empty path for a bare CID', () => {
    expect(parseIpfsPath(`/ipfs/${CID_V1}`)).toEqual({ cid: CID_V1, cidV1: CID_V1, path: '' });
  });

  it('rejects a bad CID with INVALID_CID and a non-/ipfs/ value with INVALID_PATH', () => {
    expect(() => parseIpfsPath('/ipfs/nope/x')).toThrow(expect.objectContaining({ code: 'INVALID_CID' }));
    expect(() => parseIpfsPath(`/ipns/${CID_V1}`)).toThrow(expect.objectContaining({ code: 'INVALID_PATH' }));
  });
});

describe('parseIpnsKey', () => {
  it('recognises libp2p-key CIDs and bare base58 peer IDs', () => {
    expect(parseIpnsKey(IPNS_KEY_BASE36)?.cidV1).toBe(IPNS_KEY_BASE32);
    expect(parseIpnsKey(PEER_ID_BASE58)?.cidV1).toBe(IPNS_KEY_BASE32);
  });

  it('does not take domains for keys', () => {
    expect(parseIpnsKey('example.com')).toBeUndefined();
    expect(parseIpnsKey('docs.ipfs.tech')).toBeUndefined();
    expect(parseIpnsKey('localhost')).toBeUndefined();
  });
});

describe('CID text length', () => {
  it('refuses text longer than any CID before decoding it (base58 decoding is quadratic; found by the TXT fuzz target)', () => {
    const long = `Qm${'z'.repeat(20_000)}`;
    expect(() => parseCid(long)).toThrow(/20002 characters, longer than any CID/);
    expect(tryParseCid(long)).toBeUndefined();
    expect(parseIpnsKey(`1${'z'.repeat(20_000)}`)).toBeUndefined();
  });

  it('still reads the longest CID boxo accepts in its longest multibase (128-byte identity digest, base2)', () => {
    const cid = CID.createV1(0x55, identity.digest(new Uint8Array(128).fill(7)));
    const text = cid.toString(base2);
    expect(text.length).toBeGreaterThan(1000);
    expect(parseCid(text).cidV1).toBe(cid.toString());
  });
});
