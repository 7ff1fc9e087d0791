// The store-reset steps of docs/runbook.md, run as written: every line of its `sh store-reset`
// blocks (`npx dnslinkd ...` through the CLI, `curl ...` through bash) against one of two dnslinkd
// instances sharing a real Redis that is restarted empty (then step 2a, restore) and flushed (then
// step 2b, accept-reset); after each step both instances are checked.
import { execFile } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinaries, requireBuild, runCli, startDnslinkd, startNsd, startRedis, stopAll, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';
import { taggedBlocks } from './support/doc-snippets.js';

const ok = requireBinaries('nsd', 'redis-server', 'curl') && requireBuild();
const DOMAIN = zone.names.plain.name.replace(/^_dnslink\./, '');
const OTHER = zone.names.hop3!.name.replace(/^_dnslink\./, '');
const CID = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const TOKEN = 'store-reset-drill-token-0123456789';
const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));

/** The section's steps: the command lines of each `sh store-reset` block, in order. */
function steps(): string[][] {
  return taggedBlocks('docs/runbook.md', 'store-reset').map((block) => block.split('\n').filter((line) => line.trim() !== ''));
}

function sh(line: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', line], { env, timeout: 15_000 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

describe.skipIf(!ok)('runbook: the fleet store was reset (two instances, a real Redis restarted empty, then flushed)', () => {
  let nsd: NsdHandle;
  let redis: RedisHandle;
  const fleet: DnslinkdHandle[] = [];
  const blocks = steps();

  /** Runs one line as the page gives it, against the first instance; it must exit 0. */
  const run = async (line: string): Promise<string> => {
    const d = fleet[0]!;
    const env = { ...baseEnv, HTTP: `http://127.0.0.1:${d.httpPort}`, DNSLINKD_ADMIN__LISTEN: `127.0.0.1:${d.adminPort}`, DNSLINKD_ADMIN_TOKEN: TOKEN };
    const args = line.startsWith('npx dnslinkd ') ? [...line.replace(/^npx dnslinkd /, '').matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!) : undefined;
    const r = args ? await runCli(args, 15_000, env) : await sh(line, env);
    expect(r.code, `${line}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const runBlock = async (i: number) => {
    const out: string[] = [];
    for (const line of blocks[i]!) out.push(await run(line));
    return out;
  };
  const value = async (d: DnslinkdHandle, name: string) =>
    ((await (await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`, { signal: AbortSignal.timeout(2000) })).json()) as { value?: string }).value;
  const reason = async (d: DnslinkdHandle) => ((await (await fetch(`http://127.0.0.1:${d.httpPort}/healthz`, { signal: AbortSignal.timeout(2000) })).json()) as { reason: string }).reason;
  const everywhere = (what: string, check: (d: DnslinkdHandle) => Promise<boolean>) => waitFor(what, async () => (await Promise.all(fleet.map(check))).every(Boolean), 8000, { intervalMs: 50 });
  const held = (n: number) => async (d: DnslinkdHandle) => (await reason(d)).includes(`store reset: ${n} overrides held here are not in the store`);
  const clear = async (d: DnslinkdHandle) => !(await reason(d)).includes('store reset');
  const setBoth = async () => {
    for (const name of [DOMAIN, OTHER]) expect((await fleet[0]!.admin('PUT', `/admin/v1/overrides/${name}`, { value: CID, reason: 'INC-12' })).status).toBe(200);
    await everywhere('both overrides everywhere', async (d) => (await value(d, DOMAIN)) === CID && (await value(d, OTHER)) === CID);
  };

  beforeAll(async () => {
    nsd = await startNsd();
    redis = await startRedis();
    const start = () => startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], env: { DNSLINKD_ADMIN_TOKEN: TOKEN }, config: { state: { redis: redis.url, syncIntervalMs: 500 } } });
    fleet.push(...(await Promise.all([start(), start()])));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(fleet.map((d) => d.stop()));
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('has the steps the page describes', () => {
    expect(blocks.map((b) => b.map((line) => line.split(' ').slice(0, 4).join(' ')))).toEqual([
      ['curl -s $HTTP/healthz |', 'npx dnslinkd status', 'npx dnslinkd override restore'],
      ['npx dnslinkd override restore'],
      ['npx dnslinkd override accept-reset', 'npx dnslinkd override accept-reset'],
      ['npx dnslinkd status', 'npx dnslinkd audit --limit'],
    ]);
  });

  it('Redis restarted empty: step 1 shows what is held, 2a restores it on every instance, 3 checks', async () => {
    await setBoth();
    await redis.stop();
    redis = await startRedis({ port: redis.port });
    await everywhere('the reset noticed', held(2));

    const [grep, status, dry] = await runBlock(0);
    expect(grep!.trim()).toBe('store reset: 2 overrides held here are not in the store');
    expect(status).toMatch(/^state: +DEGRADED$/m);
    expect(dry).toMatch(/dry run, nothing changed: would restore 2 overrides/);
    expect(dry).toContain(DOMAIN);
    expect(await held(2)(fleet[1]!)).toBe(true); // the dry run changed nothing

    expect((await runBlock(1))[0]).toMatch(/2 overrides published to the store again/);
    await everywhere('health recovered', clear);
    for (const d of fleet) expect(await value(d, DOMAIN)).toBe(CID);
    const [after, audit] = await runBlock(3);
    expect(after).toMatch(/^state: +ok$/m);
    expect(audit).toMatch(/override\.restore/);
  }, 40_000);

  it('FLUSHALL: step 2b drops them on every instance, 3 checks', async () => {
    const raw = new Redis(redis.url);
    await raw.flushall();
    raw.disconnect();
    await everywhere('the FLUSHALL noticed', held(2));
    const [dry, accept] = await runBlock(2);
    expect(dry).toMatch(/would drop 2 overrides/);
    expect(accept).toMatch(/2 overrides dropped/);
    await everywhere('health recovered', clear);
    for (const d of fleet) expect(await value(d, DOMAIN)).not.toBe(CID);
    const [after, audit] = await runBlock(3);
    expect(after).toMatch(/^state: +ok$/m);
    expect(audit).toMatch(/override\.accept-reset.*INC-12: Redis emptied on purpose/);
  }, 40_000);
});
