// One exchange with one upstream server over UDP, TCP or DoH (RFC 8484 POST). Each exchange uses a
// random ID; UDP goes over the shared pool of sockets (udp-socket-pool.ts: random source ports,
// connected to the upstream so answers from any other address or port never arrive); an answer
// whose ID or question does not match is dropped, as is anything that is not a response.
// Truncated UDP answers retry on TCP. A DoH body is read up to the largest DNS message, no further.
// `stop` (the pool's shutdown signal) ends a TCP or DoH exchange at once with its reason.
import { randomInt } from 'node:crypto';
import * as net from 'node:net';
import { MessageReader, frameMessage } from '../../dns/tcp-framing.js';
import type { Question } from '../../dns/types.js';
import { encodeQuery, type DecodedResponse } from '../../dns/upstream-codec.js';
import { CodedError, errorMessage } from '../../errors.js';
import { readCapped } from '../../http-body.js';
import { acceptAnswer } from './accept-answer.js';
import { UdpSocketPool, networkError } from './udp-socket-pool.js';
import type { UpstreamEndpoint } from './upstream-url.js';

function exchangeTcp(endpoint: UpstreamEndpoint, question: Question, timeoutMs: number, stop?: AbortSignal): Promise<DecodedResponse> {
  const id = randomInt(0, 0x10000);
  const query = encodeQuery(id, question, 65535);
  return new Promise<DecodedResponse>((resolve, reject) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port });
    const reader = new MessageReader();
    const timer = setTimeout(() => finish(new CodedError('UPSTREAM_TIMEOUT', `no answer from ${endpoint.url} within ${timeoutMs} ms`)), timeoutMs);
    const onStop = () => finish(stop!.reason as Error);
    stop?.addEventListener('abort', onStop, { once: true });
    function finish(result: DecodedResponse | Error): void {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
      socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    }
    socket.on('error', (err) => finish(networkError(endpoint, err)));
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
function fetchFailure(endpoint: UpstreamEndpoint, err: unknown, stop?: AbortSignal): CodedError {
  if (stop?.aborted) return stop.reason as CodedError;
  const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
  return new CodedError(timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_NETWORK', `${endpoint.url}: ${errorMessage(err)}`);
}

async function exchangeDoh(endpoint: UpstreamEndpoint, question: Question, timeoutMs: number, stop?: AbortSignal): Promise<DecodedResponse> {
  const query = encodeQuery(0, question, 65535); // RFC 8484 4.1: ID 0 for cache friendliness
  let res: Response;
  try {
    res = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
      body: query,
      signal: stop ? AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]) : AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw fetchFailure(endpoint, err, stop);
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
    throw err instanceof CodedError ? err : fetchFailure(endpoint, err, stop);
  }
  const response = acceptAnswer(body, 0, question);
  if (!response) {
    throw new CodedError('UPSTREAM_BAD_RESPONSE', `${endpoint.url}: answer does not match the question`);
  }
  return response;
}

let defaultUdpSockets: UdpSocketPool | undefined;

/**
 * One exchange with an upstream; UDP answers with TC=1 are asked again over TCP. `stop` ends TCP
 * and DoH exchanges with its reason (UDP ones are ended through their socket pool: failPending).
 */
export async function exchange(endpoint: UpstreamEndpoint, question: Question, timeoutMs: number, udpSockets?: UdpSocketPool, stop?: AbortSignal): Promise<DecodedResponse> {
  switch (endpoint.protocol) {
    case 'udp': {
      const started = Date.now();
      const response = await (udpSockets ?? (defaultUdpSockets ??= new UdpSocketPool())).query(endpoint, question, timeoutMs);
      if (!response.truncated) return response;
      const left = Math.max(1, timeoutMs - (Date.now() - started));
      return exchangeTcp(endpoint, question, left, stop);
    }
    case 'tcp':
      return exchangeTcp(endpoint, question, timeoutMs, stop);
    case 'https':
    case 'http':
      return exchangeDoh(endpoint, question, timeoutMs, stop);
  }
}
