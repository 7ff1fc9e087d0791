// ENS contenthash (ENSIP-7) as DNSLink: `<protocol varint><value>`; ipfs-ns carries a CID
// (served as `/ipfs/<CIDv1 base32>`), ipns-ns a libp2p key (`/ipns/<k51... base36>`) or a DNS name
// in an identity CID (`/ipns/<name>`); other namespaces are named as unsupported. No I/O.
import { base36 } from 'multiformats/bases/base36';
import { CID } from 'multiformats/cid';
import { varint } from 'multiformats';

const IPFS_NS = 0xe3;
const IPNS_NS = 0xe5;
const LIBP2P_KEY = 0x72;
const IDENTITY = 0x00;

/** Protocols ENSIP-7 and the multicodec table name, for an answer that says which one it was. */
const OTHER_NAMESPACES: ReadonlyMap<number, string> = new Map([
  [0xe4, 'swarm'],
  [0xb29910, 'arweave'],
  [0xb19910, 'skynet'],
  [0x01bc, 'onion'],
  [0x01bd, 'onion3'],
]);

export type DecodedContenthash =
  | { kind: 'dnslink'; value: string }
  /** An empty contenthash: the name has none set. */
  | { kind: 'unset' }
  /** A namespace DNSLink has no form for (like eth.limo's 422). */
  | { kind: 'unsupported'; codec: string; message: string }
  | { kind: 'invalid'; message: string };

const DNS_NAME = /^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*$/;

function ipnsValue(cid: CID): string | undefined {
  if (cid.multihash.code === IDENTITY && cid.code !== LIBP2P_KEY) {
    // A DNS name carried as the digest of an identity CID (ENS's ipns://<domain> form).
    const name = new TextDecoder('utf-8', { fatal: true }).decode(cid.multihash.digest);
    return DNS_NAME.test(name) ? name : undefined;
  }
  return cid.toV1().toString(base36);
}

/** Decodes a contenthash (bytes as read from the resolver) into what DNSLink serves. */
export function decodeContenthash(bytes: Uint8Array): DecodedContenthash {
  if (bytes.length === 0) return { kind: 'unset' };
  let code: number;
  let length: number;
  try {
    [code, length] = varint.decode(bytes);
  } catch {
    return { kind: 'invalid', message: 'contenthash does not start with a protocol code' };
  }
  const other = OTHER_NAMESPACES.get(code);
  if (other) return { kind: 'unsupported', codec: other, message: `contenthash of namespace ${other} (0x${code.toString(16)}) has no DNSLink form` };
  if (code !== IPFS_NS && code !== IPNS_NS) return { kind: 'unsupported', codec: `0x${code.toString(16)}`, message: `contenthash of unknown namespace 0x${code.toString(16)}` };
  let cid: CID;
  try {
    cid = CID.decode(bytes.subarray(length));
  } catch (err) {
    return { kind: 'invalid', message: `contenthash holds no valid CID: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (code === IPFS_NS) return { kind: 'dnslink', value: `/ipfs/${cid.toV1().toString()}` };
  let value: string | undefined;
  try {
    value = ipnsValue(cid);
  } catch {
    value = undefined;
  }
  return value === undefined ? { kind: 'invalid', message: 'ipns contenthash holds neither a key nor a DNS name' } : { kind: 'dnslink', value: `/ipns/${value}` };
}
