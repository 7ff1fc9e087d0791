// The answer scrub (src/dns/answer-scrub.ts) on responses as an upstream sends them: encoded by
// dns-packet (names compressed), decoded by the upstream codec, then scrubbed. Records owned by
// other names are dropped from every section; the owner chain (CNAME, DNAME) and its zone are kept.
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { MAX_CHAIN_LINKS, answersOwnedBy, scrubSections } from '../../../src/dns/answer-scrub.js';
import { RRType, Rcode } from '../../../src/dns/constants.js';
import { makeQuestion } from '../../../src/dns/names.js';
import { recordTypeNumber } from '../../../src/dns/record-types.js';
import type { DnsRecord } from '../../../src/dns/types.js';
import { decodeResponse } from '../../../src/dns/upstream-codec.js';

const Q = '_dnslink.e.poison.example';

const txt = (name: string, value: string, klass = 'IN'): dnsPacket.Answer => ({ name, type: 'TXT', class: klass as 'IN', ttl: 60, data: [value] });
const cname = (name: string, target: string): dnsPacket.Answer => ({ name, type: 'CNAME', class: 'IN', ttl: 60, data: target });
const dname = (name: string, target: string): dnsPacket.Answer => ({ name, type: 'DNAME', class: 'IN', ttl: 60, data: target }) as dnsPacket.Answer;
const ns = (name: string, host: string): dnsPacket.Answer => ({ name, type: 'NS', class: 'IN', ttl: 60, data: host });
const a = (name: string, address: string): dnsPacket.Answer => ({ name, type: 'A', class: 'IN', ttl: 60, data: address });
const soa = (zone: string): dnsPacket.Answer => ({
  name: zone,
  type: 'SOA',
  class: 'IN',
  ttl: 60,
  data: { mname: `ns1.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 60 },
});

interface Sections {
  answers?: dnsPacket.Answer[];
  authorities?: dnsPacket.Answer[];
  additionals?: dnsPacket.Answer[];
  rcode?: number;
}

/** The response an upstream sends for `name`/`type` with these sections, through the upstream codec, then scrubbed. */
function scrubbed(sections: Sections, name = Q, type: dnsPacket.RecordType = 'TXT') {
  const wire = dnsPacket.encode({
    type: 'response',
    id: 7,
    flags: dnsPacket.RECURSION_AVAILABLE | (sections.rcode ?? 0),
    questions: [{ name, type, class: 'IN' }],
    answers: sections.answers ?? [],
    authorities: sections.authorities ?? [],
    additionals: sections.additionals ?? [],
  });
  const response = decodeResponse(wire);
  return scrubSections(makeQuestion(name, recordTypeNumber(type)), response);
}

/** `owner TYPE data` of each record, for comparing sections. */
const shown = (records: DnsRecord[]) => records.map((r) => `${r.name} ${r.type} ${JSON.stringify((r as { data?: unknown }).data, (_k, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString() : v))}`);

describe('scrubSections: the answer section', () => {
  it('drops a TXT record owned by another name, the only record of the answer', () => {
    const s = scrubbed({ answers: [txt('_dnslink.victim.example', 'dnslink=/ipfs/X')] });
    expect(s.answers).toEqual([]);
    expect(s.dropped).toEqual({ answer: 1, authority: 0, additional: 0 });
  });

  it('keeps the records of the asked name (any letter case) and drops the others and other types and classes', () => {
    const s = scrubbed({
      answers: [
        txt('_dnslink.victim.example', 'dnslink=/ipfs/X'),
        txt('_DNSLINK.E.Poison.Example', 'dnslink=/ipfs/own'),
        txt('e.poison.example', 'dnslink=/ipfs/parent'),
        txt('x._dnslink.e.poison.example', 'dnslink=/ipfs/child'),
        a(Q, '192.0.2.1'),
        txt(Q, 'dnslink=/ipfs/chaos', 'CH'),
      ],
    });
    expect(shown(s.answers)).toEqual(['_DNSLINK.E.Poison.Example TXT ["dnslink=/ipfs/own"]']);
    expect(s.dropped.answer).toBe(5);
  });

  it('passes an answer of only the asked name\'s records as it is, and still drops a foreign owner of the same length', () => {
    const own = scrubbed({ answers: [txt(Q, 'dnslink=/ipfs/one'), txt(Q.toUpperCase(), 'dnslink=/ipfs/two')] });
    expect([own.answers.length, own.dropped]).toEqual([2, { answer: 0, authority: 0, additional: 0 }]);
    const sameLength = scrubbed({ answers: [txt(Q, 'dnslink=/ipfs/one'), txt('_dnslink.e.poison.exampla', 'dnslink=/ipfs/X')] });
    expect(shown(sameLength.answers)).toEqual([`${Q} TXT ["dnslink=/ipfs/one"]`]);
  });

  it('follows a legitimate CNAME chain and keeps only the data at its end', () => {
    const s = scrubbed({
      answers: [
        cname(Q, 'mid.other.example'),
        txt(Q, 'dnslink=/ipfs/beside-a-cname'),
        cname('mid.other.example', 'end.third.example'),
        txt('mid.other.example', 'dnslink=/ipfs/middle'),
        txt('end.third.example', 'dnslink=/ipfs/end'),
        txt('_dnslink.victim.example', 'dnslink=/ipfs/X'),
      ],
    });
    expect(shown(s.answers)).toEqual([
      `${Q} CNAME "mid.other.example"`,
      'mid.other.example CNAME "end.third.example"',
      'end.third.example TXT ["dnslink=/ipfs/end"]',
    ]);
    expect(s.dropped.answer).toBe(3);
  });

  it('follows a chain that leaves the zone and comes back, in any order', () => {
    const s = scrubbed({
      answers: [
        txt('back.poison.example', 'dnslink=/ipfs/back'),
        cname('away.elsewhere.example', 'back.poison.example'),
        txt('e.poison.example', 'dnslink=/ipfs/X'),
        cname(Q, 'away.elsewhere.example'),
      ],
    });
    expect(shown(s.answers)).toEqual([
      'back.poison.example TXT ["dnslink=/ipfs/back"]',
      'away.elsewhere.example CNAME "back.poison.example"',
      `${Q} CNAME "away.elsewhere.example"`,
    ]);
  });

  it('keeps no data for a chain that loops back, and follows no CNAME that does not start at the asked name', () => {
    const loop = scrubbed({ answers: [cname(Q, 'loop.poison.example'), cname('loop.poison.example', Q), txt('loop.poison.example', 'dnslink=/ipfs/X'), txt(Q, 'dnslink=/ipfs/Y')] });
    expect(shown(loop.answers)).toEqual([`${Q} CNAME "loop.poison.example"`, `loop.poison.example CNAME "${Q}"`]);
    const stray = scrubbed({ answers: [cname('_dnslink.victim.example', Q), txt('_dnslink.victim.example', 'dnslink=/ipfs/X'), txt(Q, 'dnslink=/ipfs/own')] });
    expect(shown(stray.answers)).toEqual([`${Q} TXT ["dnslink=/ipfs/own"]`]);
  });

  it(`follows at most ${MAX_CHAIN_LINKS} links; a longer chain keeps no data`, () => {
    const hop = (i: number) => (i === 0 ? Q : `hop${i}.example`);
    const chain = (links: number) => [...Array.from({ length: links }, (_, i) => cname(hop(i), hop(i + 1))), txt(hop(links), 'dnslink=/ipfs/end')];
    expect(scrubbed({ answers: chain(MAX_CHAIN_LINKS) }).answers).toHaveLength(MAX_CHAIN_LINKS + 1);
    const long = scrubbed({ answers: chain(MAX_CHAIN_LINKS + 1) });
    expect(long.answers).toHaveLength(MAX_CHAIN_LINKS);
    expect(long.answers.some((r) => r.type === 'TXT')).toBe(false);
  });

  it('follows a DNAME above the asked name, keeping the synthesized CNAME only when it agrees', () => {
    const agreeing = scrubbed({ answers: [dname('poison.example', 'elsewhere.example'), cname(Q, '_dnslink.e.elsewhere.example'), txt('_dnslink.e.elsewhere.example', 'dnslink=/ipfs/moved')] });
    expect(agreeing.answers).toHaveLength(3);
    const lying = scrubbed({
      answers: [dname('poison.example', 'elsewhere.example'), cname(Q, '_dnslink.victim.example'), txt('_dnslink.victim.example', 'dnslink=/ipfs/X'), txt('_dnslink.e.elsewhere.example', 'dnslink=/ipfs/moved')],
    });
    expect(shown(lying.answers)).toEqual(['poison.example DNAME "elsewhere.example"', '_dnslink.e.elsewhere.example TXT ["dnslink=/ipfs/moved"]']);
  });

  it('keeps the CNAME itself for a CNAME question, not what it points to', () => {
    const s = scrubbed({ answers: [cname(Q, 'target.example'), txt('target.example', 'dnslink=/ipfs/X')] }, Q, 'CNAME');
    expect(shown(s.answers)).toEqual([`${Q} CNAME "target.example"`]);
  });
});

describe('scrubSections: authority and additional', () => {
  it('drops foreign records from all three sections and keeps the zone of the answer', () => {
    const s = scrubbed({
      answers: [txt(Q, 'dnslink=/ipfs/own'), txt('_dnslink.victim.example', 'dnslink=/ipfs/X')],
      authorities: [ns('poison.example', 'ns1.poison.example'), ns('victim.example', 'ns.attacker.example'), soa('victim.example'), txt('_dnslink.victim.example', 'dnslink=/ipfs/X'), ns('example', 'ns.tld.example')],
      additionals: [a('ns1.poison.example', '192.0.2.53'), a('ns.attacker.example', '198.51.100.1'), a('victim.example', '198.51.100.2'), txt('_dnslink.victim.example', 'dnslink=/ipfs/X'), a('ns.tld.example', '192.0.2.54')],
    });
    expect(shown(s.answers)).toEqual([`${Q} TXT ["dnslink=/ipfs/own"]`]);
    expect(shown(s.authorities)).toEqual(['poison.example NS "ns1.poison.example"', 'example NS "ns.tld.example"']);
    expect(shown(s.additionals)).toEqual(['ns1.poison.example A "192.0.2.53"', 'ns.tld.example A "192.0.2.54"']);
    expect(s.dropped).toEqual({ answer: 1, authority: 3, additional: 3 });
  });

  it('keeps the SOA of a negative answer at or above the asked name (or the chain end), and proofs below it', () => {
    const nx = scrubbed({
      rcode: Rcode.NXDOMAIN,
      authorities: [soa('poison.example'), soa('victim.example'), { name: 'd.poison.example', type: 'NSEC', class: 'IN', ttl: 60, data: { nextDomain: 'f.poison.example', rrtypes: ['TXT'] } } as dnsPacket.Answer, { name: 'd.victim.example', type: 'NSEC', class: 'IN', ttl: 60, data: { nextDomain: 'f.victim.example', rrtypes: ['TXT'] } } as dnsPacket.Answer],
    });
    expect(shown(nx.authorities).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['poison.example SOA', 'd.poison.example NSEC']);
    const chained = scrubbed({ answers: [cname(Q, 'gone.other.example')], authorities: [soa('other.example'), soa('poison.example'), soa('victim.example')] });
    expect(chained.authorities.map((r) => r.name)).toEqual(['other.example', 'poison.example']);
  });

  it('keeps additional addresses of hosts a kept MX names', () => {
    const s = scrubbed({ answers: [{ name: 'mail.poison.example', type: 'MX', class: 'IN', ttl: 60, data: { preference: 10, exchange: 'mx.poison.example' } }], additionals: [a('mx.poison.example', '192.0.2.25'), a('mx.victim.example', '198.51.100.25')] }, 'mail.poison.example', 'MX');
    expect(shown(s.additionals)).toEqual(['mx.poison.example A "192.0.2.25"']);
  });
});

describe('answersOwnedBy (records without wire form, as decoded from the cache or built by a stage)', () => {
  it('applies the same owner chain to plain records', () => {
    const answers: DnsRecord[] = [
      { name: '_dnslink.victim.example', type: 'TXT', class: 'IN', ttl: 60, data: ['dnslink=/ipfs/X'] },
      { name: `${Q.toUpperCase()}.`, type: 'CNAME', class: 'IN', ttl: 60, data: 'end.example.' },
      { name: 'end.example', type: 'TXT', class: 'IN', ttl: 60, data: ['dnslink=/ipfs/end'] },
    ];
    expect(answersOwnedBy(Q, RRType.TXT, answers).map((r) => r.name)).toEqual([`${Q.toUpperCase()}.`, 'end.example']);
    expect(answersOwnedBy('_dnslink.victim.example', RRType.TXT, answers).map((r) => r.name)).toEqual(['_dnslink.victim.example']);
    expect(answersOwnedBy(makeQuestion(Q, RRType.TXT).nameWire, RRType.TXT, [answers[0]!])).toEqual([]);
  });
});
