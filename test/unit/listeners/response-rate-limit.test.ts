// The response rate limiter on a fake clock: the rate per network, slips, recovery, the window,
// how networks are grouped, the table bound, and the metrics.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientAddress, parseAddressInto } from '../../../src/listeners/client-address.js';
import { rateLimitOptions, type RateLimitOptions } from '../../../src/listeners/client-policy-config.js';
import { RateLimitMetrics, RateVerdict, ResponseRateLimiter } from '../../../src/listeners/response-rate-limit.js';
import { FakeClock } from '../../../src/stages/testing/harness.js';

const DEFAULTS: RateLimitOptions = { responsesPerSecond: 10, window: 5, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, maxNetworks: 1000 };

function limiter(options: Partial<RateLimitOptions> = {}) {
  const clock = new FakeClock();
  const registry = new Registry();
  const metrics = new RateLimitMetrics(registry);
  const rrl = new ResponseRateLimiter({ ...DEFAULTS, ...options }, metrics, clock.now);
  const send = (address: string, count = 1): RateVerdict[] => Array.from({ length: count }, () => rrl.account(parseAddressInto(address, new ClientAddress())));
  return { clock, registry, metrics, rrl, send };
}

const { SEND, DROP, SLIP } = RateVerdict;

describe('ResponseRateLimiter', () => {
  it('sends responsesPerSecond a second per network, then slips every slip-th and drops the rest', () => {
    const { send, metrics } = limiter();
    expect(send('192.0.2.1', 10)).toEqual(Array(10).fill(SEND));
    expect(send('192.0.2.1', 6)).toEqual([DROP, SLIP, DROP, SLIP, DROP, SLIP]);
    expect([metrics.dropped.value, metrics.slipped.value]).toEqual([3, 3]);
  });

  it('slip 1 truncates every limited response; slip 0 drops them all', () => {
    expect(limiter({ slip: 1 }).send('192.0.2.1', 13).slice(10)).toEqual([SLIP, SLIP, SLIP]);
    expect(limiter({ slip: 0 }).send('192.0.2.1', 13).slice(10)).toEqual([DROP, DROP, DROP]);
  });

  it('credits the rate back with time, at most one second of it', () => {
    const { send, clock } = limiter({ slip: 0 });
    send('192.0.2.1', 10);
    expect(send('192.0.2.1')).toEqual([DROP]);
    clock.advance(250); // 2.5 responses earned, 1 owed
    expect(send('192.0.2.1', 2)).toEqual([SEND, DROP]);
    clock.advance(60_000);
    expect(send('192.0.2.1', 11)).toEqual([...Array(10).fill(SEND), DROP]);
  });

  it('holds a network that kept flooding for up to window seconds after it stops', () => {
    const { send, clock } = limiter({ responsesPerSecond: 10, window: 5 });
    send('192.0.2.1', 1000); // owes far more than 10 * 5
    clock.advance(4_000); // 40 earned: still owing 10
    expect(send('192.0.2.1')).not.toEqual([SEND]);
    clock.advance(1_200);
    expect(send('192.0.2.1')).toEqual([SEND]);
  });

  it('counts a /24 (IPv4) or /56 (IPv6) as one client network, by default and as configured', () => {
    const { send } = limiter();
    send('192.0.2.1', 10);
    expect(send('192.0.2.254')).toEqual([DROP]);
    expect(send('::ffff:192.0.2.7')).toEqual([SLIP]);
    expect(send('192.0.3.1')).toEqual([SEND]);
    send('2001:db8:0:100::1', 10);
    expect(send('2001:db8:0:1ff:ffff::9')).toEqual([DROP]);
    expect(send('2001:db8:0:200::1')).toEqual([SEND]);

    const per32 = limiter({ ipv4PrefixLength: 32 });
    per32.send('192.0.2.1', 10);
    expect(per32.send('192.0.2.2')).toEqual([SEND]);
  });

  it('forgets idle networks, and networks past maxNetworks share one account', () => {
    const { send, clock, rrl } = limiter({ maxNetworks: 3 });
    for (const address of ['10.0.1.1', '10.0.2.1', '10.0.3.1']) send(address);
    expect(rrl.trackedNetworks).toBe(3);
    // Two new networks past the bound: one shared account, 10 a second between them.
    expect([...send('10.0.4.1', 5), ...send('10.0.5.1', 6)]).toEqual([...Array(10).fill(SEND), DROP]);
    clock.advance(5_000);
    send('10.0.6.1');
    expect(rrl.trackedNetworks).toBe(1);
  });

  it('is off at rate 0, which is the default unless the resolver is open on purpose', () => {
    const rateLimit = { window: 15, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, maxNetworks: 100_000 };
    expect(rateLimitOptions({ openResolver: false, rateLimit }).responsesPerSecond).toBe(0);
    expect(rateLimitOptions({ openResolver: true, rateLimit }).responsesPerSecond).toBe(100);
    expect(rateLimitOptions({ openResolver: true, rateLimit: { ...rateLimit, responsesPerSecond: 0 } }).responsesPerSecond).toBe(0);
    expect(limiter({ responsesPerSecond: 0 }).rrl.enabled).toBe(false);
  });

  it('exports dropped and slipped counts', async () => {
    const { send, registry } = limiter({ slip: 3 });
    send('192.0.2.1', 16);
    const text = await registry.metrics();
    expect(text).toMatch(/^dnslinkd_rate_limit_dropped_total 4$/m);
    expect(text).toMatch(/^dnslinkd_rate_limit_slipped_total 2$/m);
  });
});
