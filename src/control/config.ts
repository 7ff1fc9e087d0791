// Configuration of the operator control plane: the admin listener (`admin.*`: address, TLS or an
// explicit plaintext opt-in off loopback, tokens), where state lives (`dataDir` for the embedded
// store, `state.redis` for a fleet) and how often replicas reconcile.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { hostPort, millis, splitHostPort } from '../config/units.js';
import { DEFAULT_MAX_FLUSH_ENTRIES } from './reach-guard.js';

const tokenSchema = z
  .object({
    /** Who the token is: written in the audit log for each change it makes. */
    label: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-", 1 to 64 of them'),
    /** `read` may look; `write` may change (flush, overrides). */
    scope: z.enum(['read', 'write']),
    /** The secret itself (at least 16 characters), or: */
    secret: z.string().min(16, 'a token secret needs at least 16 characters').optional(),
    /** a file holding it (trailing whitespace ignored). */
    file: z.string().min(1).optional(),
  })
  .strict()
  .refine((t) => (t.secret === undefined) !== (t.file === undefined), 'give exactly one of secret or file');

export type AdminTokenConfig = z.output<typeof tokenSchema>;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export const adminConfigSchema = z
  .object({
    listen: hostPort.default('127.0.0.1:8054'),
    /** Serve the admin API without TLS on an address other than loopback, on purpose. */
    allowPlaintext: z.boolean().default(false),
    tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict().optional(),
    tokens: z.array(tokenSchema).optional(),
    /** A flush whose dry run would remove more cache entries needs "force" (docs/security.md). */
    maxFlushEntries: z.number().int().min(1).default(DEFAULT_MAX_FLUSH_ENTRIES),
    /** Seconds between the console's counter samples (GET /admin/v1/samples; 180 are kept). */
    consoleSampleSeconds: z.number().int().min(1).max(60).default(5),
  })
  .strict()
  .prefault({})
  .superRefine((admin, ctx) => {
    const { host } = splitHostPort(admin.listen);
    if (!isLoopback(host) && !admin.tls && !admin.allowPlaintext) {
      ctx.addIssue({
        code: 'custom',
        path: ['listen'],
        message: `${admin.listen} is not a loopback address: tokens would cross the network in clear; set admin.tls (cert and key) or admin.allowPlaintext: true`,
      });
    }
  });

export const stateConfigSchema = z
  .object({
    /** redis:// or rediss:// URL of the fleet store; absent: the embedded store in dataDir. */
    redis: z.string().regex(/^rediss?:\/\/\S+$/, 'expected redis://host:port[/db] or rediss://...').optional(),
    /** How often a replica compares its state with the store's, besides change notices. */
    syncIntervalMs: millis.default(5_000),
  })
  .strict()
  .prefault({});

/** Top-level keys owned by the control plane. */
export const controlRootKeys = {
  /** Where the embedded store and the generated admin token live; default: see defaultDataDir. */
  dataDir: z.string().min(1).optional(),
};

/** `$XDG_STATE_HOME/dnslinkd`, else `~/.local/state/dnslinkd`: writable without root. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'dnslinkd');
}
