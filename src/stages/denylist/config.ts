// Configuration of the denylist stage: the `denylist` object (the lists subscribed to, each a URL
// or a file of the compact denylist format (IPIP-383), how a blocked DNS question is answered, and
// the guard's share of served names a new list version may newly block before it is held).
import { z } from 'zod';

/** The name of the list of operator rules kept in the control store (reserved: no source may take it). */
export const OPERATOR_LIST = 'operator';

const listName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a list name: lower-case letters, digits, ".", "_" or "-", at most 64, starting with a letter or digit')
  .refine((name) => name !== OPERATOR_LIST, `"${OPERATOR_LIST}" is the list of operator rules (dnslinkd deny add): give the source another name`);

const denylistSourceSchema = z
  .object({
    name: listName,
    /** Fetched with conditional requests (ETag, Last-Modified) every refreshIntervalMs. */
    url: z.string().regex(/^https?:\/\/\S+$/, 'expected an http:// or https:// URL of a .deny file').optional(),
    /** Read again when it changes and on reload. */
    file: z.string().min(1, 'a path to a .deny file').optional(),
    refreshIntervalMs: z.number().int().min(1000, 'at least 1000 (1 s)').default(300_000),
    /** What a match answers: EDE 15 Blocked and HTTP 410, or EDE 16 Censored and HTTP 451. */
    kind: z.enum(['blocked', 'censored']).default('blocked'),
  })
  .strict()
  .superRefine((source, ctx) => {
    const given = (source.url === undefined ? 0 : 1) + (source.file === undefined ? 0 : 1);
    if (given !== 1) ctx.addIssue({ code: 'custom', path: ['url'], message: `give exactly one of "url" or "file" (got ${given === 0 ? 'neither' : 'both'})` });
  });

export const denylistConfigSchema = z
  .object({
    sources: z
      .array(denylistSourceSchema)
      .default([])
      .superRefine((sources, ctx) => {
        const seen = new Set<string>();
        sources.forEach((source, i) => {
          if (seen.has(source.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${source.name}" names two sources: each list needs a name of its own` });
          seen.add(source.name);
        });
      }),
    /** The rcode of a blocked DNS question: NOERROR with no answer (`nodata`), NXDOMAIN or REFUSED; EDE 15/16 with each. */
    answer: z.enum(['nodata', 'nxdomain', 'refused']).default('nodata'),
    /** A new list version newly blocking more than this share (%) of the names served in the last 24 h is held. */
    maxNewlyBlockedPercent: z.number().min(0).max(100).default(1),
  })
  .strict()
  .prefault({});

export type DenylistConfig = z.output<typeof denylistConfigSchema>;
export type DenylistSourceOptions = DenylistConfig['sources'][number];
export type DenylistAnswer = DenylistConfig['answer'];
