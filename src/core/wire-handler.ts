// Wire in, wire out: the one place that turns a DNS query packet into a response packet for every
// listener (UDP, TCP, DoH), plus the same chain run for a question without a packet (the DNS JSON
// API). Malformed input gets FORMERR or is dropped, never an exception; answers come from the
// resolver chain and are assembled from pre-encoded sections.
import type { Logger } from 'pino';
import { EdeCode, Rcode } from '../dns/constants.js';
import { parseQuery, type WireQuery } from '../dns/query-parser.js';
import { encodedSectionsOf, leastStoredTtl } from '../dns/record-sections.js';
import { emptyResolution, internalErrorResolution, remainingTtl, type Resolution } from '../dns/resolution.js';
import { buildErrorResponse, buildResponse, udpSizeLimit } from '../dns/response-builder.js';
import type { ExtendedError, Question } from '../dns/types.js';
import type { Caller, QueryContext, Stage, Transport } from '../stages/stage.js';
import type { WireMetrics } from './wire-metrics.js';
import { QueryLog, type QueryLogSetting } from '../observability/query-log.js';
import { Admission } from './admission.js';

/** The EDE of a client outside dns.allow (RFC 8914: 18, Prohibited); over UDP without its text, so a refusal is barely larger than the query. */
const CLIENT_NOT_ALLOWED: ExtendedError = { code: EdeCode.PROHIBITED, text: 'client not allowed (dns.allow)' };
const CLIENT_NOT_ALLOWED_UDP: ExtendedError = { code: EdeCode.PROHIBITED, text: '' };
/** What a rate-limit slip carries: nothing but TC=1 (RFC 2181 9: the client retries over TCP). */
const SLIP_ANSWER: Resolution = emptyResolution(Rcode.NOERROR, 'policy');

export interface WireHandlerOptions {
  /** Our EDNS UDP payload size: advertised, and the ceiling for clients' sizes. */
  udpPayloadSize: number;
  /** log.queries: which answered questions the query log writes (default off). */
  queryLog?: QueryLogSetting;
}

export type WireAnswer = Buffer | null;

/**
 * A wire answer for HTTP transports (DoH): the response bytes plus what HTTP needs around them.
 * `invalid` means the input was not a usable DNS query (HTTP 400), with the reason.
 */
export type HttpWireAnswer =
  | { ok: true; wire: Buffer; rcode: number; maxAge: number }
  | { ok: false; reason: string };

/**
 * Cache lifetime for an HTTP answer (RFC 8484 section 5.1): the smallest TTL in the answer
 * section; for a negative answer (NXDOMAIN or NODATA) the smallest authority TTL (RFC 2308);
 * 0 for every other rcode (SERVFAIL, REFUSED, FORMERR...).
 */
export function httpMaxAge(res: Resolution): number {
  if (res.rcode !== Rcode.NOERROR && res.rcode !== Rcode.NXDOMAIN) return 0;
  const sections = encodedSectionsOf(res);
  // Records are laid out answers first, then authorities: [0, count) is the section we want.
  const count = sections.answerCount > 0 ? sections.answerCount : sections.authorityCount;
  if (count === 0) return 0;
  // remainingTtl only ever lowers a TTL by the same age (or overrides all): the least stays least.
  return remainingTtl(leastStoredTtl(sections, count), res);
}

export class WireHandler {
  /** The query log (log.queries): when off, a query costs one check of `queryLog.on`. */
  readonly queryLog: QueryLog;

  constructor(
    private readonly chain: Stage,
    private readonly options: WireHandlerOptions,
    private readonly metrics: WireMetrics,
    private readonly log: Logger,
  ) {
    this.queryLog = new QueryLog(log, options.queryLog ?? 'off');
  }

  /**
   * Answers one query packet. `udp` marks a size-limited transport (TC=1 past the client's size).
   * Returns null when the packet must be dropped. Returns synchronously on cache hits.
   */
  handle(packet: Buffer, transport: Transport, udp: boolean, client = ''): WireAnswer | Promise<WireAnswer> {
    // The query log's clock: read only when the log is on and this question is sampled (0: not logged).
    const startedAt = this.queryLog.on && this.queryLog.sample() ? performance.now() : 0;
    const parsed = parseQuery(packet);
    if (!parsed.ok) {
      this.metrics.countMalformed(transport, parsed.action);
      if (parsed.action === 'drop') return null;
      this.log.debug({ transport, reason: parsed.reason }, 'FORMERR');
      this.metrics.countQuery(transport, Rcode.FORMERR);
      return buildErrorResponse(parsed.id, parsed.flags, Rcode.FORMERR);
    }
    const query = parsed.query;
    const refusal = this.refusalRcode(query);
    if (refusal !== undefined) {
      if (startedAt !== 0) this.queryLog.note(client, transport, query.name, query.type, { rcode: refusal, source: 'policy' }, startedAt);
      return this.error(query, transport, refusal);
    }
    const res = this.resolveQuery(query, transport);
    if (res instanceof Promise) return res.then((late) => this.respondLogged(query, late, transport, udp, client, startedAt));
    if (startedAt !== 0) return this.respondLogged(query, res, transport, udp, client, startedAt);
    return this.respond(query, res, transport, udp);
  }

  /** respond(), then the query log's line (written after the answer went out). */
  private respondLogged(query: WireQuery, res: Resolution, transport: Transport, udp: boolean, client: string, startedAt: number): Buffer {
    const wire = this.respond(query, res, transport, udp);
    if (startedAt !== 0) this.queryLog.note(client, transport, query.name, query.type, res, startedAt);
    return wire;
  }

  /**
   * Answers one DoH query packet (no size limit, like TCP). Synchronous on cache hits, like
   * `handle`. A packet that is not a DNS query (too short, a response, a broken question) gives
   * `{ok: false}` for an HTTP 400 instead of a dropped packet or FORMERR.
   */
  answerHttp(packet: Buffer, transport: Transport = 'doh', client = ''): HttpWireAnswer | Promise<HttpWireAnswer> {
    const startedAt = this.queryLog.on && this.queryLog.sample() ? performance.now() : 0;
    const parsed = parseQuery(packet);
    if (!parsed.ok) {
      this.metrics.countMalformed(transport, parsed.action);
      return { ok: false, reason: parsed.action === 'drop' ? (packet.length < 12 ? `${packet.length} bytes is shorter than a DNS header` : 'a DNS response, not a query') : parsed.reason };
    }
    const query = parsed.query;
    const refusal = this.refusalRcode(query);
    if (refusal !== undefined) {
      if (startedAt !== 0) this.queryLog.note(client, transport, query.name, query.type, { rcode: refusal, source: 'policy' }, startedAt);
      return { ok: true, wire: this.error(query, transport, refusal), rcode: refusal, maxAge: 0 };
    }
    const res = this.resolveQuery(query, transport);
    if (res instanceof Promise) return res.then((late) => this.httpRespond(query, late, transport, client, startedAt));
    return this.httpRespond(query, res, transport, client, startedAt);
  }

  /**
   * Answers a query the client gate stopped before any resolution (listeners/client-gate.ts):
   * REFUSED with EDE 18 for a client outside dns.allow, a TC=1 answer without records for a
   * rate-limit slip, nothing for a drop. A packet that is no query is dropped, never FORMERR'd.
   */
  answerStopped(packet: Buffer, transport: Transport, admission: Exclude<Admission, typeof Admission.ANSWER>, client = ''): WireAnswer {
    if (admission === Admission.DROP) return null;
    const parsed = parseQuery(packet);
    if (!parsed.ok) {
      this.metrics.countMalformed(transport, 'drop');
      return null;
    }
    const query = parsed.query;
    const ede = admission === Admission.SLIP ? undefined : transport === 'udp' ? CLIENT_NOT_ALLOWED_UDP : CLIENT_NOT_ALLOWED;
    if (this.queryLog.on && this.queryLog.sample()) this.queryLog.note(client, transport, query.name, query.type, { rcode: ede ? Rcode.REFUSED : Rcode.NOERROR, source: 'policy', ...(ede ? { ede: CLIENT_NOT_ALLOWED } : {}) }, performance.now());
    if (admission === Admission.SLIP) return buildResponse(query, SLIP_ANSWER, { truncate: true, advertisedPayload: this.options.udpPayloadSize });
    return this.error(query, transport, Rcode.REFUSED, ede);
  }

  /** NOTIMP for opcodes other than QUERY, BADVERS for EDNS versions other than 0. */
  private refusalRcode(query: WireQuery): number | undefined {
    if (query.opcode !== 0) return Rcode.NOTIMP;
    if (query.edns && query.edns.version !== 0) return Rcode.BADVERS;
    return undefined;
  }

  /**
   * Answers a question that came without a wire query (the DNS JSON API), counted like a wire
   * query of `transport`. Never rejects; synchronous on cache hits.
   */
  answerQuestion(question: Question, transport: Transport, client = '', logTransport: string = transport): Resolution | Promise<Resolution> {
    const startedAt = this.queryLog.on && this.queryLog.sample() ? performance.now() : 0;
    const res = this.resolveQuery(question, transport);
    if (res instanceof Promise) {
      return res.then((late) => {
        this.metrics.countQuery(transport, late.rcode);
        if (startedAt !== 0) this.queryLog.note(client, logTransport, question.name, question.type, late, startedAt);
        return late;
      });
    }
    this.metrics.countQuery(transport, res.rcode);
    if (startedAt !== 0) this.queryLog.note(client, logTransport, question.name, question.type, res, startedAt);
    return res;
  }

  /** Counts a query answered outside the wire handler (the resolution API: one per request, its last lookup's rcode). */
  countQuery(transport: Transport, rcode: number): void {
    this.metrics.countQuery(transport, rcode);
  }

  /**
   * Runs the chain for one question. Never throws or rejects: an exception becomes SERVFAIL with
   * EDE 0, logged. Synchronous on cache hits.
   */
  private resolveQuery(question: Question, caller: Caller): Resolution | Promise<Resolution> {
    const ctx: QueryContext = { caller };
    try {
      const res = this.chain.resolve(question, ctx);
      return res instanceof Promise ? res.catch((err: unknown) => this.internalFailure(question, err)) : res;
    } catch (err) {
      return this.internalFailure(question, err);
    }
  }

  private httpRespond(query: WireQuery, res: Resolution, transport: Transport, client: string, startedAt: number): HttpWireAnswer {
    const wire = this.respond(query, res, transport, false);
    if (startedAt !== 0) this.queryLog.note(client, transport, query.name, query.type, res, startedAt);
    return { ok: true, wire, rcode: res.rcode, maxAge: httpMaxAge(res) };
  }

  /**
   * Encodes the answer for the query. Never throws: a resolution the encoder cannot write (none
   * known; the splicer's fuzz target looks for them) becomes SERVFAIL for the question, logged.
   */
  private respond(query: WireQuery, res: Resolution, transport: Transport, udp: boolean): Buffer {
    const sizeLimit = udp ? udpSizeLimit(query, this.options.udpPayloadSize) : undefined;
    try {
      const wire = buildResponse(query, res, { sizeLimit, advertisedPayload: this.options.udpPayloadSize });
      this.metrics.countQuery(transport, res.rcode);
      return wire;
    } catch (err) {
      this.log.error({ err, name: query.name, type: query.type }, 'answer could not be encoded');
      return this.error(query, transport, Rcode.SERVFAIL);
    }
  }

  private error(query: WireQuery, transport: Transport, rcode: number, ede?: ExtendedError): Buffer {
    this.metrics.countQuery(transport, rcode);
    const edns = query.edns ? { payload: this.options.udpPayloadSize, ...(ede ? { ede } : {}) } : undefined;
    return buildErrorResponse(query.id, query.flags, rcode, { packet: query.packet, end: query.questionEnd }, edns);
  }

  private internalFailure(question: Question, err: unknown): Resolution {
    this.log.error({ err, name: question.name, type: question.type }, 'resolution failed unexpectedly');
    return internalErrorResolution(err);
  }
}
