// Open connections per client network: the one count behind every per-client connection cap (the
// TCP DNS listener's dns.tcpMaxConnectionsPerClient, every HTTP listener's http.maxConnectionsPerClient).
// Addresses count by network (an IPv4 /24, an IPv6 /56 by default: NetworkGrouping), so one holder
// of many addresses gets no more than one network's share. Admitted when a connection opens,
// released once when it closes.
import { NetworkGrouping } from './client-address.js';

export class ConnectionsPerClient {
  private readonly open = new Map<number, number>();

  constructor(readonly networks: NetworkGrouping) {}

  /** Counts one more connection from `address`'s network: its key, or undefined (nothing counted) when the network already has `cap`. */
  admit(address: string, cap: number): number | undefined {
    const key = this.networks.keyOfText(address);
    const count = this.open.get(key) ?? 0;
    if (count >= cap) return undefined;
    this.open.set(key, count + 1);
    return key;
  }

  /** Releases a connection admitted with `key`. */
  release(key: number): void {
    const count = this.open.get(key) ?? 0;
    if (count <= 1) this.open.delete(key);
    else this.open.set(key, count - 1);
  }

  /** Networks with a connection open now. */
  get networksOpen(): number {
    return this.open.size;
  }
}
