// A webhook receiver for tests: a real HTTP server on 127.0.0.1 that checks each POST's
// X-Dnslinkd-Signature (HMAC-SHA256 over `<timestamp>.<body>`) and answers what the test scripts
// (500 for the next N POSTs, then 200), keeping every POST it got.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  body: string;
  event: Record<string, unknown>;
  signatureValid: boolean;
  timestamp: number;
  status: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  posts: ReceivedPost[];
  /** The next `n` POSTs are answered 500. */
  failNext(n: number): void;
  stop(): Promise<void>;
}

export function validSignature(secret: string, timestamp: string, body: string, header: string | undefined): boolean {
  const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  const got = Buffer.from(header ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
}

export async function startWebhookReceiver(secret: string, port = 0): Promise<WebhookReceiver> {
  const posts: ReceivedPost[] = [];
  let failing = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(req.headers['x-dnslinkd-timestamp'] ?? '');
      const signatureValid = validSignature(secret, timestamp, body, req.headers['x-dnslinkd-signature'] as string | undefined);
      const status = !signatureValid ? 401 : failing > 0 ? 500 : 200;
      if (signatureValid && failing > 0) failing--;
      posts.push({ body, event: JSON.parse(body) as Record<string, unknown>, signatureValid, timestamp: Number(timestamp), status, at: Date.now() });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/hook`,
    port: actual,
    posts,
    failNext: (n) => (failing = n),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
