// Domain names between their two forms: presentation strings (raw UTF-8 labels, no escapes) and
// wire bytes. Owns the question cache key, which must be the same whether it is derived from a
// client's packet bytes (hot path) or from a name string (APIs, DNSLink lookups).
import type { Question } from './types.js';

export const MAX_LABEL = 63;
export const MAX_NAME_WIRE = 255;

/** `name` without its trailing dot, if it has one. */
export function withoutTrailingDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** Encodes a presentation name (no escapes, raw UTF-8 labels) to wire; throws on a bad label. */
export function encodeName(name: string): Buffer {
  const trimmed = withoutTrailingDot(name);
  const labels = trimmed.length === 0 ? [] : trimmed.split('.');
  const parts: Buffer[] = [];
  let total = 1;
  for (const label of labels) {
    const bytes = Buffer.from(label, 'utf8');
    if (bytes.length === 0 || bytes.length > MAX_LABEL) {
      throw new RangeError(`invalid label length ${bytes.length} in name "${name}"`);
    }
    parts.push(Buffer.from([bytes.length]), bytes);
    total += bytes.length + 1;
  }
  if (total > MAX_NAME_WIRE) throw new RangeError(`name "${name}" is longer than 255 bytes on the wire`);
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts, total);
}

/** Decodes the uncompressed name at [start, end) of `packet` (end is past the root byte). */
export function decodeName(packet: Buffer, start: number, end: number): string {
  if (end - start === 1) return '';
  let name = '';
  let offset = start;
  while (offset < end - 1) {
    const len = packet[offset]!;
    if (name.length > 0) name += '.';
    name += packet.toString('utf8', offset + 1, offset + 1 + len);
    offset += len + 1;
  }
  return name;
}

function lowerAsciiInPlace(buf: Buffer, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x41 && c <= 0x5a) buf[i] = c + 0x20;
  }
}

/** Cache key from wire bytes [start, end): name (ASCII-lower-cased), then type and class, as latin1. */
export function keyFromWire(packet: Buffer, start: number, end: number): string {
  let upper = false;
  for (let i = start; i < end; i++) {
    const c = packet[i]!;
    if (c >= 0x41 && c <= 0x5a) {
      upper = true;
      break;
    }
  }
  if (!upper) return packet.toString('latin1', start, end);
  const lowered = Buffer.from(packet.subarray(start, end));
  lowerAsciiInPlace(lowered, 0, end - start - 4);
  return lowered.toString('latin1');
}

/** A question for a name given as text (APIs, DNSLink lookups); throws on a name no message can carry. */
export function makeQuestion(name: string, type: number, klass = 1): Question {
  const bare = withoutTrailingDot(name);
  const nameWire = encodeName(bare);
  return { name: bare, nameWire, type, class: klass, key: keyFromName(nameWire, type, klass) };
}

/** The cache key of a wire name plus type and class. */
function keyFromName(nameWire: Buffer, type: number, klass: number): string {
  const buf = Buffer.allocUnsafe(nameWire.length + 4);
  nameWire.copy(buf, 0);
  lowerAsciiInPlace(buf, 0, nameWire.length);
  buf.writeUInt16BE(type, nameWire.length);
  buf.writeUInt16BE(klass, nameWire.length + 2);
  return buf.toString('latin1');
}

/** True when two wire names are the same name: equal bytes, ASCII letters compared without case. */
export function sameWireName(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]!;
    let y = b[i]!;
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) return false;
  }
  return true;
}
