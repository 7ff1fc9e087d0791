// One exchange with one upstream server over UDP, TCP or DoH (RFC 8484 POST). Each exchange uses a
// random ID and (UDP) a fresh socket on a random source port, connected to the upstream so answers
// from any other address or port never arrive; an answer whose ID or question does not match is
// dropped, as is anything that is not a response. Truncated UDP answers retry on TCP. A DoH body
// is read up to the largest DNS message, no further.
import { randomInt } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { MessageReader, frameMessage } from '../../dns/tcp-framing.js';
import type { Question } from '../../dns/types.js';
import { decodeResponse, encodeQuery, responseMatches, type DecodedResponse } from '../../dns/upstream-codec.js';
import { CodedError, errorMessage } from '../../errors.js';
import { readCapped } from '../../http-body.js';
import type { UpstreamEndpoint } from './upstream-url.js';

/** The response in `buf` when it answers query `id` for `question`, else undefined (spoofed, stray or broken). */
function acceptAnswer(buf: Buffer, id: number, question: Question): DecodedResponse | undefined {
  if (!responseMatches(buf, id, question)) return undefined;
  try {
    return decodeResponse(buf);
  } catch {
    return undefined;
  }
}

function exchangeUdp(endpoint: UpstreamEndpoint, question: Question, timeoutMs: number): Promise<DecodedResponse> {
  const id = randomInt(0, 0x10000);
  const query = encodeQuery(id, question);
  const socket = dgram.createSocket(net.isIPv6(endpoint.host) ? 'udp6' : 'udp4');
  return new Promise<DecodedResponse>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => finish(new CodedError('UPSTREAM_TIMEOUT', `no answer from ${endpoint.url} within ${timeoutMs} ms`)), timeoutMs);
    function finish(result: DecodedResponse | Error): void {
      if (settled) return; // a late send callback or error after the timeout closed the socket
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('message');
      socket.close();
      if (result instanceof Error) reject(result);
      else resolve(result);
    }
    const failed = (err: Error) => finish(new CodedError('UPSTREAM_NETWORK', `${endpoint.url}: ${err.message}`));
    // ICMP port unreachable reaches a connected socket as ECONNREFUSED: a closed port fails at once.
    socket.on('error', failed);
    socket.on('message', (msg) => {
      const response = acceptAnswer(msg, id, question);
      if (response) finish(response); // else spoofed or stray: keep waiting
    });
    // Connected: the kernel delivers only datagrams from the upstream's own address and port, so
    // an answer sent from anywhere else (another port, another address) never reaches us.
    socket.connect(endpoint.port, endpoint.host, (err?: Error) => {
      if (err) return failed(err);
      if (settled) return;
      socket.send(query, (sendErr) => {
        if (sendErr) failed(sendErr);
      });
    });
  });
}

function exchangeTcp(endpoint: UpstreamEndpoint, question: Question, timeoutMs: number): Promise<DecodedResponse> {
  const id = randomInt(0, 0x10000);
  const query = encodeQuery(id, question, 65535);
  return new Promise<DecodedResponse>((resolve, reject) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port });
    const reader = new MessageReader();
    const timer = setTimeout(() => finish(new CodedError('UPSTREAM_TIMEOUT', `no answer from ${endpoint.url} within ${timeoutMs} ms`)), timeoutMs);
    function finish(result: DecodedResponse | Error): void {
      clearTimeout(timer);
      socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    }
    socket.on('error', (err) => finish(new CodedError('UPSTREAM_NETWORK', `${endpoint.url}: ${err.message}`)));
    socket.on('close', () => finish(new CodedError('UPSTREAM_NETWORK', `${endpoint.url}: connection closed before an answer`)));
    socket.on('connect', () => socket.write(frameMessage(query)));
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk, (message) => {
        const response = acceptAnswer(message, id, question);
        if (!response) return true; // stray: keep reading
        finish(response);
        return false;
      });
    });
  });
}

/** The largest DNS message (a DoH answer's body is one). */
const MAX_DNS_MESSAGE = 65_535;

/** A DoH request or its body read that failed: timed out (the request's signal) or the network. */
function fetchFailure(endpoint: UpstreamEndpoint, err: unknown): CodedError {
  const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
  return new CodedError(timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_NETWORK', `${endpoint.url}: ${errorMessage(err)}`);
}

async function exchangeDoh(endpoint: UpstreamEndpoint, question: Question, timeoutMs: number): Promise<DecodedResponse> {
  const query = encodeQuery(0, question, 65535); // RFC 8484 4.1: ID 0 for cache friendliness
  let res: Response;
  try {
    res = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
      body: query,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw fetchFailure(endpoint, err);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new CodedError('UPSTREAM_HTTP', `${endpoint.url}: HTTP ${res.status}`);
  }
  const tooLarge = () => new CodedError('UPSTREAM_BAD_RESPONSE', `${endpoint.url}: answer larger than ${MAX_DNS_MESSAGE} bytes`);
  let body: Buffer;
  try {
    body = await readCapped(res, MAX_DNS_MESSAGE, tooLarge);
  } catch (err) {
    throw err instanceof CodedError ? err : fetchFailure(endpoint, err);
  }
  const response = acceptAnswer(body, 0, question);
  if (!response) {
    throw new CodedError('UPSTREAM_BAD_RESPONSE', `${endpoint.url}: answer does not match the question`);
  }
  return response;
}

/** One exchange with an upstream; UDP answers with TC=1 are asked again over TCP. */
export async function exchange(endpoint: UpstreamEndpoint, question: Question, timeoutMs: number): Promise<DecodedResponse> {
  switch (endpoint.protocol) {
    case 'udp': {
      const started = Date.now();
      const response = await exchangeUdp(endpoint, question, timeoutMs);
      if (!response.truncated) return response;
      const left = Math.max(1, timeoutMs - (Date.now() - started));
      return exchangeTcp(endpoint, question, left);
    }
    case 'tcp':
      return exchangeTcp(endpoint, question, timeoutMs);
    case 'https':
    case 'http':
      return exchangeDoh(endpoint, question, timeoutMs);
  }
}
