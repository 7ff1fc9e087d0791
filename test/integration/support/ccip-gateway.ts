// A CCIP-Read (EIP-3668) gateway on 127.0.0.1 for the test OffchainResolver (fixtures/ens): GET
// /{sender}/{data}.json or POST / with JSON {data, sender}, answering {data: abi.encode(bytes
// contenthash)}; can also hang or fail (timeout/error tests). Counts requests. Always closed.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeAbiParameters, isHex, toHex } from 'viem';
import type { Hex } from 'viem';

export type GatewayMode = 'answer' | 'hang' | 'error' | 'huge';

export interface GatewayRequest {
  method: 'GET' | 'POST';
  sender: string;
  /** the OffchainLookup callData: resolve(bytes name, bytes data) */
  data: Hex;
}

export interface CcipGateway {
  port: number;
  /** EIP-3668 GET template: http://127.0.0.1:<port>/{sender}/{data}.json (give this to the resolver) */
  url: string;
  /** EIP-3668 POST URL (no {data} in it): http://127.0.0.1:<port>/ */
  postUrl: string;
  /** requests received so far (hanging and failed ones included) */
  readonly requests: number;
  readonly received: readonly GatewayRequest[];
  /** contenthash answered from now on (raw ENSIP-7 bytes; empty = no record) */
  setContenthash(value: Uint8Array | Hex): void;
  /** answer (default), hang (never respond until closed), error (HTTP 500) or huge (a 1 MiB answer) */
  setMode(mode: GatewayMode): void;
  close(): Promise<void>;
}

/** The whole body of a request, as text. */
/** 'huge' mode: 16 KB chunks of padding before the answer (1 MiB in all). */
const HUGE_CHUNKS = 64;

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startCcipGateway(opts: { contenthash?: Uint8Array | Hex; mode?: GatewayMode } = {}): Promise<CcipGateway> {
  let contenthash: Hex = opts.contenthash === undefined ? '0x' : typeof opts.contenthash === 'string' ? opts.contenthash : toHex(opts.contenthash);
  let mode: GatewayMode = opts.mode ?? 'answer';
  const received: GatewayRequest[] = [];
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    void (async () => {
      let sender: string;
      let data: string;
      if (req.method === 'GET') {
        const m = /^\/([^/]+)\/([^/]+?)(?:\.json)?$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
        if (!m) return reply(res, 404, { message: 'expected /{sender}/{data}.json' });
        [sender, data] = [m[1]!, m[2]!];
      } else if (req.method === 'POST') {
        try {
          const body = JSON.parse(await readBody(req)) as { sender?: unknown; data?: unknown };
          [sender, data] = [String(body.sender), String(body.data)];
        } catch {
          return reply(res, 400, { message: 'expected JSON {data, sender}' });
        }
      } else {
        return reply(res, 405, { message: 'GET or POST' });
      }
      if (!isHex(data)) return reply(res, 400, { message: 'data is not hex' });
      received.push({ method: req.method, sender, data });
      if (mode === 'hang') return; // the socket stays open until the client gives up or close()
      if (mode === 'error') return reply(res, 500, { message: 'gateway told to fail' });
      if (mode === 'huge') {
        // A well-formed answer padded past any sane cap, streamed (no content-length) in 16 KB chunks.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = ' '.repeat(16 * 1024);
        for (let i = 0; i < HUGE_CHUNKS && !res.destroyed; i++) res.write(chunk);
        return res.end(JSON.stringify({ data: encodeAbiParameters([{ type: 'bytes' }], [contenthash]) }));
      }
      reply(res, 200, { data: encodeAbiParameters([{ type: 'bytes' }], [contenthash]) });
    })().catch(() => reply(res, 500, { message: 'internal error' }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/{sender}/{data}.json`,
    postUrl: `http://127.0.0.1:${port}/`,
    get requests() {
      return received.length;
    },
    received,
    setContenthash: (v) => {
      contenthash = typeof v === 'string' ? v : toHex(v);
    },
    setMode: (m) => {
      mode = m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
