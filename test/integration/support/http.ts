// DoH and HTTP helpers for the DoH / API / client suites: wire queries, GET ?dns= and POST
// exchanges with fetch (HTTP/1.1), HTTP/2 cleartext requests with node:http2, JSON GETs.
import http2 from 'node:http2';
import * as dnsPacket from 'dns-packet';

/** A DoH query as RFC 8484 clients send it: ID 0, RD, one question. */
export function dohQuery(name: string, type: dnsPacket.RecordType = 'TXT'): Buffer {
  return dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
}

export const b64url = (b: Buffer): string => b.toString('base64url');

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Buffer;
}

export async function httpGet(url: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

export async function httpPost(url: string, body: Buffer | string, contentType?: string): Promise<HttpResult> {
  const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
  const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

export function json<T = Record<string, unknown>>(r: HttpResult): T {
  return JSON.parse(r.body.toString('utf8')) as T;
}

/**
 * One request over HTTP/2 with prior knowledge (h2c): what `dig +http-plain` speaks; with `tlsCa`
 * (the PEM certificate to trust), over TLS (h2), the way Kubo and Rainbow reach a DoH server.
 */
export function h2cRequest(
  port: number,
  path: string,
  opts: { method?: string; body?: Buffer; headers?: Record<string, string>; tlsCa?: Buffer } = {},
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const session = opts.tlsCa ? http2.connect(`https://127.0.0.1:${port}`, { ca: opts.tlsCa }) : http2.connect(`http://127.0.0.1:${port}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error('h2c request timed out'));
    }, 10_000);
    session.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    const req = session.request({ ':method': opts.method ?? 'GET', ':path': path, ...opts.headers });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (headers = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      clearTimeout(timer);
      session.close();
      resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks) });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    });
    req.end(opts.body);
  });
}

/** Answers of a DNS message as comparable tuples (name, type, data text); TTLs separately. */
export function answerSummary(wire: Buffer): { rcode: number; answers: string[]; ttls: number[] } {
  const msg = dnsPacket.decode(wire);
  const answers = (msg.answers ?? []).map((a) => {
    const data = (a as { data?: unknown }).data;
    const text = Array.isArray(data) ? data.map((d) => Buffer.from(d as Buffer).toString('utf8')).join('|') : String(data);
    return `${a.name} ${a.type} ${text}`;
  });
  const ttls = (msg.answers ?? []).map((a) => (a as { ttl?: number }).ttl ?? 0);
  return { rcode: (msg.flags ?? 0) & 0xf, answers, ttls };
}
