// Last stage: ask the upstream resolvers (UDP/TCP/DoH, with failover) and turn their answer into
// a resolution. When every upstream fails the result is SERVFAIL with an Extended DNS Error saying
// why, marked as an error so the cache stage can serve stale instead.
import { EdeCode, Rcode } from '../dns/constants.js';
import type { Question, Resolution } from '../dns/types.js';
import { errorCode, errorMessage } from '../errors.js';
import type { UpstreamPool } from '../upstream/pool.js';
import { emptyResolution, type QueryContext, type Stage } from './stage.js';

export class UpstreamStage implements Stage {
  readonly name = 'upstream';

  constructor(private readonly pool: UpstreamPool) {}

  async resolve(question: Question, ctx: QueryContext): Promise<Resolution> {
    try {
      const { response, upstream, usable, failures } = await this.pool.query(question, ctx.deadline);
      if (!usable) {
        return {
          ...emptyResolution(response.rcode, 'error'),
          upstream,
          ede: response.ede ?? { code: EdeCode.NO_REACHABLE_AUTHORITY, text: `all upstreams failed: ${failures.join('; ')}` },
        };
      }
      return {
        rcode: response.rcode,
        answers: response.answers,
        authorities: response.authorities,
        additionals: response.additionals,
        source: 'upstream',
        upstream,
        ...(response.ede ? { ede: response.ede } : {}),
      };
    } catch (err) {
      const code = errorCode(err);
      const edeCode = code === 'UPSTREAMS_FAILED' || code === 'NO_UPSTREAMS' ? EdeCode.NO_REACHABLE_AUTHORITY : EdeCode.OTHER;
      return { ...emptyResolution(Rcode.SERVFAIL, 'error'), ede: { code: edeCode, text: errorMessage(err) } };
    }
  }
}
