// The hash functions a `//DOUBLE-HASH` rule may use (multihash codes node:crypto can compute) and
// the two forms of such a rule: modern (a base58btc multihash) and legacy (sha256 as 64 hex digits).
// Returns multihash bytes; no state.
import { hash } from 'node:crypto';
import { base58btc } from 'multiformats/bases/base58';
import { readVarint, varintBytes } from './cid-bytes.js';

/** Multihash code of sha2-256, the hash of every legacy (hex) rule. */
export const SHA2_256 = 0x12;

interface DoubleHashFunction {
  name: string;
  /** The node:crypto algorithm. */
  algorithm: string;
  digestLength: number;
}

const FUNCTIONS = new Map<number, DoubleHashFunction>([
  [0x12, { name: 'sha2-256', algorithm: 'sha256', digestLength: 32 }],
  [0x13, { name: 'sha2-512', algorithm: 'sha512', digestLength: 64 }],
  [0x14, { name: 'sha3-512', algorithm: 'sha3-512', digestLength: 64 }],
  [0x15, { name: 'sha3-384', algorithm: 'sha3-384', digestLength: 48 }],
  [0x16, { name: 'sha3-256', algorithm: 'sha3-256', digestLength: 32 }],
  [0x17, { name: 'sha3-224', algorithm: 'sha3-224', digestLength: 28 }],
  [0xb240, { name: 'blake2b-512', algorithm: 'blake2b512', digestLength: 64 }],
  [0xb260, { name: 'blake2s-256', algorithm: 'blake2s256', digestLength: 32 }],
]);

/** Multihash bytes (code, length, digest) of `input` hashed with the function of multihash `code`. */
export function multihashOf(code: number, input: string): Buffer {
  const fn = FUNCTIONS.get(code);
  if (fn === undefined) throw new Error(`no hash function for multihash code 0x${code.toString(16)}`);
  const digest = hash(fn.algorithm, input, 'buffer');
  return Buffer.concat([Buffer.from([...varintBytes(code), ...varintBytes(fn.digestLength)]), digest]);
}

export interface ParsedDoubleHash {
  /** Multihash bytes the rule stands for (one per reading: both when the text is ambiguous). */
  keys: Array<{ code: number; multihash: Buffer; reading: 'modern' | 'legacy' }>;
}

const HEX_64 = /^[0-9a-fA-F]{64}$/;
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;

/** The modern reading: a base58btc multihash of a supported function. Returns an error message otherwise. */
function modernReading(text: string): { code: number; multihash: Buffer } | string {
  if (!BASE58.test(text)) return 'not base58btc';
  if (text.length > 200) return 'longer than any supported multihash';
  let bytes: Uint8Array;
  try {
    bytes = base58btc.baseDecode(text);
  } catch {
    return 'not base58btc';
  }
  const code = readVarint(bytes, 0);
  const length = code && readVarint(bytes, code[1]);
  if (!code || !length || length[1] + length[0] !== bytes.length) return 'not a multihash';
  if (code[0] === 0) return 'an identity multihash cannot be a double hash';
  const fn = FUNCTIONS.get(code[0]);
  if (fn === undefined) return `hash function 0x${code[0].toString(16)} not supported (supported: ${[...FUNCTIONS.values()].map((f) => f.name).join(', ')})`;
  if (length[0] !== fn.digestLength) return `${fn.name} digest of ${length[0]} bytes (expected ${fn.digestLength})`;
  return { code: code[0], multihash: Buffer.from(bytes) };
}

/**
 * Reads the HASH of a `//HASH` rule: a base58btc multihash (modern) or 64 hex digits, the sha256 of
 * the legacy anchor (legacy). Text that reads both ways gives both keys, as the spec requires.
 * Returns an error message when it is neither.
 */
export function parseDoubleHash(text: string): ParsedDoubleHash | string {
  const keys: ParsedDoubleHash['keys'] = [];
  const modern = modernReading(text);
  if (typeof modern !== 'string') keys.push({ ...modern, reading: 'modern' });
  if (HEX_64.test(text)) keys.push({ code: SHA2_256, multihash: Buffer.concat([Buffer.from([SHA2_256, 32]), Buffer.from(text, 'hex')]), reading: 'legacy' });
  if (keys.length === 0) {
    return `"//${text.slice(0, 80)}" is neither a base58btc multihash (${modern}) nor a sha256 hex digest (64 hex digits)`;
  }
  return { keys };
}
