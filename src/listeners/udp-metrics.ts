// Metrics of the UDP listener: which transport reads and answers the datagrams (dns.udpBatching):
// `batched` (recvmmsg/sendmmsg addon) or `node` (node:dgram), 1 for the one in use.
import { Gauge, type Registry } from 'prom-client';

export type UdpPath = 'batched' | 'node';

export class UdpListenerMetrics {
  private readonly path: Gauge<'path'>;

  constructor(registry: Registry) {
    this.path = new Gauge({
      name: 'dnslinkd_udp_path',
      help: 'The UDP transport in use (dns.udpBatching): batched (recvmmsg/sendmmsg) or node (node:dgram); 1 for the one in use (--workers: in any worker)',
      labelNames: ['path'] as const,
      registers: [registry],
      aggregator: 'max',
    });
  }

  inUse(path: UdpPath): void {
    this.path.set({ path: 'batched' }, path === 'batched' ? 1 : 0);
    this.path.set({ path: 'node' }, path === 'node' ? 1 : 0);
  }
}
