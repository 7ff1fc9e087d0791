// The denylist stage below a real cache stage, in front of a scripted upstream: names and answer
// values blocked with EDE 15/16 naming the list and the rule, allow rules, the first list with a
// match deciding, blocks cached, and a new list version acting on cached answers at once.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EdeCode, Rcode, RRType } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import type { Resolution } from '../../dns/resolution.js';
import { CacheStage } from '../cache/cache-stage.js';
import { cacheStageOptions, type CacheStageOptions } from '../cache/config.js';
import { configSchema } from '../../config/schema.js';
import { linkStages } from '../stage.js';
import { FakeClock, ScriptedStage, txtRecord, upstreamAnswer } from '../testing/harness.js';
import { blockOfLookup } from './block.js';
import { DenylistManager } from './denylist-manager.js';
import { DenylistStage } from './denylist-stage.js';
import { parseDenylist } from './format/index.js';

/** A list of these rules, parsed as any list is. */
const tinyList = (name: string, text: string) => parseDenylist(text, { name });
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DenylistConfig } from './config.js';

/** The default cache policy, without serve-stale and prefetch (they would ask again on their own). */
const defaults = configSchema.parse({});
const CACHE: CacheStageOptions = { ...cacheStageOptions(defaults.cache, defaults.clientDeadlineMs), serveStale: false, prefetch: false };

const CID_A = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const CID_B = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
/** What the scripted upstream answers: each name's DNSLink value. */
const VALUES: Record<string, string> = {
  '_dnslink.good.example': `/ipfs/${CID_A}`,
  '_dnslink.phish.example': `/ipfs/${CID_B}`,
  '_dnslink.hop.example': '/ipns/phish.example',
  '_dnslink.site.eth.limo': `/ipfs/${CID_A}`,
};

function chain(answer: DenylistConfig['answer'] = 'nodata') {
  const clock = new FakeClock();
  const cache = new CacheStage(CACHE, undefined, clock.now);
  const stage = new DenylistStage({ answer, mirrors: ['eth.limo'] }, undefined, clock.now);
  const upstream = new ScriptedStage((q) => {
    const value = VALUES[q.name];
    return value ? upstreamAnswer(txtRecord(q.name, 300, `dnslink=${value}`)) : { ...upstreamAnswer(), rcode: Rcode.NXDOMAIN };
  });
  linkStages([cache, stage, upstream]);
  const config: DenylistConfig = { sources: [], answer, maxNewlyBlockedPercent: 1 };
  const manager = new DenylistManager({ stage, cache, config, dataDir: mkdtempSync(join(tmpdir(), 'denylist-')), log: pino({ level: 'silent' }), now: clock.now });
  const ask = async (name: string): Promise<Resolution> => cache.resolve(makeQuestion(name, RRType.TXT), { caller: 'udp' });
  return { clock, cache, stage, upstream, manager, ask };
}

describe('denylist stage', () => {
  it('answers NOERROR with no records and EDE 15 naming the list and the rule for a blocked name, without asking upstream', async () => {
    const t = chain();
    await t.manager.setOperatorList(tinyList('operator', '/ipns/phish.example\n'));
    const res = await t.ask('_dnslink.phish.example');
    expect(res.rcode).toBe(Rcode.NOERROR);
    expect(res.answers).toEqual([]);
    expect(res.ede).toEqual({ code: EdeCode.BLOCKED, text: 'blocked by denylist operator rule /ipns/phish.example' });
    expect(t.upstream.calls).toBe(0);
    // The bare name too, and a good name passes.
    expect((await t.ask('phish.example')).ede?.code).toBe(EdeCode.BLOCKED);
    expect((await t.ask('_dnslink.good.example')).answers).toHaveLength(1);
  });

  it('blocks an answer whose /ipfs/ value is listed, and a chain whose /ipns/ hop is', async () => {
    const t = chain();
    await t.manager.setOperatorList(tinyList('operator', `/ipfs/${CID_B}\n/ipns/phish.example\n`));
    const byValue = await t.ask('_dnslink.phish.example');
    expect(byValue.ede?.text).toBe('blocked by denylist operator rule /ipns/phish.example');
    await t.manager.setOperatorList(tinyList('operator', `/ipfs/${CID_B}\n`));
    const cid = await t.ask('_dnslink.phish.example');
    expect(cid.ede).toEqual({ code: EdeCode.BLOCKED, text: `blocked by denylist operator rule /ipfs/${CID_B}` });
    // An answer of hop.example is /ipns/phish.example: the hop is a value like any other.
    await t.manager.setOperatorList(tinyList('operator', '/ipns/phish.example\n'));
    expect((await t.ask('_dnslink.hop.example')).ede?.text).toBe('blocked by denylist operator rule /ipns/phish.example');
  });

  it('answers the configured rcode, EDE 16 for a censored list, and checks a mirror name as its ENS name', async () => {
    const t = chain('nxdomain');
    await t.manager.setOperatorList(tinyList('operator', '/ipns/site.eth\n'));
    const res = await t.ask('_dnslink.site.eth.limo');
    expect(res.rcode).toBe(Rcode.NXDOMAIN);
    expect(res.ede?.text).toBe('blocked by denylist operator rule /ipns/site.eth');
    const censored = chain('refused');
    censored.stage.lists.replace([{ list: tinyList('court', '/ipns/good.example\n'), kind: 'censored' }]);
    const c = await censored.ask('_dnslink.good.example');
    expect(c.rcode).toBe(Rcode.REFUSED);
    expect(c.ede?.code).toBe(EdeCode.CENSORED);
    expect(blockOfLookup({ name: '_dnslink.good.example', ede: c.ede! })).toMatchObject({ code: 'CENSORED', list: 'court', rule: '/ipns/good.example', domain: 'good.example' });
  });

  it('lets the first list with a match decide: an allow rule in an earlier list lifts a later block', async () => {
    const t = chain();
    t.stage.lists.replace([
      { list: tinyList('operator', '!/ipns/phish.example\n'), kind: 'blocked' },
      { list: tinyList('badbits', '/ipns/phish.example\n'), kind: 'blocked' },
    ]);
    expect((await t.ask('_dnslink.phish.example')).answers).toHaveLength(1);
    // Within one list the last matching rule wins.
    t.stage.lists.replace([{ list: tinyList('badbits', '/ipns/phish.example\n!/ipns/phish.example\n/ipns/phish.example\n'), kind: 'blocked' }]);
    await t.cache.flush({ all: true });
    expect((await t.ask('_dnslink.phish.example')).ede?.text).toBe('blocked by denylist badbits rule /ipns/phish.example');
  });

  it('caches a block, and a new version evicts at once the cached answers it blocks or unblocks', async () => {
    const t = chain();
    expect((await t.ask('_dnslink.phish.example')).answers).toHaveLength(1);
    const before = t.upstream.calls;
    // Cached: a hit, nothing asked below.
    expect((await t.ask('_dnslink.phish.example')).source).toBe('cache');
    await t.manager.setOperatorList(tinyList('operator', `/ipfs/${CID_B}\n`));
    // The cached answer was evicted: blocked now, though its TTL had 300 s left.
    const blocked = await t.ask('_dnslink.phish.example');
    expect(blocked.ede?.code).toBe(EdeCode.BLOCKED);
    expect(t.upstream.calls).toBe(before + 1);
    // The block is cached too.
    const hit = await t.ask('_dnslink.phish.example');
    expect(hit.source).toBe('cache');
    expect(hit.ede?.code).toBe(EdeCode.BLOCKED);
    // The rule removed: the cached block goes, the answer comes back.
    await t.manager.setOperatorList(undefined);
    expect((await t.ask('_dnslink.phish.example')).answers).toHaveLength(1);
  });
});
