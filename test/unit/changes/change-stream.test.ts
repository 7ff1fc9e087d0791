// The change stream's pure parts: ids only grow, filters (names, suffixes, kinds, flushes), the
// bounded history and resumes after an id (with the gap said), audit records turned into events,
// and refresh changes compared on DNSLink values only.
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { compareIds, LocalIds, matches, type ChangeEvent } from '../../../src/changes/change-event.js';
import { ChangeStream } from '../../../src/changes/change-stream.js';
import { changesConfigSchema } from '../../../src/changes/config.js';
import { ChangeMetrics } from '../../../src/changes/metrics.js';
import { eventOfAudit, refreshChange } from '../../../src/changes/recorded-changes.js';
import { signBody } from '../../../src/changes/webhooks.js';
import type { Resolution } from '../../../src/dns/resolution.js';

const event = (over: Partial<ChangeEvent>): ChangeEvent => ({ id: '1-0', time: '', name: 'a.example.org', kind: 'refresh', origin: 'dns', instance: 'i', ...over });

function stream(historySize: number, now = () => 1000): ChangeStream {
  return new ChangeStream(changesConfigSchema.parse({ historySize }), new ChangeMetrics(new Registry()), pino({ level: 'silent' }), now, 'test');
}

function txt(name: string, ...values: string[]): Resolution {
  return { rcode: 0, source: 'upstream', answers: values.map((v) => ({ name, type: 'TXT', class: 'IN', ttl: 60, data: [Buffer.from(v)] })), authorities: [], additionals: [] } as unknown as Resolution;
}

describe('change ids', () => {
  it('grow within one millisecond and when the clock steps back', () => {
    const ids = new LocalIds();
    const made = [ids.next(5), ids.next(5), ids.next(4), ids.next(6)];
    expect(made).toEqual(['5-0', '5-1', '5-2', '6-0']);
    for (let i = 1; i < made.length; i++) expect(compareIds(made[i - 1]!, made[i]!)).toBeLessThan(0);
    expect(compareIds('10-0', '9-5')).toBeGreaterThan(0);
  });
});

describe('filters', () => {
  it('take names exactly, suffixes with what is under them, kinds, and flushes by what they cover', () => {
    const e = event({ name: 'www.site.example.org' });
    expect(matches(e, {})).toBe(true);
    expect(matches(e, { names: ['www.site.example.org'] })).toBe(true);
    expect(matches(e, { names: ['site.example.org'] })).toBe(false);
    expect(matches(e, { suffixes: ['example.org'] })).toBe(true);
    expect(matches(e, { suffixes: ['le.org'] })).toBe(false);
    expect(matches(e, { kinds: ['flush'] })).toBe(false);
    expect(matches(event({ kind: 'flush', scope: 'all', name: '.' }), { names: ['x.example.net'] })).toBe(true);
    const suffixFlush = event({ kind: 'flush', scope: 'suffix', name: 'example.org' });
    expect(matches(suffixFlush, { names: ['a.example.org'] })).toBe(true);
    expect(matches(suffixFlush, { names: ['a.example.net'] })).toBe(false);
    expect(matches(suffixFlush, { suffixes: ['org'] })).toBe(true);
  });
});

describe('the stream', () => {
  it('keeps a bounded history and resumes after an id, saying when older events were lost', () => {
    let t = 1000;
    const s = stream(10, () => t++);
    const got: string[] = [];
    s.listen((e) => got.push(e.id));
    for (let i = 0; i < 30; i++) s.record({ name: `n${i}.example.org`, kind: 'override.set', old: null, new: '/ipfs/x', origin: 'admin:t' });
    expect(got).toHaveLength(30);
    expect(s.history.length).toBeLessThanOrEqual(13);
    const last = s.history.at(-1)!;
    const third = s.history.at(-3)!;
    expect(s.since(third.id, {}).events.map((e) => e.id)).toEqual(s.history.slice(-2).map((e) => e.id));
    expect(s.since(last.id, {}).events).toEqual([]);
    const lost = s.since(got[0]!, {});
    expect(lost.gapBefore).toBe(s.history[0]!.id);
    expect(s.lapped(got[0]!)).toBe(true);
    expect(s.lapped(last.id)).toBe(false);
    expect(s.since(got[0], { names: ['n29.example.org'] }).events.map((e) => e.name)).toEqual(['n29.example.org']);
  });
});

describe('events from changes', () => {
  it('turns audit records into override and flush events, and skips dry runs', () => {
    const o = (value: string) => ({ name: 'a.example.org', value, ttl: 60, reason: 'r', by: 't', createdAt: '', updatedAt: '' });
    expect(eventOfAudit({ token: 'ops', action: 'override.set', name: 'a.example.org', before: null, after: o('/ipfs/x'), dryRun: false })).toMatchObject({ kind: 'override.set', old: null, new: '/ipfs/x', origin: 'admin:ops' });
    expect(eventOfAudit({ token: 'ops', action: 'override.set', name: 'a.example.org', before: o('/ipfs/x'), after: o('/ipfs/y'), dryRun: false })).toMatchObject({ kind: 'override.change', old: '/ipfs/x', new: '/ipfs/y' });
    expect(eventOfAudit({ token: 'ops', action: 'override.set', name: 'a.example.org', before: o('/ipfs/x'), after: o('/ipfs/x'), dryRun: false })).toBeUndefined();
    expect(eventOfAudit({ token: 'system', action: 'override.expire', name: 'a.example.org', before: o('/ipfs/x'), after: null, dryRun: false })).toMatchObject({ kind: 'override.expire', new: null, origin: 'expiry' });
    expect(eventOfAudit({ token: 'ops', action: 'override.remove', name: 'a.example.org', before: o('/ipfs/x'), after: null, dryRun: true })).toBeUndefined();
    expect(eventOfAudit({ token: 'ops', action: 'cache.flush', after: { target: { all: true }, negativeOnly: false }, dryRun: false })).toMatchObject({ kind: 'flush', scope: 'all', name: '.' });
    expect(eventOfAudit({ token: 'ops', action: 'cache.flush', name: 'example.org', after: { target: { suffix: 'example.org' }, negativeOnly: false }, dryRun: false })).toMatchObject({ kind: 'flush', scope: 'suffix', name: 'example.org' });
  });

  it('compares refreshed answers on their DNSLink values only', () => {
    const fqdn = '_dnslink.site.example.org';
    expect(refreshChange(fqdn, txt(fqdn, 'dnslink=/ipfs/a'), txt(fqdn, 'dnslink=/ipfs/b'))).toEqual({ name: 'site.example.org', old: '/ipfs/a', new: '/ipfs/b', origin: 'dns' });
    expect(refreshChange(fqdn, txt(fqdn, 'dnslink=/ipfs/a', 'other'), txt(fqdn, 'dnslink=/ipfs/a', 'changed other'))).toBeUndefined();
    expect(refreshChange(fqdn, txt(fqdn, 'dnslink=/ipfs/b', 'dnslink=/ipfs/a'), txt(fqdn, 'dnslink=/ipfs/a', 'dnslink=/ipfs/b'))).toBeUndefined();
    expect(refreshChange(fqdn, txt(fqdn, 'dnslink=/ipfs/a'), txt(fqdn))).toMatchObject({ old: '/ipfs/a', new: null });
  });

  it('signs a webhook body over "<timestamp>.<body>"', () => {
    const a = signBody('secret-0123456789abcdef', '1700000000', '{"id":"1-0"}');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(signBody('secret-0123456789abcdef', '1700000001', '{"id":"1-0"}')).not.toBe(a);
    expect(signBody('secret-0123456789abcdef', '1700000000', '{"id":"1-1"}')).not.toBe(a);
  });
});
