// Typed access to the parts of dns-packet that @types/dns-packet leaves out: the per-record and
// name codecs (used to pre-encode record sections, to read upstream records one by one, and to
// decode a cached answer for the APIs) and the type-name table. The hot path relies on these
// internals (`encode.bytes`, `decode.bytes`, `answer`, `name`), which is why package.json pins
// dns-packet to an exact version: check them again before moving it.
import { createRequire } from 'node:module';
import type { DnsRecord } from './types.js';

interface Codec<T> {
  encode: ((value: T, buf: Buffer, offset: number) => Buffer) & { bytes: number };
  /** Reads one value at `offset`; `decode.bytes` is then how many bytes it took. */
  decode: ((buf: Buffer, offset: number) => T) & { bytes: number };
  encodingLength(value: T): number;
}

interface DnsPacketInternals {
  answer: Codec<DnsRecord>;
  name: Codec<string>;
}

interface DnsPacketTypes {
  toType(name: string): number;
  toString(type: number): string;
}

const require = createRequire(import.meta.url);
export const packetCodecs = require('dns-packet') as DnsPacketInternals;
export const packetTypes = require('dns-packet/types.js') as DnsPacketTypes;
