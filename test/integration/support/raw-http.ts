// HTTP at the byte level, for what clients send that fetch would not: bytes written as given on a
// plain TCP (node:net) or TLS (node:tls) socket, the answer read until the server closes, parsed
// into status, headers and body; and a real TLS ClientHello, captured from node:tls.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface RawHttpAnswer {
  /** Everything the server sent, as latin1 text. */
  raw: string;
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
  /** True when the server closed the connection (not our timeout). */
  closedByServer: boolean;
}

export function parseRawAnswer(raw: string, closedByServer: boolean): RawHttpAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = end === -1 ? '' : Buffer.from(raw.slice(end + 4), 'latin1').toString('utf8');
  return { raw, status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body, closedByServer };
}

function exchange(socket: Socket, payload: Buffer | string, timeoutMs: number): Promise<RawHttpAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    // A reset after the answer arrived still leaves the answer to read.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRawAnswer(Buffer.concat(chunks).toString('latin1'), !timedOut));
    });
    socket.write(payload);
  });
}

/** Writes `payload` on a fresh TCP connection to 127.0.0.1:port and reads until the server closes. */
export function rawHttp(port: number, payload: Buffer | string, timeoutMs = 5000): Promise<RawHttpAnswer> {
  return exchange(connect({ host: '127.0.0.1', port }), payload, timeoutMs);
}

/** The same over TLS (certificate not checked), offering `alpn` (default: none). */
export async function rawHttps(port: number, payload: Buffer | string, alpn?: string[], timeoutMs = 5000): Promise<RawHttpAnswer> {
  const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(alpn ? { ALPNProtocols: alpn } : {}) });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  return exchange(socket, payload, timeoutMs);
}

/** The first bytes node:tls sends when it connects: a real ClientHello. */
export async function captureClientHello(): Promise<Buffer> {
  const server = createServer();
  const hello = new Promise<Buffer>((resolve) => {
    server.once('connection', (s) => {
      s.once('data', (chunk: Buffer) => {
        resolve(chunk);
        s.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const client = tlsConnect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, rejectUnauthorized: false, servername: 'localhost' });
  client.on('error', () => {});
  const bytes = await hello;
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return bytes;
}
