// The configuration's shape, composed from the fragments their owners declare (listeners and each
// stage keep theirs in a config.ts beside their code), validated with zod. Every key is documented
// in docs/configuration.md; an unknown key or bad value stops the start with its dotted path named.
import { z } from 'zod';
import { adminConfigSchema, controlRootKeys, stateConfigSchema } from '../control/config.js';
import { clientPolicyDnsKeys } from '../listeners/client-policy-config.js';
import { dnsListenerKeys, httpConfigSchema } from '../listeners/config.js';
import { cacheConfigSchema, cacheRootKeys, clientDeadlineConflict } from '../stages/cache/config.js';
import { denylistConfigSchema } from '../stages/denylist/config.js';
import { ensConfigSchema } from '../stages/ens/config.js';
import { localRecordsRootKeys } from '../stages/local-records/config.js';
import { queryPolicyDnsKeys } from '../stages/query-policy/config.js';
import { memoryConfigSchema } from '../runtime/config.js';
import { lifecycleRootKeys } from '../lifecycle/config.js';
import { upstreamRootKeys } from '../stages/upstream/config.js';
import { logConfigSchema } from '../observability/config.js';
import { changesConfigSchema } from '../changes/config.js';

export const configSchema = z
  .object({
    dns: z
      .object({ ...dnsListenerKeys, ...clientPolicyDnsKeys, ...queryPolicyDnsKeys })
      .strict()
      .prefault({}),
    http: httpConfigSchema,
    admin: adminConfigSchema,
    state: stateConfigSchema,
    ...controlRootKeys,
    ...upstreamRootKeys,
    cache: cacheConfigSchema,
    ens: ensConfigSchema,
    denylist: denylistConfigSchema,
    memory: memoryConfigSchema,
    ...cacheRootKeys,
    ...localRecordsRootKeys,
    ...lifecycleRootKeys,
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    log: logConfigSchema,
    changes: changesConfigSchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    const conflict = clientDeadlineConflict(config.cache, config.clientDeadlineMs);
    if (conflict) ctx.addIssue({ code: 'custom', path: ['clientDeadlineMs'], message: conflict });
  });

export type ConfigInput = z.input<typeof configSchema>;
/** The validated configuration, defaults filled in (upstreams from resolv.conf, the demo records). */
export type Config = z.output<typeof configSchema> & { upstreams: string[]; localRecords: string | null; dataDir: string };
