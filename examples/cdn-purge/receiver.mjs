// A webhook receiver for dnslinkd's change events (docs/changes.md) that purges a CDN: it checks
// each POST's signature (HMAC-SHA256 over `<timestamp>.<body>` with the webhook's secret) and its
// timestamp (replays older than MAX_SKEW_S are refused), drops repeats by event id, and turns each
// change into a purge: by URL or by tag, on Cloudflare or Fastly (their public purge APIs). It
// answers 200 once the CDN took the purge, 502 when it did not (dnslinkd then retries).
// No dependencies: `node receiver.mjs` with the environment below (see README.md).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const env = process.env;
const SECRET = env.SECRET ?? '';
const PORT = Number(env.PORT ?? 8787);
const HOST = env.HOST ?? '127.0.0.1';
const MAX_SKEW_S = Number(env.MAX_SKEW_S ?? 300);
/** cloudflare or fastly */
const CDN = env.CDN ?? 'cloudflare';
/** url: purge the URLs of the name (URL_TEMPLATES); tag: purge the tag the gateway sets for it (TAG_TEMPLATE). */
const PURGE_BY = env.PURGE_BY ?? 'url';
/** Space separated; {name} is the DNSLink name, {inlined} its subdomain-gateway label (dots to dashes). */
const URL_TEMPLATES = (env.URL_TEMPLATES ?? 'https://{name}/').split(/\s+/).filter(Boolean);
const TAG_TEMPLATE = env.TAG_TEMPLATE ?? 'dnslink-{name}';
const CF_API = env.CF_API ?? 'https://api.cloudflare.com/client/v4';
const FASTLY_API = env.FASTLY_API ?? 'https://api.fastly.com';
const MAX_BODY = 64 * 1024;

if (SECRET.length < 16) {
  console.error('receiver: SECRET (the webhook secret of changes.webhooks, 16+ characters) is required');
  process.exit(2);
}

/** The last event ids seen (dnslinkd delivers at least once). */
const seen = new Set();
const remember = (id) => {
  seen.add(id);
  if (seen.size > 10_000) seen.delete(seen.values().next().value);
};

export function verify(secret, timestamp, body, header, now = Date.now()) {
  if (!/^\d{1,12}$/.test(timestamp ?? '')) return 'no timestamp';
  if (Math.abs(now / 1000 - Number(timestamp)) > MAX_SKEW_S) return 'timestamp too old or in the future (a replay?)';
  const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  const got = Buffer.from(header ?? '');
  return got.length === want.length && timingSafeEqual(got, want) ? undefined : 'bad signature';
}

const fill = (template, name) => template.replaceAll('{name}', name).replaceAll('{inlined}', name.replaceAll('-', '--').replaceAll('.', '-'));

/** What a change purges: everything (a flush of all or of a suffix), or the URLs / tag of one name. */
export function purgeOf(event) {
  if (event.kind === 'flush' && event.scope !== 'name') return { everything: true };
  return PURGE_BY === 'tag' ? { tags: [fill(TAG_TEMPLATE, event.name)] } : { urls: URL_TEMPLATES.map((t) => fill(t, event.name)) };
}

async function call(url, init) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method} ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
}

/** Cloudflare: POST /zones/{zone}/purge_cache with files, tags or purge_everything. */
function cloudflare(purge) {
  const body = purge.everything ? { purge_everything: true } : purge.tags ? { tags: purge.tags } : { files: purge.urls };
  return call(`${CF_API}/zones/${env.CF_ZONE}/purge_cache`, { method: 'POST', headers: { authorization: `Bearer ${env.CF_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Fastly: purge_all, a surrogate-key purge, or one URL purge (POST /purge/<host>/<path>) each. */
async function fastly(purge) {
  const headers = { 'fastly-key': env.FASTLY_KEY ?? '', accept: 'application/json', ...(env.FASTLY_SOFT === '1' ? { 'fastly-soft-purge': '1' } : {}) };
  const service = `${FASTLY_API}/service/${env.FASTLY_SERVICE}`;
  if (purge.everything) return call(`${service}/purge_all`, { method: 'POST', headers });
  if (purge.tags) return call(`${service}/purge`, { method: 'POST', headers: { ...headers, 'surrogate-key': purge.tags.join(' ') } });
  for (const url of purge.urls) await call(`${FASTLY_API}/purge/${url.replace(/^https?:\/\//, '')}`, { method: 'POST', headers });
}

const server = createServer((req, res) => {
  const answer = (status, message) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message }));
  if (req.method !== 'POST') return answer(405, 'POST change events here');
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) req.destroy();
    else chunks.push(c);
  });
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const why = verify(SECRET, req.headers['x-dnslinkd-timestamp'], body, req.headers['x-dnslinkd-signature']);
    if (why) return answer(401, why);
    let event;
    try {
      event = JSON.parse(body);
    } catch {
      return answer(400, 'not JSON');
    }
    if (seen.has(event.id)) return answer(200, 'seen already');
    const purge = purgeOf(event);
    try {
      await (CDN === 'fastly' ? fastly(purge) : cloudflare(purge));
    } catch (err) {
      console.error(JSON.stringify({ msg: 'purge failed; dnslinkd retries', event: event.id, err: String(err) }));
      return answer(502, 'the CDN did not take the purge');
    }
    remember(event.id);
    console.log(JSON.stringify({ msg: 'purged', event: event.id, name: event.name, kind: event.kind, purge }));
    answer(200, 'purged');
  });
});
server.listen(PORT, HOST, () => console.log(JSON.stringify({ msg: 'listening', port: server.address().port, cdn: CDN, purgeBy: PURGE_BY })));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
