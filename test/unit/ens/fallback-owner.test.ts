// The ENS fallback's DNS step counts only the asked name's own DNSLink: a DNS answer holding a
// dnslink= TXT record of another name is an answer with no DNSLink, so the fallback answers.
import { describe, expect, it } from 'vitest';
import { RRType, Rcode } from '../../../src/dns/constants.js';
import { makeQuestion } from '../../../src/dns/names.js';
import type { Resolution } from '../../../src/dns/resolution.js';
import type { EnsClient } from '../../../src/stages/ens/ens-client.js';
import { EnsStage } from '../../../src/stages/ens/ens-stage.js';
import { stageUnderTest, txtRecord } from '../../../src/stages/testing/harness.js';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
/** ipfs://QmRAQB6YaCyidP37UdDnjFY5vQuiBrcqdyoW1CuDgwxkD4, as the ENS docs encode it. */
const CONTENTHASH = hex('e3010170122029f2d17be6139079dc48696d1f582a8530eb9805b561eda517e22a892c7e3f1f');
const client = {
  contenthash: async () => ({ found: true, contenthash: CONTENTHASH, resolver: '0x0000000000000000000000000000000000000001', wildcard: false, ccipRead: false, rpc: 'http://rpc.test' }),
} as unknown as EnsClient;
const options = { ttl: 60, suffixes: ['eth'], mirrors: [], mirrorAddresses: { A: [], AAAA: [] }, aliases: { 'e.poison.example': 'site.eth' }, fallback: 'aliases' as const };

const dnsAnswer = (...answers: Resolution['answers']): Resolution => ({ rcode: Rcode.NOERROR, answers, authorities: [], additionals: [], source: 'upstream', upstream: 'udp://up' });

describe('ENS fallback and records of other names', () => {
  it("falls back when DNS answers only another name's dnslink= record", async () => {
    const { stage } = stageUnderTest(new EnsStage(options, client), dnsAnswer(txtRecord('_dnslink.victim.example', 60, 'dnslink=/ipfs/X')));
    const res = await stage.resolve(makeQuestion('_dnslink.e.poison.example', RRType.TXT), { caller: 'api' });
    expect(res.source).toBe('ens-fallback');
    expect(res.ede?.text).toMatch(/DNS: no DNSLink/);
    expect(JSON.stringify(res.answers)).not.toContain('/ipfs/X');
  });

  it("keeps DNS when the asked name's own record (or its CNAME chain's end) has a DNSLink", async () => {
    const own = dnsAnswer(txtRecord('_dnslink.e.poison.example', 60, 'dnslink=/ipfs/own'));
    const chained = dnsAnswer({ name: '_dnslink.e.poison.example', type: 'CNAME', class: 'IN', ttl: 60, data: 'end.example' }, txtRecord('end.example', 60, 'dnslink=/ipfs/end'));
    for (const answer of [own, chained]) {
      const { stage } = stageUnderTest(new EnsStage(options, client), answer);
      expect((await stage.resolve(makeQuestion('_dnslink.e.poison.example', RRType.TXT), { caller: 'api' })).source).toBe('upstream');
    }
  });
});
