// Response rate limiting over UDP per client network (like BIND's RRL): each network (/24, /56 by
// default) has an account credited `responsesPerSecond` per second; past it a response is dropped,
// and every `slip`-th one goes out as a TC=1 answer so a real client retries over TCP (never limited).
import type { Registry } from 'prom-client';
import { FastCounter, scrapedCounter } from '../observability/metrics.js';
import { NetworkGrouping, type ClientAddress } from './client-address.js';
import type { RateLimitOptions } from './client-policy-config.js';

/** What to do with one response. */
export const RateVerdict = { SEND: 0, DROP: 1, SLIP: 2 } as const;
export type RateVerdict = (typeof RateVerdict)[keyof typeof RateVerdict];

interface Account {
  /** Responses still allowed; negative: owed (down to -rate * window). */
  balance: number;
  /** When the balance was last brought up to date (ms). */
  updatedAt: number;
  /** Limited responses since the last slip. */
  sinceSlip: number;
}

export class RateLimitMetrics {
  readonly dropped = new FastCounter();
  readonly slipped = new FastCounter();

  constructor(registry: Registry) {
    scrapedCounter(registry, 'dnslinkd_rate_limit_dropped_total', 'UDP responses dropped by the response rate limit (dns.rateLimit)', this.dropped);
    scrapedCounter(registry, 'dnslinkd_rate_limit_slipped_total', 'UDP responses over the rate limit sent as TC=1 without records (dns.rateLimit.slip)', this.slipped);
  }
}

export class ResponseRateLimiter {
  private readonly accounts = new Map<number, Account>();
  /** The account networks share once `maxNetworks` are tracked. */
  private readonly overflow: Account;
  private readonly floor: number;
  /** Which network a client's responses are counted to (NetworkGrouping: /24, /56 by default). */
  private readonly networks: NetworkGrouping;
  private lastSweep: number;

  constructor(
    private readonly options: RateLimitOptions,
    private readonly metrics: RateLimitMetrics,
    private readonly now: () => number,
  ) {
    this.floor = -options.responsesPerSecond * options.window;
    this.networks = new NetworkGrouping(options.ipv4PrefixLength, options.ipv6PrefixLength);
    this.lastSweep = now();
    this.overflow = { balance: options.responsesPerSecond, updatedAt: this.lastSweep, sinceSlip: 0 };
  }

  get enabled(): boolean {
    return this.options.responsesPerSecond > 0;
  }

  /** What the start log says about it. */
  get description(): string {
    const o = this.options;
    if (!this.enabled) return 'off';
    return `${o.responsesPerSecond}/s per /${o.ipv4PrefixLength} (IPv4) or /${o.ipv6PrefixLength} (IPv6), window ${o.window} s, slip ${o.slip}`;
  }

  /** Networks tracked now. */
  get trackedNetworks(): number {
    return this.accounts.size;
  }

  /** Counts one response to `client` and says whether to send it, drop it or slip it. */
  account(client: ClientAddress): RateVerdict {
    const now = this.now();
    const account = this.accountOf(this.networks.keyOf(client), now);
    const rate = this.options.responsesPerSecond;
    const credited = account.balance + ((now - account.updatedAt) * rate) / 1000;
    account.updatedAt = now;
    account.balance = Math.max(this.floor, Math.min(rate, credited) - 1);
    if (account.balance >= 0) return RateVerdict.SEND;
    const { slip } = this.options;
    if (slip > 0 && ++account.sinceSlip >= slip) {
      account.sinceSlip = 0;
      this.metrics.slipped.inc();
      return RateVerdict.SLIP;
    }
    this.metrics.dropped.inc();
    return RateVerdict.DROP;
  }

  private accountOf(key: number, now: number): Account {
    const known = this.accounts.get(key);
    if (known) return known;
    // A full table is swept at most once a second, so a flood of new networks cannot make each packet walk it.
    const sinceSweep = now - this.lastSweep;
    if (sinceSweep >= this.options.window * 1000 || (this.accounts.size >= this.options.maxNetworks && sinceSweep >= 1000)) this.sweep(now);
    if (this.accounts.size >= this.options.maxNetworks) return this.overflow;
    const account: Account = { balance: this.options.responsesPerSecond, updatedAt: now, sinceSlip: 0 };
    this.accounts.set(key, account);
    return account;
  }

  /** Forgets networks whose account is full again (idle long enough to have earned back every debt). */
  private sweep(now: number): void {
    this.lastSweep = now;
    const rate = this.options.responsesPerSecond;
    for (const [key, account] of this.accounts) {
      if (account.balance + ((now - account.updatedAt) * rate) / 1000 >= rate) this.accounts.delete(key);
    }
  }
}
