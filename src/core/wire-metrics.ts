// Metrics of the wire handler: queries answered by transport and rcode, and packets answered
// FORMERR or dropped (plain counts per packet, copied into prom-client at scrape time: a flood of
// junk costs an addition per packet, not a labelled prom-client update).
import { Counter, type Registry } from 'prom-client';
import { rcodeName } from '../dns/constants.js';
import type { Transport } from '../stages/stage.js';

const MALFORMED_ACTIONS = ['drop', 'formerr'] as const;
type MalformedAction = (typeof MALFORMED_ACTIONS)[number];

/** rcodes above this are counted together under it. */
const MAX_TRACKED_RCODE = 23;

export class WireMetrics {
  /** transport -> counts indexed by rcode. */
  private readonly queryCounts = new Map<Transport, Float64Array>();
  /** transport -> packets refused by the parser, by what was done with them. */
  private readonly malformedCounts = new Map<Transport, Record<MalformedAction, number>>();

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
    const malformedCounts = this.malformedCounts;
    const malformedReported = new Map<Transport, Record<MalformedAction, number>>();
    new Counter({
      name: 'dnslinkd_malformed_packets_total',
      help: 'Packets answered FORMERR or dropped',
      labelNames: ['transport', 'action'] as const,
      registers: [registry],
      collect() {
        for (const [transport, counts] of malformedCounts) {
          let seen = malformedReported.get(transport);
          if (!seen) malformedReported.set(transport, (seen = { drop: 0, formerr: 0 }));
          for (const action of MALFORMED_ACTIONS) {
            const delta = counts[action] - seen[action];
            if (delta > 0) this.inc({ transport, action }, delta);
            seen[action] = counts[action];
          }
        }
      },
    });
  }

  countMalformed(transport: Transport, action: MalformedAction): void {
    let counts = this.malformedCounts.get(transport);
    if (!counts) {
      counts = { drop: 0, formerr: 0 };
      this.malformedCounts.set(transport, counts);
    }
    counts[action]++;
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
