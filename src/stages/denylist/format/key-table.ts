// A compact exact-match table from byte-string keys to rule numbers, built once from keys appended
// in line order (a later equal key replaces an earlier one) and then read-only. Keys live in one
// Buffer and the table is typed arrays, so a million rules cost a few bytes each beyond their keys
// and no heap objects for the garbage collector to walk; lookups are one hash and a few probes.

/** A Uint32Array that grows by doubling. */
export class GrowableUint32 {
  private array: Uint32Array;
  length = 0;
  constructor(initial = 1024) {
    this.array = new Uint32Array(Math.max(16, initial));
  }
  push(value: number): void {
    if (this.length === this.array.length) {
      const bigger = new Uint32Array(this.array.length * 2);
      bigger.set(this.array);
      this.array = bigger;
    }
    this.array[this.length++] = value;
  }
  get(index: number): number {
    return this.array[index]!;
  }
  /**
   * The values pushed (a view: no copy; the unused tail of the array was never written, so its
   * pages are not resident). The growable array is given up.
   */
  trimmed(): Uint32Array {
    return this.array.subarray(0, this.length);
  }
}

/** Bytes appended one run after another; runs are addressed by their offsets. */
export class ByteLog {
  private buffer: Buffer;
  length = 0;
  constructor(initial = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(Math.max(1024, initial));
  }
  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }
  appendBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }
  appendText(text: string): void {
    this.reserve(text.length * 3);
    this.length += this.buffer.write(text, this.length, 'utf8');
  }
  appendByte(byte: number): void {
    this.reserve(1);
    this.buffer[this.length++] = byte;
  }
  /** The bytes appended (a view, as GrowableUint32.trimmed). */
  trimmed(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/** FNV-1a over bytes[from, to). */
export function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** Collects keys (each with the rule number it leads to) while a list is parsed. */
export class KeyTableBuilder {
  readonly keys = new ByteLog(1 << 20);
  readonly starts = new GrowableUint32(1 << 14);
  readonly values = new GrowableUint32(1 << 14);
  constructor() {
    this.starts.push(0);
  }
  /** Appends a key: call appendByte/appendBytes/appendText on `keys`, then end(value). */
  end(value: number): void {
    this.values.push(value);
    this.starts.push(this.keys.length);
  }
  get count(): number {
    return this.values.length;
  }
}

/** The read-only table. Build it with buildKeyTable (in slices). */
export class KeyTable {
  constructor(
    private readonly keys: Buffer,
    private readonly starts: Uint32Array,
    private readonly values: Uint32Array,
    private readonly slots: Int32Array,
    private readonly hashes: Uint32Array,
  ) {}

  get size(): number {
    return this.values.length;
  }

  /** The value of `key`, or -1. */
  get(key: Uint8Array): number {
    if (this.values.length === 0) return -1;
    const h = hashBytes(key, 0, key.length);
    const mask = this.slots.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const k = this.slots[slot]!;
      if (k === -1) return -1;
      if (this.hashes[k] === h && this.keyEquals(k, key)) return this.values[k]!;
    }
  }

  private keyEquals(k: number, key: Uint8Array): boolean {
    const from = this.starts[k]!;
    if (this.starts[k + 1]! - from !== key.length) return false;
    for (let i = 0; i < key.length; i++) if (this.keys[from + i] !== key[i]) return false;
    return true;
  }

  /** Bytes held (keys and arrays). */
  get byteLength(): number {
    return this.keys.byteLength + this.starts.byteLength + this.values.byteLength + this.slots.byteLength + this.hashes.byteLength;
  }
}

/**
 * Builds the table from the collected keys, `sliceKeys` keys per step: the generator yields
 * between steps so the caller can give the event loop its turn. Returns the table.
 */
export function* buildKeyTable(builder: KeyTableBuilder, sliceKeys = 16_384): Generator<void, KeyTable> {
  const keys = builder.keys.trimmed();
  const starts = builder.starts.trimmed();
  const values = builder.values.trimmed();
  const n = values.length;
  let capacity = 16;
  while (capacity < n * 2) capacity *= 2;
  const slots = new Int32Array(capacity).fill(-1);
  const hashes = new Uint32Array(n);
  const mask = capacity - 1;
  for (let k = 0; k < n; k++) {
    if (k > 0 && k % sliceKeys === 0) yield;
    const from = starts[k]!;
    const to = starts[k + 1]!;
    const h = hashBytes(keys, from, to);
    hashes[k] = h;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const other = slots[slot]!;
      if (other === -1) {
        slots[slot] = k;
        break;
      }
      if (hashes[other] === h && sameKey(keys, starts, other, k)) {
        // The same key again: the later rule (this one) is the one that decides.
        slots[slot] = k;
        break;
      }
    }
  }
  return new KeyTable(keys, starts, values, slots, hashes);
}

function sameKey(keys: Buffer, starts: Uint32Array, a: number, b: number): boolean {
  const fromA = starts[a]!;
  const fromB = starts[b]!;
  const length = starts[a + 1]! - fromA;
  if (starts[b + 1]! - fromB !== length) return false;
  for (let i = 0; i < length; i++) if (keys[fromA + i] !== keys[fromB + i]) return false;
  return true;
}
