// Configuration of the upstream stage: the top-level `upstreams` (checked by the same URL rule the
// client uses) and `upstreamTimeoutMs`, the `upstream` object (the bound on questions waiting for
// upstreams), and the default upstreams, the nameservers of /etc/resolv.conf.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { millis } from '../../config/units.js';
import { errorMessage } from '../../errors.js';
import { UPSTREAM_URL_FORMS, parseUpstreamUrl } from './upstream-url.js';

const upstreamUrl = z.string().superRefine((raw, ctx) => {
  try {
    parseUpstreamUrl(raw);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `expected ${UPSTREAM_URL_FORMS}: ${errorMessage(err)}` });
  }
});

/** Top-level keys owned by the upstream stage. */
export const upstreamRootKeys = {
  /** Upstream resolvers in order of preference; default: the nameservers of /etc/resolv.conf. */
  upstreams: z.array(upstreamUrl).optional(),
  upstreamTimeoutMs: millis.default(1_000),
  upstream: z
    .object({
      /** Questions waiting for upstreams at once, per process; past it a miss is answered at once (stale if held, else SERVFAIL). */
      maxOutstanding: z.number().int().min(1).max(1_000_000).default(2_048),
    })
    .strict()
    .prefault({}),
};

/** `nameserver` lines of resolv.conf as udp:// upstream URLs. */
export function resolvConfUpstreams(path = '/etc/resolv.conf'): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const urls: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const address = m[1]!.replace(/%.*$/, '');
    if (isIP(address) === 4) urls.push(`udp://${address}:53`);
    else if (isIP(address) === 6) urls.push(`udp://[${address}]:53`);
  }
  return urls;
}
