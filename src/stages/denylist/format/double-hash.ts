// The hash functions a `//DOUBLE-HASH` rule may use (multihash codes node:crypto can compute) and
// the two forms of such a rule: modern (a base58btc multihash) and legacy (sha256 as 64 hex digits).
// Returns multihash bytes; no state.
import { hash } from 'node:crypto';
import { base58btc } from 'multiformats/bases/base58';
import { blake3 } from './blake3.js';
import { readVarint, varintBytes } from './cid-bytes.js';

/** Multihash code of sha2-256, the hash of every legacy (hex) rule. */
export const SHA2_256 = 0x12;

interface DoubleHashFunction {
  name: string;
  digest: (input: string) => Buffer;
  digestLength: number;
}

/** A function node:crypto has, by its algorithm name. */
const crypto = (name: string, algorithm: string, digestLength: number): DoubleHashFunction => ({ name, digest: (input) => hash(algorithm, input, 'buffer'), digestLength });

const FUNCTIONS = new Map<number, DoubleHashFunction>([
  [0x12, crypto('sha2-256', 'sha256', 32)],
  [0x13, crypto('sha2-512', 'sha512', 64)],
  [0x14, crypto('sha3-512', 'sha3-512', 64)],
  [0x15, crypto('sha3-384', 'sha3-384', 48)],
  [0x16, crypto('sha3-256', 'sha3-256', 32)],
  [0x17, crypto('sha3-224', 'sha3-224', 28)],
  [0x1e, { name: 'blake3', digest: (input) => blake3(Buffer.from(input, 'utf8')), digestLength: 32 }],
  [0xb240, crypto('blake2b-512', 'blake2b512', 64)],
  [0xb260, crypto('blake2s-256', 'blake2s256', 32)],
]);

/** Multihash bytes (code, length, digest) of `input` hashed with the function of multihash `code`. */
export function multihashOf(code: number, input: string): Buffer {
  const fn = FUNCTIONS.get(code);
  if (fn === undefined) throw new Error(`no hash function for multihash code 0x${code.toString(16)}`);
  const digest = fn.digest(input);
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
