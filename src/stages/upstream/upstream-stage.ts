// Last stage: asks the upstream resolvers (UDP/TCP/DoH, with failover: upstream-pool.ts) and turns
// their answer into a resolution. When every upstream fails, or upstream.maxOutstanding questions
// are already waiting, the result is SERVFAIL with an Extended DNS Error saying why, marked as an
// error so the cache stage can serve stale instead. Each answer is scrubbed once here
// (dns/answer-scrub.ts), so nothing below a client or the cache sees records that are not about the
// question. Failures are logged at most once a second per kind. At shutdown, abortOutstanding()
// ends every question still waiting (and every later one) the way an upstream failure ends.
import type { Logger } from 'pino';
import { scrubSections } from '../../dns/answer-scrub.js';
import { RateLimitedLog } from '../../observability/rate-limited-log.js';
import { EdeCode, Rcode } from '../../dns/constants.js';
import { emptyResolution, type Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { typeName } from '../../observability/query-log.js';
import { errorCode, errorMessage } from '../../errors.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import type { UpstreamMetrics } from './metrics.js';
import { UpstreamPool } from './upstream-pool.js';

export interface UpstreamStageOptions {
  /** Upstream URLs in order of preference. */
  upstreams: string[];
  /** Timeout of one try at one upstream. */
  timeoutMs: number;
  /** Questions waiting for upstreams at once (upstream.maxOutstanding); past it, SERVFAIL at once. */
  maxOutstanding: number;
  metrics: UpstreamMetrics;
  log: Logger;
  now?: () => number;
}

export class UpstreamStage implements Stage {
  readonly name = 'upstream';
  /** Never asked: the upstream stage always answers. */
  next: Stage = UNLINKED;
  readonly pool: UpstreamPool;
  /** Questions waiting for upstreams now. */
  private outstanding = 0;
  private readonly maxOutstanding: number;
  private readonly metrics: UpstreamMetrics;
  private readonly limitedLog: RateLimitedLog;
  /** Set by abortOutstanding: why no upstream is asked any more. */
  private stopped: string | undefined;

  constructor(options: UpstreamStageOptions) {
    const { metrics, log } = options;
    this.metrics = metrics;
    this.maxOutstanding = options.maxOutstanding;
    const limitedLog = (this.limitedLog = new RateLimitedLog(log));
    this.pool = new UpstreamPool(options.upstreams, {
      timeoutMs: options.timeoutMs,
      now: options.now,
      observer: {
        onAnswer: (upstream, rttMs) => metrics.latency.observe({ upstream }, rttMs / 1000),
        onError: (upstream, code, errno, question) => {
          metrics.errors.inc({ upstream, code });
          // One line per upstream and error a second; the question named is the latest one that failed so.
          limitedLog.warn(`${upstream} ${code} ${errno ?? ''}`, { name: question.name, type: typeName(question.type), upstream, code, ...(errno ? { errno } : {}) }, 'upstream attempt failed');
        },
      },
    });
    metrics.stats = () => ({ outstanding: this.outstanding, udpSockets: this.pool.udpSockets.openSockets });
  }

  resolve(question: Question, _ctx: QueryContext): Resolution | Promise<Resolution> {
    if (this.outstanding >= this.maxOutstanding) return this.saturated(question);
    if (this.stopped !== undefined) return shuttingDown(this.stopped);
    this.outstanding++;
    return this.ask(question).finally(() => this.outstanding--);
  }

  /**
   * The shutdown's last step before its grace period ends: every question waiting for an upstream
   * (UDP, TCP, DoH) fails now, and every later one at once, as an upstream failure does (stale from
   * the cache when it holds an entry, else SERVFAIL with an EDE saying the server is shutting down).
   * Returns how many questions were waiting.
   */
  abortOutstanding(reason: string): number {
    const waiting = this.outstanding;
    this.stopped ??= reason;
    this.pool.abort(reason);
    return waiting;
  }

  /** Past upstream.maxOutstanding: SERVFAIL at once, an error the cache answers with stale data when it holds some. */
  private saturated(question: Question): Resolution {
    this.metrics.saturated.inc();
    const text = `resolver saturated: upstream.maxOutstanding (${this.maxOutstanding}) questions are already waiting for upstreams`;
    this.limitedLog.warn('saturated', { name: question.name, type: typeName(question.type), code: 'UPSTREAM_SATURATED', maxOutstanding: this.maxOutstanding }, `${text}; answering at once (stale if held, else SERVFAIL)`);
    return { ...emptyResolution(Rcode.SERVFAIL, 'error'), ede: { code: EdeCode.OTHER, text } };
  }

  private async ask(question: Question): Promise<Resolution> {
    try {
      const { response, upstream, usable, failures } = await this.pool.query(question);
      if (!usable) {
        // SERVFAIL and REFUSED are passed on; FORMERR and NOTIMP would blame the client's query, so
        // clients get SERVFAIL, and DNSLink still reports what the upstreams said (upstreamRcode).
        const blamesClient = response.rcode === Rcode.FORMERR || response.rcode === Rcode.NOTIMP;
        return {
          ...emptyResolution(blamesClient ? Rcode.SERVFAIL : response.rcode, 'error'),
          ...(blamesClient ? { upstreamRcode: response.rcode } : {}),
          upstream,
          ede: (!blamesClient && response.ede) || { code: EdeCode.NO_REACHABLE_AUTHORITY, text: `all upstreams failed: ${failures.join('; ')}` },
        };
      }
      const { answers, authorities, additionals, dropped } = scrubSections(question, response);
      if (dropped.answer > 0) this.metrics.scrubbed.inc({ section: 'answer' }, dropped.answer);
      if (dropped.authority > 0) this.metrics.scrubbed.inc({ section: 'authority' }, dropped.authority);
      if (dropped.additional > 0) this.metrics.scrubbed.inc({ section: 'additional' }, dropped.additional);
      return {
        rcode: response.rcode,
        answers,
        authorities,
        additionals,
        source: 'upstream',
        upstream,
        ...(response.ede ? { ede: response.ede } : {}),
      };
    } catch (err) {
      const code = errorCode(err);
      if (code === 'SHUTTING_DOWN') return shuttingDown(errorMessage(err));
      const edeCode = code === 'UPSTREAMS_FAILED' || code === 'NO_UPSTREAMS' ? EdeCode.NO_REACHABLE_AUTHORITY : EdeCode.OTHER;
      return { ...emptyResolution(Rcode.SERVFAIL, 'error'), ede: { code: edeCode, text: errorMessage(err) } };
    }
  }
}

/** SERVFAIL for a question the shutdown ended (an error: the cache answers stale instead when it holds an entry). */
function shuttingDown(reason: string): Resolution {
  return { ...emptyResolution(Rcode.SERVFAIL, 'error'), ede: { code: EdeCode.OTHER, text: reason } };
}
