// The query log off costs a cache hit no clock read; on, its line comes after the answer (never in
// the same turn); pretty lines as the formatter writes them; the cache listing's parameters, pages
// and merge of several workers' pages.
import { Writable } from 'node:stream';
import * as dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { createResolverCore } from '../../../src/core/resolver-core.js';
import { Admission } from '../../../src/core/admission.js';
import { listCache, mergePages, parseCacheListQuery } from '../../../src/control/cache-listing.js';
import { prettyLine } from '../../../src/observability/pretty-format.js';
import { AnswerStore } from '../../../src/stages/cache/answer-store.js';
import { makeQuestion } from '../../../src/dns/names.js';

const query = (name: string) => dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'TXT' }] });

function coreLogging(queries: 'off' | 'all') {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const config = loadConfig({ env: {}, flags: { upstreams: [], log: { queries } }, resolvConf: '/nonexistent' });
  return { core: createResolverCore(config, pino({ level: 'warn' }, sink)), lines };
}

afterEach(() => vi.restoreAllMocks());

describe('query log', () => {
  it('off: a hit reads no clock and writes nothing', async () => {
    const { core, lines } = coreLogging('off');
    const packet = query('_dnslink.demo.dnslinkd.example');
    const clock = vi.spyOn(performance, 'now');
    const out = core.wireHandler.handle(packet, 'udp', true, '127.0.0.1');
    expect(out).toBeInstanceOf(Buffer);
    expect(clock).not.toHaveBeenCalled();
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([]);
  });

  it('all: the line is written after the answer was returned, with the question and its origin', async () => {
    const { core, lines } = coreLogging('all');
    const out = core.wireHandler.handle(query('_dnslink.demo.dnslinkd.example'), 'udp', true, '192.0.2.7');
    expect(out).toBeInstanceOf(Buffer);
    expect(lines).toEqual([]); // not in the answer's turn
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'query', client: '192.0.2.7', transport: 'udp', name: '_dnslink.demo.dnslinkd.example', type: 'TXT', rcode: 'NOERROR', source: 'local', cached: false, stale: false });
  });
});

describe('log.* configuration', () => {
  it('log.queries takes off, all or a rate 0..1 (a string from the environment too); anything else names the key', () => {
    const load = (env: Record<string, string>) => loadConfig({ env, resolvConf: '/nonexistent' }).log;
    expect(load({})).toEqual({ queries: 'off' });
    expect(load({ DNSLINKD_LOG__QUERIES: '0.01', DNSLINKD_LOG__FORMAT: 'pretty' })).toEqual({ queries: 0.01, format: 'pretty' });
    expect(load({ DNSLINKD_LOG_QUERIES: 'all' })).toEqual({ queries: 'all' });
    for (const bad of ['sometimes', '2', '-0.5']) expect(() => load({ DNSLINKD_LOG__QUERIES: bad })).toThrow(/log\.queries: must be off, all, or a sampling rate from 0 to 1/);
    expect(() => load({ DNSLINKD_LOG__FORMAT: 'xml' })).toThrow(/log\.format/);
    // logLevel keeps its variable.
    expect(loadConfig({ env: { DNSLINKD_LOG_LEVEL: 'warn' }, resolvConf: '/nonexistent' }).logLevel).toBe('warn');
  });
});

describe('query log of refused clients', () => {
  it('a client outside dns.allow: REFUSED, source policy, the EDE text', async () => {
    const { core, lines } = coreLogging('all');
    const out = core.wireHandler.answerStopped(query('x.example'), 'udp', Admission.REFUSE, '192.0.2.9');
    expect(out).toBeInstanceOf(Buffer);
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([expect.objectContaining({ client: '192.0.2.9', transport: 'udp', name: 'x.example', rcode: 'REFUSED', source: 'policy', ede: { code: 18, text: 'client not allowed (dns.allow)' } })]);
  });
});

describe('pretty lines', () => {
  it('ISO time, level name, message, key=value with quoting; errors without their stack', () => {
    const line = prettyLine(JSON.stringify({ level: 40, time: Date.UTC(2026, 11, 3, 12), service: 'dnslinkd', msg: 'upstream attempt failed', name: 'a b', n: 3, ok: true, o: { x: 1 }, err: { message: 'boom', code: 'EX', stack: 'at x' } }));
    expect(line).toBe('2026-12-03T12:00:00.000Z WARN  upstream attempt failed name="a b" n=3 ok=true o={"x":1} err="boom (EX)"\n');
  });
});

describe('cache listing', () => {
  const policy = { maxEntries: 100, maxBytes: 1 << 20, minTtl: 0, maxTtl: 86_400, negativeMinTtl: 0, negativeMaxTtl: 3600, serveStale: true, staleMaxAge: 100, now: 0 };
  function storeWith(names: string[], now: number) {
    const store = new AnswerStore(policy, () => now);
    for (const name of names) {
      const res = { rcode: 0, source: 'upstream' as const, answers: [{ name, type: 'TXT' as const, ttl: 60, data: ['dnslink=/ipfs/x'] }], authorities: [], additionals: [] };
      store.put(makeQuestion(name, 16).key, res as never);
    }
    return store;
  }

  it('refuses parameters out of bounds with INVALID_PARAMETER', () => {
    expect(() => parseCacheListQuery({ limit: '0' })).toThrow(/limit must be a whole number from 1 to 1000/);
    expect(() => parseCacheListQuery({ top: '5', limit: '5' })).toThrow(/top takes no limit/);
    expect(() => parseCacheListQuery({ cursor: 'abc' })).toThrow(/cursor is not one this API gave/);
    expect(parseCacheListQuery({})).toEqual({ limit: 100 });
  });

  it('pages in key order after a cursor, and merges workers by key then worker', async () => {
    const now = 1_000_000;
    const names = ['a.example', 'b.example', 'c.example', 'd.example', 'e.example'];
    const store = storeWith(names, now);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = mergePages([await listCache(store, parseCacheListQuery({ limit: '2', ...(cursor ? { cursor } : {}) }), now)], parseCacheListQuery({ limit: '2' }));
      seen.push(...page.entries.map((e) => e.name));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual([...names].sort((x, y) => (makeQuestion(x, 16).key < makeQuestion(y, 16).key ? -1 : 1)));
    const q = parseCacheListQuery({ limit: '3' });
    const merged = mergePages([await listCache(store, q, now, 2), await listCache(store, q, now, 1)], q);
    expect(merged.entries.map((e) => [e.worker, e.name])).toEqual([
      [1, seen[0]],
      [2, seen[0]],
      [1, seen[1]],
    ]);
    expect(merged.matched).toBe(10);
  });
});
