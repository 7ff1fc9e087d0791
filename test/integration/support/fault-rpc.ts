// A fault-injecting Ethereum JSON-RPC endpoint on 127.0.0.1 in front of a real one (anvil): it
// passes each request through, or fails the way its mode says, switchable at run time: down
// (connection refused), HTTP 500, hang (no answer until it closes), garbage JSON, a JSON-RPC
// error (-32005, as rate-limited providers answer). Counts requests.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './ccip-gateway.js';

export const RPC_FAULTS = ['down', 'http-500', 'hang', 'garbage-json', 'rpc-error'] as const;
/** What `rpc-error` answers. */
export const RPC_ERROR = { code: -32005, message: 'request rate exceeded' } as const;
export type RpcFault = (typeof RPC_FAULTS)[number];

export interface FaultRpc {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Requests received (while up). */
  readonly requests: number;
  /** Switches the mode; `down` closes the port, any other mode opens it again (same number). */
  setMode(mode: 'pass' | RpcFault): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultRpc(targetUrl: string): Promise<FaultRpc> {
  let mode: 'pass' | RpcFault = 'pass';
  let requests = 0;
  const send = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };
  const server = createServer((req, res) => {
    requests++;
    void (async () => {
      const body = await readBody(req);
      if (mode === 'hang') return; // the socket stays open until the client gives up or close()
      if (mode === 'http-500') return send(res, 500, '{"message":"told to fail"}');
      if (mode === 'garbage-json') return send(res, 200, '{"jsonrpc":"2.0","id":1,"result":"0x\u0000<html>');
      if (mode === 'rpc-error') return send(res, 200, JSON.stringify({ jsonrpc: '2.0', id: (JSON.parse(body) as { id?: unknown }).id ?? 1, error: RPC_ERROR }));
      const upstream = await fetch(targetUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000) });
      send(res, upstream.status, await upstream.text());
    })().catch(() => send(res, 502, '{"message":"the proxied endpoint failed"}'));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    async setMode(next) {
      if (next === 'down' && mode !== 'down') await close();
      else if (next !== 'down' && mode === 'down') await listen(port);
      mode = next;
    },
    close: () => (mode === 'down' ? Promise.resolve() : close()),
  };
}
