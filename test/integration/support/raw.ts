// Raw DNS wire exchanges (junk packets, several queries on one TCP connection). Framed by hand,
// sharing no code with the server under test, as an outside client would.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';

const TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, HINFO: 13, TXT: 16, AAAA: 28, ANY: 255 };

/** A plain query (RD=1, no EDNS). Name in presentation form, ASCII labels. */
export function encodeQuery(id: number, name: string, type: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  parts.push(header);
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    parts.push(Buffer.from([b.length]), b);
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(TYPES[type] ?? Number(type), 1);
  tail.writeUInt16BE(1, 3);
  parts.push(tail);
  return Buffer.concat(parts);
}

export interface WireHeader {
  id: number;
  qr: boolean;
  tc: boolean;
  rcode: number;
  qdcount: number;
  ancount: number;
}

export function parseHeader(msg: Buffer): WireHeader {
  if (msg.length < 12) throw new Error(`short DNS message (${msg.length} bytes)`);
  const flags = msg.readUInt16BE(2);
  return {
    id: msg.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    tc: (flags & 0x0200) !== 0,
    rcode: flags & 0x000f,
    qdcount: msg.readUInt16BE(4),
    ancount: msg.readUInt16BE(6),
  };
}

/** Send one datagram to 127.0.0.1:port; resolve with the first reply, or undefined after timeoutMs. */
export function udpExchange(port: number, payload: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const done = (v: Buffer | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('message', (msg) => done(msg));
    sock.on('error', () => done(undefined));
    sock.send(payload, port, '127.0.0.1');
  });
}

/** A TCP connection held open by a test: what the server sent so far, and whether it closed. */
export interface HeldTcpConnection {
  socket: Socket;
  received: () => Buffer;
  closed: () => boolean;
}

/** Opens a TCP connection to 127.0.0.1:port (from `localAddress`, e.g. 127.0.0.7); resolves once connected (the server may still close it at once). */
export function openTcpConnection(port: number, localAddress?: string): Promise<HeldTcpConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    let received = Buffer.alloc(0);
    let closed = false;
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.on('close', () => (closed = true));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => received, closed: () => closed }));
    socket.once('error', reject);
  });
}

/** Write all queries (length-prefixed) on ONE TCP connection at once; collect `queries.length` replies. */
export function tcpExchange(port: number, queries: Buffer[], timeoutMs: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const sock = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`tcpExchange: ${replies.length}/${queries.length} replies after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => {
      sock.write(Buffer.concat(queries.map((q) => Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]))));
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk as Buffer]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        replies.push(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
      }
      if (replies.length >= queries.length) {
        clearTimeout(timer);
        sock.destroy();
        resolve(replies);
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Sends every payload back to back from ONE UDP socket to 127.0.0.1:port (one client address, as a
 * flood from one host looks), then collects the replies that arrive within settleMs.
 */
export function udpBurst(port: number, payloads: Buffer[], settleMs: number): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const replies: Buffer[] = [];
    sock.on('message', (msg) => replies.push(msg));
    sock.on('error', () => undefined);
    sock.bind(0, '127.0.0.1', () => {
      for (const payload of payloads) sock.send(payload, port, '127.0.0.1');
      setTimeout(() => {
        sock.close();
        resolve(replies);
      }, settleMs);
    });
  });
}
