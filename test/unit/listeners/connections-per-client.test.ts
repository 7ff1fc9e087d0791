// The per-client connection count groups addresses by network (an IPv4 /24, an IPv6 /56 by
// default, configurable), so many addresses of one network share one cap; release frees a place.
import { describe, expect, it } from 'vitest';
import { NetworkGrouping } from '../../../src/listeners/client-address.js';
import { ConnectionsPerClient } from '../../../src/listeners/connections-per-client.js';

describe('ConnectionsPerClient', () => {
  it('counts the addresses of one IPv4 /24 together, and another /24 apart', () => {
    const perClient = new ConnectionsPerClient(new NetworkGrouping(24, 56));
    const admitted = ['192.0.2.1', '192.0.2.2', '::ffff:192.0.2.3'].map((a) => perClient.admit(a, 3));
    expect(admitted.every((key) => key !== undefined)).toBe(true);
    expect(perClient.admit('192.0.2.200', 3)).toBeUndefined();
    expect(perClient.admit('192.0.3.1', 3)).toBeDefined();
    perClient.release(admitted[0]!);
    expect(perClient.admit('192.0.2.200', 3)).toBeDefined();
  });

  it('with a /32 prefix counts each IPv4 address on its own', () => {
    const perClient = new ConnectionsPerClient(new NetworkGrouping(32, 128));
    for (let i = 1; i <= 32; i++) {
      expect(perClient.admit(`127.0.0.${i}`, 1)).toBeDefined();
      expect(perClient.admit(`127.0.0.${i}`, 1)).toBeUndefined();
    }
    expect(perClient.networksOpen).toBe(32);
  });

  it('counts the addresses of one IPv6 /56 together', () => {
    const perClient = new ConnectionsPerClient(new NetworkGrouping(24, 56));
    expect(perClient.admit('2001:db8:0:1::1', 2)).toBeDefined();
    expect(perClient.admit('2001:db8:0:ff:ffff::2', 2)).toBeDefined(); // same /56 (2001:db8:0:00xx)
    expect(perClient.admit('2001:db8:0:42::3', 2)).toBeUndefined();
    expect(perClient.admit('2001:db8:0:100::1', 2)).toBeDefined(); // the next /56
  });

  it('releases to zero and forgets the network', () => {
    const perClient = new ConnectionsPerClient(new NetworkGrouping(24, 56));
    const key = perClient.admit('198.51.100.7', 1)!;
    expect(perClient.networksOpen).toBe(1);
    perClient.release(key);
    expect(perClient.networksOpen).toBe(0);
  });
});
