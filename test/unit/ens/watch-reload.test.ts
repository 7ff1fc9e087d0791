// The ENS stage and its chain watch across configuration: ens.watchIntervalMs 0 turns the watch off,
// a reload (a new client) keeps the names the watch followed, and names are only followed once the
// chain builder gave the stage a way to refresh them. No network: nothing here polls.
import { afterEach, describe, expect, it } from 'vitest';
import { ensConfigSchema } from '../../../src/stages/ens/config.js';
import { EnsClient } from '../../../src/stages/ens/ens-client.js';
import { EnsStage } from '../../../src/stages/ens/ens-stage.js';

const config = (over: Record<string, unknown> = {}) => ensConfigSchema.parse({ rpc: ['http://127.0.0.1:9'], ...over });
const clientFor = (c: ReturnType<typeof config>) => new EnsClient({ ...c });

describe('ENS stage: the chain watch and configuration', () => {
  const stages: EnsStage[] = [];
  afterEach(() => stages.splice(0).forEach((s) => s.reconfigure(config(), undefined)));

  it('defaults to one poll a block (12000 ms), 1000 names, 1000 blocks a request, and the mainnet Universal Resolver', () => {
    expect(config()).toMatchObject({ watchIntervalMs: 12_000, watchMaxNames: 1_000, watchMaxBlocks: 1_000, universalResolver: '0xeEeEEEeE14D718C2B47D9923Deab1335E144EeEe' });
  });

  it('ens.watchIntervalMs 0 turns the watch off; no ENS client, no watch', () => {
    const off = new EnsStage(config({ watchIntervalMs: 0 }), clientFor(config()));
    stages.push(off);
    expect(off.chainWatch).toBeUndefined();
    const on = new EnsStage(config(), clientFor(config()));
    stages.push(on);
    expect(on.chainWatch).toBeDefined();
    on.reconfigure(config(), undefined);
    expect(on.chainWatch).toBeUndefined();
  });

  it('a reload (a new client) keeps the names the watch followed', () => {
    const stage = new EnsStage(config(), clientFor(config()));
    stages.push(stage);
    stage.refreshCached = async () => undefined;
    stage.chainWatch!.note('site.eth', '_dnslink.site.eth');
    stage.chainWatch!.note('site.eth', 'site.eth.example.org');
    const before = stage.chainWatch;
    stage.reconfigure(config({ watchIntervalMs: 1_000 }), clientFor(config()));
    expect(stage.chainWatch).not.toBe(before);
    expect([...stage.chainWatch!.watched().get('site.eth')!]).toEqual(['_dnslink.site.eth', 'site.eth.example.org']);
  });

  it('rejects a negative watch interval and a zero bound, naming the key', () => {
    const bad = ensConfigSchema.safeParse({ watchIntervalMs: -1, watchMaxNames: 0 });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['watchIntervalMs', 'watchMaxNames']);
  });
});
