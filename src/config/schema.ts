// The configuration's shape, defaults and validation (zod). Every key is documented in
// docs/configuration.md; an unknown key or bad value stops the start with its dotted path named.
import { z } from 'zod';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:5353 or [::1]:5353')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be 0-65535');

const upstreamUrl = z.string().regex(/^(udp|tcp|https|http):\/\/\S+$/, 'expected udp://host:port, tcp://host:port or https://host/dns-query');

const seconds = z.number().int().min(0);
const millis = z.number().int().min(1);

export const configSchema = z
  .object({
    dns: z
      .object({
        listen: hostPort.default('127.0.0.1:5353'),
        /** Forward non-DNSLink questions through the cache; off: only TXT is answered, others REFUSED. */
        forward: z.boolean().default(true),
        udpPayloadSize: z.number().int().min(512).max(4096).default(1232),
        tcpIdleTimeoutMs: millis.default(10_000),
        tcpMaxConnections: z.number().int().min(1).default(1024),
        /** Queries one TCP connection may have unanswered at once. */
        tcpMaxPipelined: z.number().int().min(1).default(64),
        /** Processes serving (node:cluster); 1: a single process, no cluster. Each has its own cache. */
        workers: z.number().int().min(1).max(256).default(1),
      })
      .strict()
      .prefault({}),
    http: z
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
      })
      .strict()
      .prefault({}),
    /** Upstream resolvers in order of preference; default: the nameservers of /etc/resolv.conf. */
    upstreams: z.array(upstreamUrl).optional(),
    upstreamTimeoutMs: millis.default(1_000),
    /** How long a client waits before an expired entry is served stale (RFC 8767 suggests 1.8 s). */
    clientDeadlineMs: millis.default(1_800),
    cache: z
      .object({
        maxEntries: z.number().int().min(1).default(100_000),
        maxBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
        minTtl: seconds.default(0),
        maxTtl: seconds.default(86_400),
        negativeMinTtl: seconds.default(0),
        negativeMaxTtl: seconds.default(3_600),
        serveStale: z.boolean().default(true),
        staleMaxAge: seconds.default(86_400),
        staleTtl: seconds.default(30),
        staleRefreshMs: z.number().int().min(0).default(30_000),
        prefetch: z.boolean().default(true),
        prefetchMinHits: z.number().int().min(1).default(2),
        prefetchThreshold: z.number().min(0).max(1).default(0.1),
      })
      .strict()
      .prefault({})
      .refine((c) => c.minTtl <= c.maxTtl, { message: 'minTtl must not exceed maxTtl', path: ['minTtl'] })
      .refine((c) => c.negativeMinTtl <= c.negativeMaxTtl, { message: 'negativeMinTtl must not exceed negativeMaxTtl', path: ['negativeMinTtl'] }),
    /** JSON file of local records; default: the demo records shipped in fixtures/. null: none. */
    localRecords: z.string().nullable().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema> & { upstreams: string[]; localRecords: string | null };
