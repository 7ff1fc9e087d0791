// A CID or IPNS key read down to what denylist rules compare: its codec and multihash bytes. The
// common forms (CIDv0 `Qm...`, CIDv1 base32 `b...`, a bare base58btc peer ID) are decoded here
// without exceptions (a list has a million of them); any other multibase goes through
// src/dnslink/cid.ts. Also the legacy anchor form, CIDv1 base32.
import { base32 } from 'multiformats/bases/base32';
import { base58btc } from 'multiformats/bases/base58';
import { parseIpnsKey, tryParseCid } from '../../../dnslink/cid.js';

export interface CidBytes {
  codec: number;
  multihash: Uint8Array;
}

const DAG_PB = 0x70;
export const LIBP2P_KEY_CODEC = 0x72;
const BASE32_LOWER = /^[a-z2-7]+$/;
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;
/** Longest CID text decoded here (base58/base36 decoding is quadratic in the length). */
const MAX_TEXT = 2048;

/** Unsigned varint at `at` (up to 4 bytes): [value, next offset], or undefined. */
export function readVarint(bytes: Uint8Array, at: number): [number, number] | undefined {
  let value = 0;
  for (let i = 0; i < 4 && at + i < bytes.length; i++) {
    const byte = bytes[at + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return [value, at + i + 1];
  }
  return undefined;
}

/** True when bytes[at..] is exactly one multihash (code, length, digest). */
function isMultihash(bytes: Uint8Array, at: number): boolean {
  const code = readVarint(bytes, at);
  const length = code && readVarint(bytes, code[1]);
  return length !== undefined && length[0] <= 128 && length[1] + length[0] === bytes.length;
}

function decodeBase(decode: (text: string) => Uint8Array, text: string): Uint8Array | undefined {
  try {
    return decode(text);
  } catch {
    return undefined;
  }
}

/** A CID in any multibase (and CIDv0), or undefined. */
export function cidBytes(text: string): CidBytes | undefined {
  if (text.length === 46 && text.startsWith('Qm')) {
    if (!BASE58.test(text)) return undefined;
    const bytes = decodeBase(base58btc.baseDecode, text);
    return bytes && bytes.length === 34 && bytes[0] === 0x12 && bytes[1] === 0x20 ? { codec: DAG_PB, multihash: bytes } : undefined;
  }
  if (text.startsWith('b') && text.length <= MAX_TEXT) {
    if (!BASE32_LOWER.test(text.slice(1))) return undefined;
    const bytes = decodeBase(base32.baseDecode, text.slice(1));
    if (bytes === undefined || bytes[0] !== 1) return undefined;
    const codec = readVarint(bytes, 1);
    return codec && isMultihash(bytes, codec[1]) ? { codec: codec[0], multihash: bytes.subarray(codec[1]) } : undefined;
  }
  if (!/^[a-zA-Z0-9]/.test(text)) return undefined;
  const parsed = tryParseCid(text);
  return parsed && { codec: parsed.cid.code, multihash: parsed.cid.multihash.bytes };
}

/** An IPNS key: a CID (`k51...`, `bafzaa...`) or a bare base58btc multihash (`12D3KooW...`, `Qm...`). */
export function ipnsKeyBytes(text: string): CidBytes | undefined {
  if (text.includes('.')) return undefined; // a DNS name
  const asCid = cidBytes(text);
  if (asCid !== undefined) return asCid;
  if (text.length > MAX_TEXT || !BASE58.test(text)) return undefined;
  const key = parseIpnsKey(text);
  return key && { codec: key.cid.code, multihash: key.cid.multihash.bytes };
}

/** The unsigned varint bytes of `value`. */
export function varintBytes(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** `b...`: the CIDv1 base32 text of codec and multihash (the legacy double-hash anchor). */
export function cidV1Base32(codec: number, multihash: Uint8Array): string {
  const head = [1, ...varintBytes(codec)];
  const bytes = new Uint8Array(head.length + multihash.length);
  bytes.set(head, 0);
  bytes.set(multihash, head.length);
  return `b${base32.baseEncode(bytes)}`;
}
