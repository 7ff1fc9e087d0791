// The answer store on its own: what `bytes` charges and `maxBytes` bounds, CLOCK eviction (a hit
// earns a second pass), the compact name index (only keys other than TXT IN), and a cached answer
// served on the wire with every record's TTL aged although no offset table is kept.
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { RRType } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import { parseQuery } from '../../dns/query-parser.js';
import { leastStoredTtl, ttlOffsetsIn } from '../../dns/record-sections.js';
import { buildResponse } from '../../dns/response-builder.js';
import { recordTtl, type Resolution } from '../../dns/resolution.js';
import { soaRecord, txtRecord, upstreamAnswer } from '../testing/harness.js';
import { AnswerStore, ENTRY_OVERHEAD_BYTES, nameKeyOfKey, SLAB_REUSE_AFTER_MS, type CachePolicy } from './answer-store.js';
import { nameKeyOf } from './flush.js';

const POLICY: CachePolicy = { maxEntries: 1000, maxBytes: 1 << 20, minTtl: 0, maxTtl: 86_400, negativeMinTtl: 0, negativeMaxTtl: 3_600, serveStale: true, staleMaxAge: 86_400 };
const keyOf = (name: string, type: number = RRType.TXT) => makeQuestion(name, type).key;
const decodeTxt = (entry: { resolution: Resolution }) => entry.resolution.answers.map((rr) => (rr.type === 'TXT' ? Buffer.concat(rr.data as Buffer[]).toString() : ''));
const aAnswer = (name: string): Resolution => upstreamAnswer({ name, type: 'A', class: 'IN', ttl: 60, data: '192.0.2.1' });

describe('AnswerStore', () => {
  it('charges each entry its encoded bytes, its key and the measured overhead, and stays within maxBytes', () => {
    const one = new AnswerStore(POLICY, () => 0);
    const entry = one.put(keyOf('_dnslink.a.example'), upstreamAnswer(txtRecord('_dnslink.a.example', 60)))!;
    expect(one.bytes).toBe(entry.bodyLength + entry.key.length + ENTRY_OVERHEAD_BYTES);
    // Keys of _dnslink.nNNN.example are 3 bytes longer than _dnslink.a.example's: room for exactly 10.
    const perEntry = one.bytes + 3;
    const bounded = new AnswerStore({ ...POLICY, maxBytes: perEntry * 10 + 1 }, () => 0);
    for (let i = 0; i < 100; i++) bounded.put(keyOf(`_dnslink.n${String(i).padStart(3, '0')}.example`), upstreamAnswer(txtRecord('_dnslink.a.example', 60)));
    expect(bounded.bytes).toBe(perEntry * 10);
    expect(bounded.size).toBe(10);
  });

  it('evicts by CLOCK: an entry hit since the last pass survives one that was not', () => {
    const store = new AnswerStore({ ...POLICY, maxEntries: 3 }, () => 0);
    const names = ['_dnslink.a.example', '_dnslink.b.example', '_dnslink.c.example'];
    for (const name of names) store.put(keyOf(name), upstreamAnswer(txtRecord(name, 60)));
    store.get(keyOf(names[0]!))!.recentlyUsed = true; // what a hit does
    store.put(keyOf('_dnslink.d.example'), upstreamAnswer(txtRecord('_dnslink.d.example', 60)));
    expect(store.get(keyOf(names[0]!))).toBeDefined();
    expect(store.get(keyOf(names[1]!))).toBeUndefined();
    expect(store.size).toBe(3);
  });

  it('indexes only keys other than TXT IN, and finds every type of a name', async () => {
    const store = new AnswerStore(POLICY, () => 0);
    store.put(keyOf('www.example'), upstreamAnswer(txtRecord('www.example', 60)));
    store.put(keyOf('www.example', RRType.A), aAnswer('www.example'));
    store.put(keyOf('www.example', RRType.AAAA), upstreamAnswer({ name: 'www.example', type: 'AAAA', class: 'IN', ttl: 60, data: '2001:db8::1' }));
    expect(store.entriesOfName(nameKeyOf('www.example')).map((e) => e.key.slice(-4))).toHaveLength(3);
    expect(store.removeNames([nameKeyOf('www.example')], false, true)).toBe(3);
    expect(store.names).toBe(1);
    expect(await store.removeWhere((nameKey) => nameKey === nameKeyOf('www.example'), false)).toBe(3);
    expect(store.size).toBe(0);
    // The index let go of the name: a new A entry is the only one found.
    store.put(keyOf('www.example', RRType.A), aAnswer('www.example'));
    expect(store.entriesOfName(nameKeyOf('www.example')).map((e) => nameKeyOfKey(e.key))).toEqual([nameKeyOf('www.example')]);
  });

  it('serves a cached answer with every record aged (answers and authority), records decoded only when read', () => {
    let now = 0;
    const store = new AnswerStore(POLICY, () => now);
    const name = '_dnslink.aged.example';
    const res: Resolution = { ...upstreamAnswer(txtRecord(name, 300), txtRecord(name, 200, 'dnslink=/ipns/other')), authorities: [soaRecord(100, 50)] };
    const entry = store.put(keyOf(name), res)!;
    now = 30_000;
    const view = entry.view('cache', 30);
    const query = dnsPacket.encode({ id: 7, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'TXT' }] });
    const parsed = parseQuery(query);
    if (!parsed.ok) throw new Error('query did not parse');
    const wire = dnsPacket.decode(buildResponse(parsed.query, view));
    expect(wire.id).toBe(7);
    expect(wire.answers?.map(recordTtl)).toEqual([270, 170]);
    expect(wire.authorities?.map(recordTtl)).toEqual([70]);
    expect(Array.from(ttlOffsetsIn(entry.body, 3), (at) => entry.body.readUInt32BE(at))).toEqual([300, 200, 100]);
    expect(leastStoredTtl(entry, 2)).toBe(200);
    expect(leastStoredTtl(entry, 3)).toBe(100);
    expect(view.answers.map((rr) => (rr.type === 'TXT' ? Buffer.concat(rr.data as Buffer[]).toString() : ''))).toEqual(['dnslink=/ipfs/bafy', 'dnslink=/ipns/other']);
  });

  it('charges a full slab whole while one of its entries lives, and nothing once all have left', () => {
    const store = new AnswerStore({ ...POLICY, maxBytes: 64 << 20 }, () => 0);
    const nameOf = (i: number) => `_dnslink.n${String(i).padStart(4, '0')}.example`;
    const first = store.put(keyOf(nameOf(0)), upstreamAnswer(txtRecord(nameOf(0), 60)))!;
    const perSlab = Math.floor((32 * 1024) / first.bodyLength);
    // Fill the first slab and start a second: the first now counts as 32 KB.
    for (let i = 1; i <= perSlab; i++) store.put(keyOf(nameOf(i)), upstreamAnswer(txtRecord(nameOf(i), 60)));
    const entryCost = first.key.length + ENTRY_OVERHEAD_BYTES;
    expect(store.bytes).toBe(store.size * entryCost + 32 * 1024 + first.bodyLength);
    // All but one entry of the first slab gone: it still holds 32 KB.
    for (let i = 1; i < perSlab; i++) store.removeNames([nameKeyOf(nameOf(i))], false);
    expect(store.bytes).toBe(2 * entryCost + 32 * 1024 + first.bodyLength);
    // The last one gone: only the entry in the current slab is charged.
    store.removeNames([nameKeyOf(nameOf(0))], false);
    expect(store.bytes).toBe(entryCost + first.bodyLength);
  });

  it('fills an emptied slab again only after SLAB_REUSE_AFTER_MS: an evicted entry read meanwhile keeps its bytes', () => {
    let now = 0;
    const nameOf = (i: number) => `_dnslink.n${String(i).padStart(4, '0')}.example`;
    const probe = new AnswerStore(POLICY, () => 0).put(keyOf(nameOf(0)), upstreamAnswer(txtRecord(nameOf(0), 60)))!;
    const perSlab = Math.floor((32 * 1024) / probe.bodyLength);
    // Room for about two slabs of entries: FIFO eviction empties whole slabs.
    const store = new AnswerStore({ ...POLICY, maxEntries: 2 * perSlab, maxBytes: 64 << 20 }, () => now);
    const evicted = store.put(keyOf(nameOf(0)), upstreamAnswer(txtRecord(nameOf(0), 60)))!;
    const bytesBefore = Buffer.from(evicted.body);
    for (let i = 1; i < 4 * perSlab; i++) store.put(keyOf(nameOf(i)), upstreamAnswer(txtRecord(nameOf(i), 60)));
    expect(store.holds(evicted)).toBe(false);
    expect(evicted.body).toEqual(bytesBefore); // within the delay: the first slab was not filled again
    now = SLAB_REUSE_AFTER_MS;
    for (let i = 4 * perSlab; i < 6 * perSlab; i++) store.put(keyOf(nameOf(i)), upstreamAnswer(txtRecord(nameOf(i), 60)));
    // After it, the first slab was reused: the same memory now holds other entries.
    const reused = store.entriesOfName(nameKeyOf(nameOf(6 * perSlab - 1)))[0]!;
    expect(evicted.body).not.toEqual(bytesBefore);
    expect(store.size).toBe(2 * perSlab);
    expect(decodeTxt(reused)).toEqual([`dnslink=/ipfs/bafy`]);
  });
});
