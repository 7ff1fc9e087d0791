// What HTTP clients see when a request is refused before any route runs, against a real dnslinkd:
// the parser's refusals (a 100 kB URL, raw non-ASCII bytes, Content-Length with Transfer-Encoding,
// a TLS handshake on the cleartext port) over raw sockets and curl; a 413 over HTTP/2; 405 with Allow.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireBinaries, requireBuild, runTool, startDnslinkd, stopAll } from './support/index.js';
import type { DnslinkdHandle } from './support/index.js';
import { h2cRequest, httpGet } from './support/http.js';
import { captureClientHello, parseRawAnswer, rawHttp, rawHttps, type RawHttpAnswer } from './support/raw-http.js';
import { makeSelfSignedCert, type SelfSigned } from './support/tls.js';

const ok = requireBinaries('curl', 'openssl') && requireBuild();

const BIG_DNS_PARAM = 'A'.repeat(100_000);

/** Every refusal: our JSON body with CORS and no caching, and the connection closed. */
function expectJsonError(res: RawHttpAnswer, status: number, code: string, message: RegExp): void {
  expect(res.status, res.raw.slice(0, 300)).toBe(status);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(res.headers['cache-control']).toBe('max-age=0');
  expect(res.headers['access-control-allow-origin']).toBe('*');
  expect(res.headers['connection']).toBe('close');
  expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'message']);
  expect(body.code).toBe(code);
  expect(body.message).toMatch(message);
  expect(res.closedByServer).toBe(true);
}

const REFUSALS: Array<[what: string, request: () => Promise<Buffer | string>, status: number, code: string, message: RegExp]> = [
  [
    'a 100 kB dns parameter',
    async () => `GET /dns-query?dns=${BIG_DNS_PARAM} HTTP/1.1\r\nHost: x\r\n\r\n`,
    431,
    'HEADERS_TOO_LARGE',
    /over 16384 bytes.*POST \/dns-query/,
  ],
  [
    'raw non-ASCII bytes in the URL',
    async () => Buffer.concat([Buffer.from('GET /resolve?name='), Buffer.from('été.example', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]),
    400,
    'BAD_REQUEST',
    /non-ASCII byte \(0xc3\).*percent-encode/,
  ],
  [
    'raw non-ASCII bytes in the path',
    async () => Buffer.concat([Buffer.from('GET /v1/dnslink/'), Buffer.from('ü.example', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]),
    400,
    'BAD_REQUEST',
    /non-ASCII byte \(0xc3\)/,
  ],
  [
    'Content-Length together with Transfer-Encoding',
    async () => 'POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: application/dns-message\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    400,
    'BAD_REQUEST',
    /both Content-Length and Transfer-Encoding/,
  ],
  [
    'Transfer-Encoding before Content-Length',
    async () => 'POST /dns-query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
    400,
    'BAD_REQUEST',
    /both Content-Length and Transfer-Encoding/,
  ],
  [
    'a TLS handshake on the cleartext port',
    captureClientHello,
    400,
    'BAD_REQUEST',
    /^this is a cleartext HTTP port; a TLS handshake was sent: use http:\/\/ or the https listener$/,
  ],
];

describe.skipIf(!ok)('requests refused before any route', () => {
  let d: DnslinkdHandle;
  let noH2c: DnslinkdHandle;
  let cert: SelfSigned;
  let tlsPort: number;

  beforeAll(async () => {
    cert = makeSelfSignedCert();
    tlsPort = await freePort();
    // No upstream is asked in this suite: a closed port keeps it off the network.
    [d, noH2c] = await Promise.all([
      startDnslinkd({
        upstreams: ['udp://127.0.0.1:9'],
        config: { http: { tls: { listen: `127.0.0.1:${tlsPort}`, cert: cert.cert, key: cert.key } } },
      }),
      startDnslinkd({ upstreams: ['udp://127.0.0.1:9'], config: { http: { h2c: false } } }),
    ]);
  });
  afterAll(async () => {
    await d?.stop();
    await noH2c?.stop();
    cert?.remove();
    await stopAll();
  });

  describe('on the cleartext port (HTTP/1.1 and h2c sniffed from the first bytes)', () => {
    it.each(REFUSALS)('%s', async (_what, request, status, code, message) => {
      expectJsonError(await rawHttp(d.httpPort, await request()), status, code, message);
    });
  });

  describe('on a cleartext port without h2c (no sniffing)', () => {
    it.each(REFUSALS)('%s', async (_what, request, status, code, message) => {
      expectJsonError(await rawHttp(noH2c.httpPort, await request()), status, code, message);
    });
  });

  it('on the https port over HTTP/1.1 too', async () => {
    const clte = 'POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    expectJsonError(await rawHttps(tlsPort, clte, ['http/1.1']), 400, 'BAD_REQUEST', /both Content-Length and Transfer-Encoding/);
    const nonAscii = Buffer.concat([Buffer.from('GET /resolve?name='), Buffer.from('é', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]);
    expectJsonError(await rawHttps(tlsPort, nonAscii), 400, 'BAD_REQUEST', /non-ASCII/);
  });

  it('curl sends a 100 kB dns parameter and reads the 431 with its JSON body', async () => {
    const url = `http://127.0.0.1:${d.httpPort}/dns-query?dns=${BIG_DNS_PARAM}`;
    for (let i = 0; i < 3; i++) {
      const r = await runTool('curl', ['-sS', '-i', '--max-time', '10', url], 15_000);
      expect(r.code, r.stderr).toBe(0);
      const res = { ...parseCurl(r.stdout), closedByServer: true };
      expectJsonError(res, 431, 'HEADERS_TOO_LARGE', /over 16384 bytes/);
    }
  });

  it('a bad request pipelined after a slow one is answered after it, in order', async () => {
    // The upstream is a closed UDP port: the first request waits for its timeout (1 s), then SERVFAIL.
    const first = 'GET /resolve?name=slow.example&type=TXT HTTP/1.1\r\nHost: x\r\n\r\n';
    const second = Buffer.concat([Buffer.from('GET /resolve?name='), Buffer.from('é', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]);
    const res = await rawHttp(d.httpPort, Buffer.concat([Buffer.from(first), second]));
    // The second status line follows the first body on the same line (no newline after a body).
    const statuses = [...res.raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([200, 400]);
    const firstBody = res.raw.slice(res.raw.indexOf('{'), res.raw.lastIndexOf('HTTP/1.1 400'));
    expect(JSON.parse(firstBody)).toMatchObject({ Status: 2 });
    expectJsonError(parseRawAnswer(res.raw.slice(res.raw.lastIndexOf('HTTP/1.1 400')), true), 400, 'BAD_REQUEST', /non-ASCII/);
  });

  describe('an oversized POST over HTTP/2', () => {
    const BODY = 200_000;
    const bodyFile = (): string => {
      const file = join(cert.dir, 'body.bin');
      writeFileSync(file, Buffer.alloc(BODY));
      return file;
    };
    const expect413 = (status: number, body: string): void => {
      expect(status).toBe(413);
      expect(JSON.parse(body)).toEqual({ code: 'BODY_TOO_LARGE', message: 'POST /dns-query takes one DNS message of at most 65535 bytes; this one is larger' });
    };

    it('curl --http2-prior-knowledge (h2c) reads the 413 and its JSON body, every time', async () => {
      const file = bodyFile();
      for (let i = 0; i < 10; i++) {
        const r = await runTool(
          'curl',
          ['-sS', '--http2-prior-knowledge', '-H', 'content-type: application/dns-message', '--data-binary', `@${file}`,
            '-w', '\n%{http_code} %{http_version}', `http://127.0.0.1:${d.httpPort}/dns-query`],
          15_000,
        );
        expect(r.code, `attempt ${i}: ${r.stderr}`).toBe(0);
        const [body = '', status = ''] = r.stdout.split('\n');
        expect(status).toBe('413 2');
        expect413(413, body);
      }
    });

    it('curl over TLS (h2 by ALPN) too', async () => {
      const r = await runTool(
        'curl',
        ['-sS', '-k', '--http2', '-H', 'content-type: application/dns-message', '--data-binary', `@${bodyFile()}`,
          '-w', '\n%{http_code} %{http_version}', `https://127.0.0.1:${tlsPort}/dns-query`],
        15_000,
      );
      expect(r.code, r.stderr).toBe(0);
      const [body = '', status = ''] = r.stdout.split('\n');
      expect(status).toBe('413 2');
      expect413(413, body);
    });

    it('node:http2 gets the 413 with CORS and no connection header', async () => {
      const r = await h2cRequest(d.httpPort, '/dns-query', {
        method: 'POST',
        body: Buffer.alloc(BODY),
        headers: { 'content-type': 'application/dns-message' },
      });
      expect413(r.status, r.body.toString('utf8'));
      expect(r.headers['access-control-allow-origin']).toBe('*');
      expect(r.headers.connection).toBeUndefined();
    });

    it('the process printed no UnsupportedWarning (no connection header on an HTTP/2 response)', () => {
      expect(d.logs()).not.toMatch(/UnsupportedWarning|connection header is not valid/);
    });
  });

  it('the server keeps serving after all of them', async () => {
    const live = await httpGet(`http://127.0.0.1:${d.httpPort}/livez`);
    expect(live.status).toBe(200);
    expect(d.proc.exitCode).toBeUndefined();
    expect(d.logs()).not.toMatch(/HTTP handler failed|uncaught|ERR_STREAM_WRITE_AFTER_END/i);
  });
});

describe.skipIf(!ok)('a method a path does not serve', () => {
  let d: DnslinkdHandle;
  beforeAll(async () => {
    d = await startDnslinkd({ upstreams: ['udp://127.0.0.1:9'] });
  });
  afterAll(async () => {
    await d?.stop();
    await stopAll();
  });

  it.each([
    ['PUT', '/resolve?name=example.com', 'GET, HEAD, OPTIONS'],
    ['DELETE', '/v1/dnslink/example.com', 'GET, HEAD, OPTIONS'],
    ['PUT', '/dns-query', 'GET, HEAD, POST, OPTIONS'],
    ['POST', '/healthz', 'GET, HEAD'],
  ])('%s %s: 405 with Allow: %s', async (method, path, allow) => {
    const res = await fetch(`http://127.0.0.1:${d.httpPort}${path}`, { method, body: method === 'GET' ? undefined : 'x', signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({ code: 'METHOD_NOT_ALLOWED', message: expect.stringContaining(`it answers ${allow}`) });
  });

  it('curl -X DELETE on a path nothing serves: 404', async () => {
    const r = await runTool('curl', ['-sS', '-i', '-X', 'DELETE', `http://127.0.0.1:${d.httpPort}/nope`], 10_000);
    const res = parseCurl(r.stdout);
    expect(res.status).toBe(404);
    expect(res.headers.allow).toBeUndefined();
    expect(JSON.parse(res.body)).toMatchObject({ code: 'NOT_FOUND' });
  });
});

/** `curl -i` output: status line, headers, body. */
function parseCurl(out: string): Omit<RawHttpAnswer, 'closedByServer'> {
  const end = out.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = out.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { raw: out, status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: out.slice(end + 4) };
}
