// Metrics of the wire handler: queries answered by transport and rcode (plain counts per query,
// copied into prom-client at scrape time) and packets answered FORMERR or dropped.
import { Counter, type Registry } from 'prom-client';
import { rcodeName } from '../dns/constants.js';
import type { Transport } from '../stages/stage.js';

/** rcodes above this are counted together under it. */
const MAX_TRACKED_RCODE = 23;

export class WireMetrics {
  /** transport -> counts indexed by rcode. */
  private readonly queryCounts = new Map<Transport, Float64Array>();
  readonly malformed: Counter<'transport' | 'action'>;

  constructor(registry: Registry) {
    const queryCounts = this.queryCounts;
    const reported = new Map<Transport, Float64Array>();
    new Counter({
      name: 'dnslinkd_queries_total',
      help: 'Queries answered, by transport and response code',
      labelNames: ['transport', 'rcode'] as const,
      registers: [registry],
      collect() {
        for (const [transport, counts] of queryCounts) {
          let seen = reported.get(transport);
          if (!seen) reported.set(transport, (seen = new Float64Array(counts.length)));
          for (let rcode = 0; rcode < counts.length; rcode++) {
            const delta = counts[rcode]! - seen[rcode]!;
            if (delta > 0) this.inc({ transport, rcode: rcodeName(rcode) }, delta);
            seen[rcode] = counts[rcode]!;
          }
        }
      },
    });
    this.malformed = new Counter({
      name: 'dnslinkd_malformed_packets_total',
      help: 'Packets answered FORMERR or dropped',
      labelNames: ['transport', 'action'] as const,
      registers: [registry],
    });
  }

  countQuery(transport: Transport, rcode: number): void {
    let counts = this.queryCounts.get(transport);
    if (!counts) {
      counts = new Float64Array(MAX_TRACKED_RCODE + 1);
      this.queryCounts.set(transport, counts);
    }
    counts[rcode > MAX_TRACKED_RCODE ? MAX_TRACKED_RCODE : rcode]!++;
  }
}
