// The gateway paths take host names (real nsd upstream, real HTTP): a URL is reduced to its host
// with a note, Unicode is looked up as punycode, and a name with bytes no host name holds is a 400
// INVALID_DOMAIN naming the reason, with nothing sent upstream.
import { describe, expect, it } from 'vitest';
import { requireBinaries, requireBuild, zone } from './support/index.js';
import { nsdWithDnslinkd } from './support/suite.js';

const ok = requireBinaries('nsd') && requireBuild();
const plain = zone.names.plain.name.replace(/^_dnslink\./, '');

describe.skipIf(!ok)('DNSLink names on the gateway API (nsd upstream)', () => {
  const servers = nsdWithDnslinkd();
  const api = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${servers.d.httpPort}/v1/dnslink/${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const upstreamAsked = () => servers.d.metric('dnslinkd_upstream_latency_seconds_count');

  it('reduces a URL to its host and says so', async () => {
    const { status, body } = await api(encodeURIComponent(`https://${plain}/some/page`));
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: plain, input: `https://${plain}/some/page`, value: zone.names.plain.values[0]!.replace(/^dnslink=/, '') });
    expect(body.notes).toEqual([`"https://${plain}/some/page" is a URL: resolving its host ${plain}`]);
  });

  it('looks a Unicode name up as punycode', async () => {
    const { body } = await api(encodeURIComponent('bücher.dnslink.test'));
    expect(body.name).toBe('xn--bcher-kva.dnslink.test');
    expect((body.lookups as Array<{ name: string }>)[0]?.name).toBe('_dnslink.xn--bcher-kva.dnslink.test');
  });

  it('answers 400 INVALID_DOMAIN with the reason for bytes no host name holds, asking nothing upstream', async () => {
    await api(plain); // the upstream has answered once, so its counter exists
    const before = await upstreamAsked();
    for (const [name, reason] of [
      ['a%20b.dnslink.test', 'INVALID_CHARACTER'],
      ['a%00b.dnslink.test', 'INVALID_CHARACTER'],
      ['a..dnslink.test', 'EMPTY_PART'],
      [encodeURIComponent('ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'), 'NOT_A_HOST'],
    ] as const) {
      for (const all of ['', '?all=true']) {
        const { status, body } = await api(`${name}${all}`);
        expect(status, `${name}${all}`).toBe(400);
        expect(body, `${name}${all}`).toMatchObject({ code: 'INVALID_DOMAIN', reason });
        expect(body.message).toMatch(/^invalid domain/);
      }
    }
    expect(await upstreamAsked()).toBe(before);
  });
});
