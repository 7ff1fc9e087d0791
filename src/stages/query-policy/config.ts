// Configuration of the query policy stage: keys it owns under `dns` (see README.md here and
// docs/configuration.md).
import { z } from 'zod';

/** Keys under `dns` read by the query policy. */
export const queryPolicyDnsKeys = {
  /** Forward non-DNSLink questions through the cache; off: only TXT is answered, others REFUSED. */
  forward: z.boolean().default(true),
};

export interface QueryPolicyOptions {
  forward: boolean;
}
