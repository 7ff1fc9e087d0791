// The check the DNS listeners make before a packet reaches the wire handler: is the client allowed
// (access-control.ts), and over UDP, is its network within its response rate (response-rate-limit.ts).
// One address parse per packet into a reused scratch; nothing allocated on the way.
import type { Registry } from 'prom-client';
import { Admission } from '../core/admission.js';
import { FastCounter, scrapedCounter } from '../observability/metrics.js';
import { AccessList } from './access-control.js';
import { ClientAddress, parseAddressInto } from './client-address.js';
import { rateLimitOptions, type ClientPolicyConfig } from './client-policy-config.js';
import { RateLimitMetrics, RateVerdict, ResponseRateLimiter } from './response-rate-limit.js';

export class ClientGate {
  access: AccessList;
  rateLimiter: ResponseRateLimiter;
  private readonly scratch = new ClientAddress();
  private readonly refused = new FastCounter();
  private readonly rateMetrics: RateLimitMetrics;

  constructor(
    dns: ClientPolicyConfig,
    registry: Registry,
    private readonly now: () => number,
  ) {
    this.access = AccessList.fromConfig(dns);
    this.rateMetrics = new RateLimitMetrics(registry);
    this.rateLimiter = new ResponseRateLimiter(rateLimitOptions(dns), this.rateMetrics, now);
    scrapedCounter(registry, 'dnslinkd_clients_refused_total', 'Clients outside dns.allow answered REFUSED: UDP queries and TCP connections', this.refused);
  }

  /** Another allow-list and rate limit (a configuration reload); the rate accounts start afresh. */
  reconfigure(dns: ClientPolicyConfig): void {
    this.access = AccessList.fromConfig(dns);
    this.rateLimiter = new ResponseRateLimiter(rateLimitOptions(dns), this.rateMetrics, this.now);
  }

  /** A UDP datagram from `address`: rate limited first (refusals count too), then the allow-list. */
  udp(address: string): Admission {
    const client = parseAddressInto(address, this.scratch);
    if (this.rateLimiter.enabled) {
      const verdict = this.rateLimiter.account(client);
      if (verdict === RateVerdict.DROP) return Admission.DROP;
      if (verdict === RateVerdict.SLIP) return Admission.SLIP;
    }
    return this.allowed(client);
  }

  /** A TCP connection from `address` (decided once for all its queries; never rate limited). */
  tcp(address: string | undefined): Admission {
    return this.allowed(parseAddressInto(address ?? '', this.scratch));
  }

  private allowed(client: ClientAddress): Admission {
    if (this.access.admits(client)) return Admission.ANSWER;
    this.refused.inc();
    return Admission.REFUSE;
  }
}
