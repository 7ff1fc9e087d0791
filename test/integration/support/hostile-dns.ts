// Hostile DNS input for the hardening tests: a small seeded generator (the same seed gives the same
// packets, so a failure can be replayed) of random and mutated query packets in named shapes, and
// TCP stream plans built from them (honest framing, length prefixes that lie, trickling, half-open).
import { connect } from 'node:net';
import { encodeQuery } from './raw.js';

/** mulberry32: a tiny deterministic PRNG, enough to spread shapes and bytes (not for secrets). */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return this.next() % n;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

const HEADER = 12;

/** A header: id, flags, then the four counts. */
function header(rng: SeededRandom, flags: number, counts: [number, number, number, number]): Buffer {
  const h = Buffer.alloc(HEADER);
  h.writeUInt16BE(rng.below(0x10000), 0);
  h.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + i * 2));
  return h;
}

/** A question's type and class. */
function typeClass(type: number, klass: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(klass, 2);
  return b;
}

/** An OPT record: root owner, payload size, version, DO flag, and `rdata` (claimed `rdlength`, true when omitted). */
function opt(payload: number, version: number, rdata: Buffer, rdlength = rdata.length): Buffer {
  const b = Buffer.alloc(11);
  b[0] = 0;
  b.writeUInt16BE(41, 1);
  b.writeUInt16BE(payload, 3);
  b[6] = 0;
  b[7] = version;
  b.writeUInt16BE(0x8000, 8);
  b.writeUInt16BE(rdlength, 9);
  return Buffer.concat([b, rdata]);
}

function label(text: string): Buffer {
  const b = Buffer.from(text, 'latin1');
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/** How each kind of hostile packet is made, by name (the suites print how many of each were sent). */
export const PACKET_SHAPES = {
  'truncated header': (rng) => rng.bytes(rng.below(HEADER)),
  'random bytes': (rng) => rng.bytes(HEADER + rng.below(600)),
  'mutated query': (rng, name) => {
    const q = encodeQuery(rng.below(0x10000), name, 'TXT');
    for (let k = 0, n = 1 + rng.below(4); k < n; k++) q[rng.below(q.length)] = rng.below(256);
    return q;
  },
  'truncated query': (rng, name) => {
    const q = encodeQuery(rng.below(0x10000), name, 'TXT');
    return q.subarray(0, HEADER + rng.below(q.length - HEADER));
  },
  // A question name that is a compression pointer to itself, or to a later offset.
  'looping pointer': (rng) => Buffer.concat([header(rng, 0x0100, [1, 0, 0, 0]), Buffer.from([0xc0, HEADER]), typeClass(16, 1)]),
  'forward pointer': (rng) =>
    Buffer.concat([header(rng, 0x0100, [1, 0, 0, 0]), Buffer.from([0xc0, HEADER + 6 + rng.below(200)]), typeClass(16, 1), rng.bytes(rng.below(8))]),
  // A good question, then a record whose owner points at itself.
  'looping pointer in a record': (rng, name) => {
    const q = encodeQuery(rng.below(0x10000), name, 'TXT');
    q.writeUInt16BE(1, 10);
    const at = q.length;
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc000 | at, 0);
    rr.writeUInt16BE(16, 2);
    rr.writeUInt16BE(1, 4);
    return Buffer.concat([q, rr]);
  },
  'counts that lie': (rng, name) => {
    const q = encodeQuery(rng.below(0x10000), name, 'TXT');
    q.writeUInt16BE(rng.pick([0, 2, 0xffff]), 4);
    q.writeUInt16BE(rng.pick([0, 1, 0xffff]), 6);
    q.writeUInt16BE(rng.pick([0, 1, 0xffff]), 8);
    q.writeUInt16BE(rng.pick([0, 1, 2, 0xffff]), 10);
    return q;
  },
  // OPT with the largest payload size and kilobytes of options, or an rdlength past the end, or two OPTs.
  'oversized EDNS': (rng, name) => {
    const q = encodeQuery(rng.below(0x10000), name, 'TXT');
    const kind = rng.below(3);
    q.writeUInt16BE(kind === 2 ? 2 : 1, 10);
    if (kind === 0) return Buffer.concat([q, opt(0xffff, 0, rng.bytes(1000 + rng.below(3000)))]);
    if (kind === 1) return Buffer.concat([q, opt(0xffff, 0, rng.bytes(20), 0xffff)]);
    return Buffer.concat([q, opt(4096, 0, Buffer.alloc(0)), opt(0xffff, 0, Buffer.alloc(0))]);
  },
  'EDNS version 1': (rng, name) => {
    const q = encodeQuery(rng.below(0x10000), name, 'TXT');
    q.writeUInt16BE(1, 10);
    return Buffer.concat([q, opt(1232, 1, Buffer.alloc(0))]);
  },
  // Label length bytes 64-191 (over 63, or the reserved 0x40/0x80 label types).
  'label over 63': (rng) => {
    const len = 64 + rng.below(128);
    return Buffer.concat([header(rng, 0x0100, [1, 0, 0, 0]), Buffer.from([len]), rng.bytes(len), Buffer.from([0]), typeClass(16, 1)]);
  },
  'name over 255': (rng) => {
    const labels = Array.from({ length: 5 }, () => label('a'.repeat(50 + rng.below(14))));
    return Buffer.concat([header(rng, 0x0100, [1, 0, 0, 0]), ...labels, Buffer.from([0]), typeClass(16, 1)]);
  },
  'unknown type or class': (rng, name) => {
    const q = encodeQuery(rng.below(0x10000), name, 'TXT');
    q.writeUInt16BE(rng.pick([0, 65_280 + rng.below(256), 1000 + rng.below(30_000), 16]), q.length - 4);
    q.writeUInt16BE(rng.pick([1, 3, 4, 254, 255, rng.below(0x10000)]), q.length - 2);
    return q;
  },
  // QR, or another opcode, or TC/Z bits: responses are dropped, the rest refused or answered.
  'odd header bits': (rng, name) => {
    const q = encodeQuery(rng.below(0x10000), name, 'TXT');
    q.writeUInt16BE(rng.pick([0x8000 | rng.below(0x8000), 0x8180, (1 + rng.below(15)) << 11, 0x0300, 0x0140, rng.below(0x10000)]), 2);
    return q;
  },
} satisfies Record<string, (rng: SeededRandom, name: string) => Buffer>;

export type PacketShape = keyof typeof PACKET_SHAPES;
const SHAPE_NAMES = Object.keys(PACKET_SHAPES) as PacketShape[];

/** Hostile packets from one seed, shapes in turn; `name` is a real name the mutations start from. */
export class HostilePackets {
  readonly rng: SeededRandom;
  /** How many of each shape were made. */
  readonly made = new Map<PacketShape, number>();
  private readonly name: string;

  // No parameter properties: the bench loads this support with Node's type stripping.
  constructor(seed: number, name: string) {
    this.rng = new SeededRandom(seed);
    this.name = name;
  }

  next(): Buffer {
    const shape = this.rng.pick(SHAPE_NAMES);
    this.made.set(shape, (this.made.get(shape) ?? 0) + 1);
    return PACKET_SHAPES[shape](this.rng, this.name);
  }
}

/** What one hostile TCP client does: the bytes it writes, in pieces, and how it ends. */
export interface StreamPlan {
  kind: 'framed junk' | 'length that lies' | 'trickle' | 'half-open' | 'silent';
  /** Written in order, `gapMs` apart. */
  pieces: Buffer[];
  gapMs: number;
  /** End our side after the last piece (FIN), or keep it open until the server closes or the client gives up. */
  endAfter: boolean;
}

const frame = (message: Buffer, claimed = message.length) => Buffer.concat([Buffer.from([claimed >> 8, claimed & 0xff]), message]);

/** A plan for hostile TCP stream number `i`, kinds in turn. */
export function streamPlan(packets: HostilePackets, i: number): StreamPlan {
  const rng = packets.rng;
  switch (i % 5) {
    case 0:
      return { kind: 'framed junk', pieces: [Buffer.concat(Array.from({ length: 1 + rng.below(8) }, () => frame(packets.next())))], gapMs: 0, endAfter: rng.below(2) === 0 };
    case 1: {
      const message = packets.next();
      return { kind: 'length that lies', pieces: [frame(message, rng.pick([message.length + 1 + rng.below(100), 0xffff, Math.max(0, message.length - 3), 0]))], gapMs: 0, endAfter: rng.below(2) === 0 };
    }
    case 2: {
      const whole = frame(packets.next());
      return { kind: 'trickle', pieces: Array.from(whole, (byte) => Buffer.from([byte])), gapMs: 150, endAfter: false };
    }
    case 3:
      return { kind: 'half-open', pieces: [frame(packets.next()).subarray(0, 1 + rng.below(10))], gapMs: 0, endAfter: true };
    default:
      return { kind: 'silent', pieces: [], gapMs: 0, endAfter: false };
  }
}

export interface StreamOutcome {
  /** The server closed (or reset) the connection before the client gave up. */
  closedByServer: boolean;
  /** Bytes the server sent back. */
  received: number;
  /** Pieces written before the connection closed. */
  written: number;
}

/** Plays one plan against 127.0.0.1:port; the client gives up (destroys its side) after `giveUpMs`. */
export function playStream(port: number, plan: StreamPlan, giveUpMs: number): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const outcome: StreamOutcome = { closedByServer: false, received: 0, written: 0 };
    const socket = connect({ host: '127.0.0.1', port });
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
    const writeNext = () => {
      if (socket.destroyed) return;
      if (outcome.written === plan.pieces.length) {
        if (plan.endAfter) socket.end();
        return;
      }
      socket.write(plan.pieces[outcome.written++]!);
      timer = setTimeout(writeNext, plan.gapMs);
    };
    socket.on('connect', writeNext);
    socket.on('data', (chunk: Buffer) => (outcome.received += chunk.length));
    socket.on('end', () => (outcome.closedByServer = true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') outcome.closedByServer = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(giveUp);
      resolve(outcome);
    });
  });
}
