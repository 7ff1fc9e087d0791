import { it } from 'vitest';
import { buildTestApp, wireQuery } from '/work/main/test/unit/http/support.js';
it('smoke', async () => {
  const t = await buildTestApp();
  const q = wireQuery('_dnslink.plain.example', 16).toString('base64url');
  for (const url of [`/dns-query?dns=${q}`, `/dns-query?dns=${q}`, '/resolve?name=_dnslink.multi.example&type=TXT', '/dns-query?name=www.example&type=AAAA', '/resolve?name=x&type=BOGUS', '/dns-query', '/dns-query?dns=!!', '/v1/dnslink/hop1.example', '/v1/dnslink/two.example', '/v1/dnslink/loop-a.example', '/v1/dnslink/none.example', '/v1/dnslink/en-wikipedia--on--ipfs-example', '/v1/dnslink/plain.example?all=true', '/v1/dnslink/nothere.example', '/openapi.json']) {
    const r = await t.app.inject({ url, headers: url.includes('name=www') ? { accept: 'application/dns-json' } : {} });
    console.log(url, r.statusCode, JSON.stringify(r.headers), r.headers['content-type']?.includes('dns-message') ? r.rawPayload.toString('hex') : r.body.slice(0, 1500));
  }
  for (const [ct, body] of [['application/dns-message', wireQuery('www.example', 1)], ['application/json', '{}'], ['text/plain', 'x'], ['application/dns-message', Buffer.alloc(70000)], ['application/dns-message', Buffer.from('hello world, not dns')], ['application/dns-message', Buffer.alloc(0)]] as const) {
    const r = await t.app.inject({ method: 'POST', url: '/dns-query', headers: { 'content-type': ct }, payload: body });
    console.log('POST', ct, r.statusCode, r.headers['cache-control'], r.body.slice(0, 300));
  }
  const r = await t.app.inject({ method: 'OPTIONS', url: '/dns-query', headers: { origin: 'http://x', 'access-control-request-method': 'POST' } });
  console.log('OPTIONS', r.statusCode, JSON.stringify(r.headers));
  await t.close();
});
