// Open connections per client address: the one count behind every per-client connection cap (the
// TCP DNS listener's dns.tcpMaxConnectionsPerClient, every HTTP listener's http.maxConnectionsPerClient).
// A connection is admitted or not when it opens and released once when it closes.

export class ConnectionsPerClient {
  private readonly open = new Map<string, number>();

  /** Counts one more connection from `address`; false (and nothing counted) when it already has `cap`. */
  admit(address: string, cap: number): boolean {
    const count = this.open.get(address) ?? 0;
    if (count >= cap) return false;
    this.open.set(address, count + 1);
    return true;
  }

  release(address: string): void {
    const count = this.open.get(address) ?? 0;
    if (count <= 1) this.open.delete(address);
    else this.open.set(address, count - 1);
  }
}
