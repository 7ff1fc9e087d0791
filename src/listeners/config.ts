// Configuration of the listeners: the keys under `dns` that the UDP and TCP listeners own
// (address, EDNS size, TCP limits, worker processes) and the `http` object (address, h2c, body
// limit, TLS, and the limits every HTTP server applies to its clients: timeouts, connections per
// client address, HTTP/2 streams and header size). docs/configuration.md is the complete reference.
import { z } from 'zod';
import { hostPort, millis } from '../config/units.js';

/** Keys under `dns` owned by the UDP and TCP listeners. */
export const dnsListenerKeys = {
  listen: hostPort.default('127.0.0.1:10053'),
  udpPayloadSize: z.number().int().min(512).max(4096).default(1232),
  /** SO_RCVBUF of the UDP socket, in bytes (Unbound's so-rcvbuf); the kernel caps it at net.core.rmem_max. */
  recvBufferSize: z.number().int().min(4096).max(1024 * 1024 * 1024).default(4 * 1024 * 1024),
  tcpIdleTimeoutMs: millis.default(10_000),
  tcpMaxConnections: z.number().int().min(1).default(1024),
  /** A TCP message must be complete this long after its first byte, however the bytes trickle in (RFC 7766 6.2.3). */
  tcpQueryTimeoutMs: millis.default(5_000),
  /** Concurrent TCP connections from one client network (see the two keys below); past it a new one is closed at once. */
  tcpMaxConnectionsPerClient: z.number().int().min(1).default(32),
  /** Prefix length that makes one IPv4 client network for dns.tcpMaxConnectionsPerClient. */
  tcpClientIpv4PrefixLength: z.number().int().min(8).max(32).default(24),
  /** Prefix length that makes one IPv6 client network for dns.tcpMaxConnectionsPerClient. */
  tcpClientIpv6PrefixLength: z.number().int().min(16).max(128).default(56),
  /** Queries one TCP connection may have unanswered at once. */
  tcpMaxPipelined: z.number().int().min(1).default(64),
  /** How DNS over UDP is read and answered: the recvmmsg/sendmmsg addon built at install (on), node:dgram (off), or the addon when it is there (auto). */
  udpBatching: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Processes serving (node:cluster); 1: a single process, no cluster. Each has its own cache. */
  workers: z.number().int().min(1).max(256).default(1),
};

export const httpConfigSchema = z
  .object({
    listen: hostPort.default('127.0.0.1:8053'),
    /** Also speak HTTP/2 with prior knowledge (h2c) on the cleartext listener, next to HTTP/1.1. */
    h2c: z.boolean().default(true),
    /** Largest DoH POST body accepted, in bytes (a DNS message is at most 65535). */
    bodyLimit: z.number().int().min(512).max(65_535).default(65_535),
    /** A second listener speaking HTTPS (HTTP/2 and HTTP/1.1 by ALPN), same routes. */
    tls: z
      .object({
        listen: hostPort.default('127.0.0.1:8443'),
        /** PEM certificate chain file. */
        cert: z.string().min(1),
        /** PEM private key file. */
        key: z.string().min(1),
      })
      .strict()
      .optional(),
    /** A request's line and headers must all arrive within this (slow-loris); HTTP/2: see keepAliveTimeoutMs. */
    headersTimeoutMs: millis.default(10_000),
    /** A whole request, body included, must arrive within this (an HTTP/2 stream: be answered and closed). */
    requestTimeoutMs: millis.default(30_000),
    /** A connection with no request in progress (an HTTP/2 session with no open stream) is closed after this. */
    keepAliveTimeoutMs: millis.default(30_000),
    /** Connections one client network (see the two keys below) may hold open at once, per listener; more are closed at once. */
    maxConnectionsPerClient: z.number().int().min(1).default(64),
    /** Prefix length that makes one IPv4 client network for http.maxConnectionsPerClient. */
    clientIpv4PrefixLength: z.number().int().min(8).max(32).default(24),
    /** Prefix length that makes one IPv6 client network for http.maxConnectionsPerClient. */
    clientIpv6PrefixLength: z.number().int().min(16).max(128).default(56),
    /** Streams one HTTP/2 session may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
    h2MaxConcurrentStreams: z.number().int().min(1).max(10_000).default(100),
    /** Largest HTTP/2 header list, in bytes (SETTINGS_MAX_HEADER_LIST_SIZE); HTTP/1.1's limit is 16384. */
    h2MaxHeaderListSize: z.number().int().min(1024).max(65_535).default(16_384),
  })
  .strict()
  .prefault({})
  .superRefine((http, ctx) => {
    // Node refuses a headers timeout longer than the request timeout it is part of.
    if (http.headersTimeoutMs > http.requestTimeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['headersTimeoutMs'],
        message: `${http.headersTimeoutMs} is longer than http.requestTimeoutMs (${http.requestTimeoutMs}): the headers are part of the request`,
      });
    }
  });

/** What every HTTP server of dnslinkd (public, TLS, admin) limits its clients to. */
export type HttpLimits = Pick<
  z.output<typeof httpConfigSchema>,
  | 'headersTimeoutMs'
  | 'requestTimeoutMs'
  | 'keepAliveTimeoutMs'
  | 'maxConnectionsPerClient'
  | 'clientIpv4PrefixLength'
  | 'clientIpv6PrefixLength'
  | 'h2MaxConcurrentStreams'
  | 'h2MaxHeaderListSize'
>;
