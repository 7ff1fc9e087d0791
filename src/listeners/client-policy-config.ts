// Configuration of who the DNS listeners answer and how much: the keys under `dns` owned by the
// client policy (`allow`, `openResolver`, `rateLimit`), the options the access list and the rate
// limiter take, and the defaults that depend on each other. docs/configuration.md has them all.
import { z } from 'zod';
import { parseNetwork } from './client-address.js';

/** A client network as written (`192.0.2.0/24`, `2001:db8::/32`, one address); compiled by access-control.ts. */
const clientNetwork = z.string().superRefine((text, ctx) => {
  const network = parseNetwork(text);
  if (typeof network === 'string') ctx.addIssue({ code: 'custom', message: network });
});

/** Responses per second per client network when `dns.openResolver` is true and no rate is given. */
const OPEN_RESOLVER_RESPONSES_PER_SECOND = 100;

/** Keys under `dns` owned by the client policy (listeners/access-control.ts, response-rate-limit.ts). */
export const clientPolicyDnsKeys = {
  /** Client networks answered over UDP and TCP (CIDR or single addresses); others get REFUSED. Unset: loopback only. */
  allow: z.array(clientNetwork).min(1, 'list at least one client network; to answer every client, set dns.openResolver: true instead').optional(),
  /** Serve clients from anywhere on purpose (a public resolver): allows a non-loopback dns.listen without dns.allow. */
  openResolver: z.boolean().default(false),
  /** Response rate limiting per client network, UDP only (like BIND's RRL). */
  rateLimit: z
    .object({
      /** Responses per second one client network gets over UDP; 0: off. Unset: off, or 100 with dns.openResolver. */
      responsesPerSecond: z.number().int().min(0).max(1_000_000).optional(),
      /** Seconds of excess a network is held to: past the limit, it waits up to this long after it slows down. */
      window: z.number().int().min(1).max(3600).default(15),
      /** Every Nth response over the limit is sent as a TC=1 answer without records (the client retries over TCP); 0: drop all. */
      slip: z.number().int().min(0).max(10).default(2),
      /** Prefix length that makes one IPv4 client network. */
      ipv4PrefixLength: z.number().int().min(8).max(32).default(24),
      /** Prefix length that makes one IPv6 client network. */
      ipv6PrefixLength: z.number().int().min(16).max(128).default(56),
      /** Networks tracked at once; past it, new networks share one account. */
      maxNetworks: z.number().int().min(1).max(10_000_000).default(100_000),
    })
    .strict()
    .prefault({}),
};

const clientPolicyObject = z.object(clientPolicyDnsKeys);
/** The client policy's keys as validated (defaults filled in). */
export type ClientPolicyConfig = z.output<typeof clientPolicyObject>;

export interface RateLimitOptions {
  responsesPerSecond: number;
  window: number;
  slip: number;
  ipv4PrefixLength: number;
  ipv6PrefixLength: number;
  maxNetworks: number;
}

/** The rate limit in force: the configured rate, else off, or on when the resolver is open on purpose. */
export function rateLimitOptions(dns: ClientPolicyConfig): RateLimitOptions {
  const { responsesPerSecond, ...rest } = dns.rateLimit;
  return { ...rest, responsesPerSecond: responsesPerSecond ?? (dns.openResolver ? OPEN_RESOLVER_RESPONSES_PER_SECOND : 0) };
}
