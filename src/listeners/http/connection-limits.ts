// What every HTTP server of dnslinkd (cleartext HTTP/1.1 + h2c, TLS, admin) limits a client to:
// connections per client network, Node's HTTP/1.1 header, request and keep-alive timeouts, and for
// HTTP/2 the stream and header-list limits it advertises and the timeouts Node has no option for.
import type http from 'node:http';
import http2 from 'node:http2';
import type { Server, Socket } from 'node:net';
import { httpConfigSchema, type HttpLimits } from '../config.js';
import { NetworkGrouping } from '../client-address.js';
import { ConnectionsPerClient } from '../connections-per-client.js';

export type { HttpLimits };

/** The configured defaults (`http.*`), for servers started without a configuration (tests). */
export const DEFAULT_HTTP_LIMITS: HttpLimits = httpConfigSchema.parse({});

/**
 * Node's HTTP/1.1 timeouts. Node checks them every connectionsCheckingInterval (30 s by default,
 * which would let a 10 s header timeout run to 40 s): here a tenth of the shorter one.
 */
export function http1Options(limits: HttpLimits): http.ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10)),
  };
}

/**
 * HTTP/2 settings and Node's session guards. nghttp2 refuses each stream past maxConcurrentStreams
 * (RST_STREAM REFUSED_STREAM) and the session goes on. Past the others the session is closed: rapid
 * reset (CVE-2023-44487) by nghttp2's stream-reset rate limit (streamResetBurst, streamResetRate;
 * nghttp2 1.57 and later, Node 24 ships 1.70), streams Node itself refuses (session memory) by
 * maxSessionRejectedStreams, malformed frames by maxSessionInvalidFrames, a SETTINGS frame with too
 * many entries by maxSettings; a PING or SETTINGS flood by nghttp2's bound on the acknowledgements it
 * queues. The values given are Node's defaults, spelled out on purpose.
 */
export function http2Options(limits: HttpLimits): http2.ServerOptions {
  return {
    settings: { maxConcurrentStreams: limits.h2MaxConcurrentStreams, maxHeaderListSize: limits.h2MaxHeaderListSize },
    maxSessionRejectedStreams: 100,
    maxSessionInvalidFrames: 1000,
    maxSettings: 32,
    streamResetBurst: 1000,
    streamResetRate: 33,
  };
}

/**
 * Closes at once each connection past `maxConnectionsPerClient` from one client network (an IPv4
 * /24, an IPv6 /56 by default: http.clientIpv4PrefixLength, http.clientIpv6PrefixLength). Prepended,
 * so the servers' own 'connection' listeners (the h2c sniffer, TLS) run after it and find the
 * socket destroyed.
 */
export function limitConnectionsPerClient(server: Server, limits: Pick<HttpLimits, 'maxConnectionsPerClient' | 'clientIpv4PrefixLength' | 'clientIpv6PrefixLength'>): void {
  const perClient = new ConnectionsPerClient(new NetworkGrouping(limits.clientIpv4PrefixLength, limits.clientIpv6PrefixLength));
  const max = limits.maxConnectionsPerClient;
  server.prependListener('connection', (socket: Socket) => {
    const network = perClient.admit(socket.remoteAddress ?? '', max);
    if (network === undefined) {
      socket.destroy();
      return;
    }
    socket.once('close', () => perClient.release(network));
  });
}

/** Sweeps of a session's open streams per http.requestTimeoutMs (the bound on how late one is cancelled). */
export const SWEEPS_PER_REQUEST_TIMEOUT = 4;

/** What the sweep needs of a stream: a way to cancel it. */
export interface CancellableStream {
  close(code: number): void;
}

/**
 * The open streams of one HTTP/2 session and the sweep each began in, instead of a timer per
 * stream (a setTimeout, its closure and a clearTimeout per request cost more than the rest of a
 * cached DoH answer's bookkeeping). Swept every requestTimeoutMs / SWEEPS_PER_REQUEST_TIMEOUT: a
 * stream still open SWEEPS_PER_REQUEST_TIMEOUT + 1 sweeps after the one it began in is cancelled
 * (RST_STREAM CANCEL), so never before requestTimeoutMs and at most a quarter later (plus the
 * timer's own lateness). A Map keeps insertion order, so a sweep stops at the first stream too young.
 */
export class StreamDeadlines {
  private readonly began = new Map<CancellableStream, number>();
  private sweeps = 0;

  get open(): number {
    return this.began.size;
  }

  add(stream: CancellableStream): void {
    this.began.set(stream, this.sweeps);
  }

  /** Forgets a closed stream; true when it was the last one open. */
  remove(stream: CancellableStream): boolean {
    return this.began.delete(stream) && this.began.size === 0;
  }

  /** One sweep: cancels the streams open for longer than the request timeout. */
  sweep(): void {
    const due = ++this.sweeps - SWEEPS_PER_REQUEST_TIMEOUT;
    for (const [stream, began] of this.began) {
      if (began >= due) break;
      // Still counted open until its 'close' (remove), as a stream that ends by itself is.
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }
  }
}

/**
 * The timeouts Node's HTTP/2 server lacks: a session with no open stream for keepAliveTimeoutMs is
 * closed (GOAWAY), however many PINGs or SETTINGS keep it busy, which also bounds a session that
 * never sends a request; a stream not closed within requestTimeoutMs (a body that trickles, an
 * answer the client does not read) is cancelled, by StreamDeadlines' sweep (up to a quarter late).
 * Per stream: a Map entry and one listener shared by the session's streams, no timer, no closure.
 */
export function guardHttp2Session(session: http2.ServerHttp2Session, limits: HttpLimits): void {
  const deadlines = new StreamDeadlines();
  const idle = setTimeout(function closeIfIdle() {
    if (deadlines.open > 0) idle.refresh();
    else session.close();
  }, limits.keepAliveTimeoutMs);
  idle.unref();
  const sweep = setInterval(() => deadlines.sweep(), Math.max(1, Math.ceil(limits.requestTimeoutMs / SWEEPS_PER_REQUEST_TIMEOUT)));
  sweep.unref();
  session.once('close', () => {
    clearTimeout(idle);
    clearInterval(sweep);
  });
  function onStreamClose(this: http2.ServerHttp2Stream): void {
    if (deadlines.remove(this)) idle.refresh();
  }
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    deadlines.add(stream);
    stream.on('close', onStreamClose);
  });
}
