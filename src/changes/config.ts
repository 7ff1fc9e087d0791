// Configuration of the change stream: the `changes` object (history kept for resuming subscribers,
// the optional token of GET /v1/changes, the bounds on subscribers and their buffers, and the
// webhooks events are POSTed to, with their retry window and queue bound).
import { z } from 'zod';
import { millis } from '../config/units.js';

const suffix = z.string().regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/, 'a DNS suffix such as "example.com" (lower case, no dots at either end)');

/** The kinds of change event (docs/changes.md). */
export const CHANGE_KINDS = ['refresh', 'override.set', 'override.change', 'override.remove', 'override.expire', 'flush', 'block', 'unblock'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export const webhookSchema = z
  .object({
    url: z.string().regex(/^https?:\/\/\S+$/, 'expected an http:// or https:// URL'),
    /** The HMAC-SHA256 key the receiver verifies X-Dnslinkd-Signature with. */
    secret: z.string().min(16, 'at least 16 characters: the receiver trusts what it verifies with it'),
    /** Only events of names under these suffixes (a flush of everything always). Absent: all names. */
    suffixes: z.array(suffix).optional(),
    /** Only events of these kinds. Absent: every kind. */
    kinds: z.array(z.enum(CHANGE_KINDS)).optional(),
  })
  .strict();
export type WebhookConfig = z.output<typeof webhookSchema>;

export const changesConfigSchema = z
  .object({
    /** Events kept for Last-Event-ID resumes (and, with Redis, the stream's MAXLEN ~). */
    historySize: z.number().int().min(10).max(1_000_000).default(10_000),
    /** Bearer token GET /v1/changes asks for; absent: no token (the stream is read-only). */
    token: z.string().min(16, 'at least 16 characters').optional(),
    /** SSE subscribers at once on one instance; more get 503. */
    maxSubscribers: z.number().int().min(1).max(100_000).default(1_000),
    /** Bytes handed to one subscriber's socket before waiting for it to take them (one that falls historySize events behind is disconnected). */
    subscriberBufferBytes: z.number().int().min(4096).max(64 * 1024 * 1024).default(1024 * 1024),
    /** A comment line sent to idle subscribers this often (proxies close silent connections). */
    keepAliveMs: millis.default(15_000),
    webhooks: z.array(webhookSchema).max(100).default([]),
    /** How long one event is retried on a webhook (exponential backoff) before it is dropped. */
    webhookRetryMs: millis.default(60_000),
    /** One POST's deadline. */
    webhookTimeoutMs: millis.default(5_000),
    /** Events waiting per webhook; when full, the oldest is dropped and counted. */
    webhookQueueSize: z.number().int().min(1).max(1_000_000).default(10_000),
    /** With Redis: a refresh change (name, old, new) recorded by one instance is not recorded again by others for this long. */
    refreshDedupeMs: millis.default(60_000),
  })
  .strict()
  .prefault({});
export type ChangesConfig = z.output<typeof changesConfigSchema>;
