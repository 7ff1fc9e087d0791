// What a failed request to an RPC endpoint is classified as, from viem's error and its causes, with
// real sockets: a closed port, an HTTP 500, a JSON-RPC error, a revert, a timeout, TLS spoken to a
// plain HTTP server; and the endpoint labels that keep API keys out of sight.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRequestError, http } from 'viem';
import { classifyRequestFailure, endpointLabel } from '../../../src/stages/ens/rpc-failure.js';

let server: Server;
let base: string;
let closed: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const id = (JSON.parse(body || '{}') as { id?: number }).id ?? 1;
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.url === '/500') return json(500, { message: 'no' });
      if (req.url === '/hang') return;
      if (req.url === '/revert') return json(200, { jsonrpc: '2.0', id, error: { code: 3, message: 'execution reverted', data: '0x' } });
      return json(200, { jsonrpc: '2.0', id, error: { code: -32000, message: 'header not found' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const other = createServer();
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  closed = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  await new Promise((resolve) => other.close(resolve));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function failureOf(url: string, timeout = 5000) {
  try {
    await http(url, { timeout, retryCount: 0 })({}).request({ method: 'eth_chainId' });
  } catch (err) {
    return classifyRequestFailure(err, timeout);
  }
  throw new Error(`${url} answered`);
}

describe('classifyRequestFailure', () => {
  it('names the cause viem hides behind "HTTP request failed."', async () => {
    expect(await failureOf(closed)).toEqual({ result: 'network', cause: 'ECONNREFUSED', message: 'connection refused (ECONNREFUSED)' });
    expect(await failureOf(`http://${base}/500`)).toEqual({ result: 'http', cause: 'HTTP_500', message: 'HTTP 500 Internal Server Error' });
    expect(await failureOf(`http://${base}/rpc`)).toEqual({ result: 'rpc_error', cause: 'JSONRPC_-32000', message: 'JSON-RPC error -32000: header not found' });
    expect(await failureOf(`http://${base}/revert`)).toMatchObject({ result: 'reverted', cause: 'REVERTED' });
    expect(await failureOf(`http://${base}/hang`, 300)).toEqual({ result: 'timeout', cause: 'TIMEOUT', message: 'no answer within 300 ms' });
    const tls = await failureOf(`https://${base}/`);
    expect(tls.result).toBe('tls');
    expect(tls.cause).toMatch(/^ERR_SSL_/);
    expect(tls.message).toBe(`TLS failed (${tls.cause})`);
  });
});

describe('classifyRequestFailure on causes no local socket can produce', () => {
  // As undici and viem wrap them: HttpRequestError > TypeError('fetch failed') > the socket's error.
  const wrapped = (cause: Error) => new HttpRequestError({ url: 'http://rpc.test', details: 'fetch failed', cause: new TypeError('fetch failed', { cause }) });
  const socketError = (code: string, message: string) => Object.assign(new Error(message), { code });
  it('names the errno, with happy eyeballs\' AggregateError followed to its first member', () => {
    expect(classifyRequestFailure(wrapped(socketError('ENETUNREACH', 'connect ENETUNREACH 10.0.0.1:443')), 2000)).toEqual({ result: 'network', cause: 'ENETUNREACH', message: 'network unreachable (ENETUNREACH)' });
    const both = new AggregateError([socketError('EHOSTUNREACH', 'connect EHOSTUNREACH'), socketError('ENETUNREACH', 'connect ENETUNREACH')], 'connect failed');
    expect(classifyRequestFailure(wrapped(both), 2000)).toMatchObject({ result: 'network', cause: 'EHOSTUNREACH' });
    expect(classifyRequestFailure(wrapped(socketError('CERT_HAS_EXPIRED', 'certificate has expired')), 2000)).toEqual({ result: 'tls', cause: 'CERT_HAS_EXPIRED', message: 'TLS failed (CERT_HAS_EXPIRED)' });
    expect(classifyRequestFailure(wrapped(new Error('bad port')), 2000)).toEqual({ result: 'network', cause: 'NETWORK', message: 'network error: bad port' });
  });
});

describe('endpointLabel', () => {
  it('shows the place and scheme://host[:port] only: no path, query or credentials', () => {
    expect(endpointLabel('https://user:pw@mainnet.infura.io/v3/0123456789abcdef?key=s3cret', 0)).toBe('#1 https://mainnet.infura.io');
    expect(endpointLabel('http://127.0.0.1:8545/', 2)).toBe('#3 http://127.0.0.1:8545');
  });
});
