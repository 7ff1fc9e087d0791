// Wire in, wire out: the one place that turns a DNS query packet into a response packet for every
// wire transport (UDP, TCP, DoH). Malformed input gets FORMERR or is dropped, never an exception;
// answers come from the resolver chain and are assembled from pre-encoded sections.
import type { Logger } from 'pino';
import { EdeCode, Rcode } from '../dns/constants.js';
import type { Resolution } from '../dns/types.js';
import { buildErrorResponse, buildResponse, parseQuery, udpSizeLimit, type WireQuery } from '../dns/wire.js';
import { errorMessage } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { QueryContext, Stage, Transport } from '../resolver/stage.js';

export interface DnsHandlerOptions {
  /** Our EDNS UDP payload size: advertised, and the ceiling for clients' sizes. */
  udpPayloadSize: number;
  /** How long a client may wait before we answer stale (RFC 8767 client response timer). */
  clientDeadlineMs: number;
}

export type WireAnswer = Buffer | null;

export class DnsHandler {
  constructor(
    private readonly chain: Stage,
    private readonly options: DnsHandlerOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /**
   * Answers one query packet. `udp` marks a size-limited transport (TC=1 past the client's size).
   * Returns null when the packet must be dropped. Returns synchronously on cache hits.
   */
  handle(packet: Buffer, transport: Transport, udp: boolean): WireAnswer | Promise<WireAnswer> {
    const parsed = parseQuery(packet);
    if (!parsed.ok) {
      this.metrics.malformed.inc({ transport, action: parsed.action });
      if (parsed.action === 'drop') return null;
      this.log.debug({ transport, reason: parsed.reason }, 'FORMERR');
      this.metrics.countQuery(transport, Rcode.FORMERR);
      return buildErrorResponse(parsed.id, parsed.flags, Rcode.FORMERR);
    }
    const query = parsed.query;
    const question = { packet, end: query.questionEnd };
    if (query.opcode !== 0) return this.error(query, transport, Rcode.NOTIMP, question);
    if (query.edns && query.edns.version !== 0) return this.error(query, transport, Rcode.BADVERS, question);

    const ctx: QueryContext = { transport };
    let result: Resolution | Promise<Resolution>;
    try {
      result = this.chain.resolve(query, ctx);
    } catch (err) {
      return this.failure(query, transport, udp, err);
    }
    if (result instanceof Promise) {
      return result.then(
        (res) => this.respond(query, res, transport, udp),
        (err: unknown) => this.failure(query, transport, udp, err),
      );
    }
    return this.respond(query, result, transport, udp);
  }

  private respond(query: WireQuery, res: Resolution, transport: Transport, udp: boolean): Buffer {
    this.metrics.countQuery(transport, res.rcode);
    const sizeLimit = udp ? udpSizeLimit(query, this.options.udpPayloadSize) : undefined;
    return buildResponse(query, res, { sizeLimit, advertisedPayload: this.options.udpPayloadSize });
  }

  private error(query: WireQuery, transport: Transport, rcode: number, question: { packet: Buffer; end: number }): Buffer {
    this.metrics.countQuery(transport, rcode);
    const edns = query.edns ? { payload: this.options.udpPayloadSize } : undefined;
    return buildErrorResponse(query.id, query.flags, rcode, question, edns);
  }

  private failure(query: WireQuery, transport: Transport, udp: boolean, err: unknown): Buffer {
    this.log.error({ err, name: query.name, type: query.type }, 'resolution failed unexpectedly');
    const res: Resolution = {
      rcode: Rcode.SERVFAIL,
      answers: [],
      authorities: [],
      additionals: [],
      source: 'error',
      ede: { code: EdeCode.OTHER, text: `internal error: ${errorMessage(err)}` },
    };
    return this.respond(query, res, transport, udp);
  }
}

