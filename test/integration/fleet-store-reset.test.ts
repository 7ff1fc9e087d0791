// A fleet store that comes back empty under running instances (two single processes and one with
// --workers 2): a real redis-server restarted without persistence, then FLUSHALL. The instances
// keep serving the overrides they hold and say so (/healthz degraded with the exact phrase, dnslinkd_control_store_reset_held, `dnslinkd
// status`); `dnslinkd override restore --dry-run` lists them, `restore` publishes them again (the
// other instance takes them from the store), `accept-reset` drops them on both, audited; a removal
// made on one instance is not a reset on the other; an override deleted in Redis without an audit
// record is.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinaries, requireBuild, runCli, startDnslinkd, startNsd, startRedis, stopAll, waitFor, zone } from './support/index.js';
import type { CliResult, DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'redis-server') && requireBuild();

const plain = zone.names.plain.name.replace(/^_dnslink\./, '');
const hop3 = zone.names.hop3!.name.replace(/^_dnslink\./, '');
const original = zone.names.plain.values[0]!.replace(/^dnslink=/, '');
const CID_A = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const CID_B = '/ipfs/bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));

async function value(d: DnslinkdHandle, name: string): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`, { signal: AbortSignal.timeout(2000) });
  return ((await res.json()) as { value?: string }).value;
}

interface Health {
  status: number;
  body: { status: string; reason: string; control?: { store: string; degraded: boolean; heldAfterReset?: number } };
}

async function health(d: DnslinkdHandle): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/healthz`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: (await res.json()) as never };
}

const cli = (d: DnslinkdHandle, args: string[]): Promise<CliResult> => runCli([...args, '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir], 15_000, baseEnv);

describe.skipIf(!ok)('a fleet store reset (real redis-server restarted empty, FLUSHALL) under running instances', () => {
  let nsd: NsdHandle;
  let redis: RedisHandle;
  const fleet: DnslinkdHandle[] = [];
  const start = (args: string[] = []) => startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], args, config: { state: { redis: redis.url, syncIntervalMs: 500 } } });
  const everywhere = (what: string, check: (d: DnslinkdHandle) => Promise<boolean>) => waitFor(what, async () => (await Promise.all(fleet.map(check))).every(Boolean), 8000, { intervalMs: 50 });
  const held = (n: number) => async (d: DnslinkdHandle) => (await health(d)).body.reason.includes(`store reset: ${n} overrides held here are not in the store`);
  const healthy = async (d: DnslinkdHandle) => {
    const h = await health(d);
    return h.body.control?.degraded === false && !h.body.reason.includes('store reset');
  };
  const raw = async <T>(work: (r: Redis) => Promise<T>): Promise<T> => {
    const r = new Redis(redis.url);
    try {
      return await work(r);
    } finally {
      r.disconnect();
    }
  };

  beforeAll(async () => {
    nsd = await startNsd();
    redis = await startRedis();
    // Two single processes, and one with --workers 2 (its primary holds the control plane; the workers answer /healthz).
    fleet.push(...(await Promise.all([start(), start(), start(['--workers', '2'])])));
    for (const [name, v] of [
      [plain, CID_A],
      [hop3, CID_B],
    ] as const) {
      expect((await fleet[0]!.admin('PUT', `/admin/v1/overrides/${name}`, { value: v, reason: 'INC-9' })).status).toBe(200);
    }
    await everywhere('both overrides everywhere', async (d) => (await value(d, plain)) === CID_A && (await value(d, hop3)) === CID_B);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(fleet.map((d) => d.stop()));
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('Redis restarted empty: every instance keeps serving and says so (healthz, metric, dnslinkd status)', async () => {
    await redis.stop();
    redis = await startRedis({ port: redis.port });
    const since = Date.now();
    await everywhere('the reset noticed everywhere', held(2));
    console.log(`store reset: Redis back empty -> every instance's /healthz says so after ${Date.now() - since} ms (syncIntervalMs 500)`);
    for (const d of fleet) {
      const h = await health(d);
      expect(h.status).toBe(200);
      expect(h.body.status).toBe('ready');
      expect(h.body.reason).toContain('control store DEGRADED (store reset: 2 overrides held here are not in the store');
      expect(h.body.control).toMatchObject({ store: 'redis', degraded: true, heldAfterReset: 2 });
      expect(await d.metric('dnslinkd_control_store_reset_held')).toBe(2);
      expect(await d.metric('dnslinkd_control_store_resets_total')).toBeGreaterThanOrEqual(1);
      expect(await value(d, plain)).toBe(CID_A);
      expect(await value(d, hop3)).toBe(CID_B);
      expect(d.logs()).toMatch(/store reset: 2 overrides held here are not in the store: the store is a new one/);
    }
    expect(await raw((r) => r.hlen('dnslinkd:overrides'))).toBe(0);

    const status = await cli(fleet[0]!, ['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^state: +DEGRADED$/m);
    expect(status.stdout).toContain('store reset: 2 overrides held here are not in the store');
    expect(status.stdout).toContain(`${plain}  ${CID_A}`);
    const json = JSON.parse((await cli(fleet[0]!, ['status', '--json'])).stdout) as { degraded: boolean; storeReset: { held: number; overrides: Array<{ name: string }> } };
    expect(json.degraded).toBe(true);
    expect(json.storeReset.held).toBe(2);
    expect(json.storeReset.overrides.map((o) => o.name).sort()).toEqual([hop3, plain].sort());
  }, 40_000);

  it('`override restore --dry-run` lists them and changes nothing; `restore` publishes them, and all recover', async () => {
    const dry = await cli(fleet[0]!, ['override', 'restore', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/dry run, nothing changed: would restore 2 overrides/);
    expect(dry.stdout).toContain(plain);
    expect(dry.stdout).toContain(hop3);
    expect(await raw((r) => r.hlen('dnslinkd:overrides'))).toBe(0);
    expect(await held(2)(fleet[1]!)).toBe(true);

    const restore = await cli(fleet[0]!, ['override', 'restore']);
    expect(restore.code, restore.stderr).toBe(0);
    const restoredAt = Date.now();
    expect(restore.stdout).toMatch(/2 overrides published to the store again/);
    expect(await raw((r) => r.hlen('dnslinkd:overrides'))).toBe(2);
    await everywhere('all healthy again', healthy);
    console.log(`store reset: after \`override restore\` every instance is healthy within ${Date.now() - restoredAt} ms`);
    for (const d of fleet) {
      expect(await d.metric('dnslinkd_control_store_reset_held')).toBe(0);
      expect(await value(d, plain)).toBe(CID_A);
    }
    const actions = (await fleet[1]!.admin('GET', '/admin/v1/audit')).body.records as Array<{ action: string; dryRun: boolean }>;
    expect(actions.filter((a) => a.action === 'override.restore' && !a.dryRun)).toHaveLength(2);
    expect(actions.filter((a) => a.action === 'override.restore' && a.dryRun)).toHaveLength(2);
  }, 40_000);

  it('a removal made on one instance is not a reset on the other', async () => {
    expect((await fleet[0]!.admin('DELETE', `/admin/v1/overrides/${plain}`, { reason: 'INC-9 over' })).status).toBe(200);
    await everywhere('the removal everywhere', async (d) => (await value(d, plain)) === original);
    await new Promise((r) => setTimeout(r, 1200)); // a few reconciles later
    for (const d of fleet) expect(await healthy(d)).toBe(true);
  }, 40_000);

  it('an override deleted in Redis without an audit record is held, as a reset', async () => {
    await raw((r) => r.multi().hdel('dnslinkd:overrides', hop3).hincrby('dnslinkd:meta', 'version', 1).exec());
    await everywhere('the loss noticed everywhere', held(1));
    for (const d of fleet) expect(await value(d, hop3)).toBe(CID_B);
    expect(fleet[1]!.logs()).toMatch(/store reset: 1 overrides held here are not in the store: overrides left the store without the audit record of a removal/);
    expect((await cli(fleet[1]!, ['override', 'restore'])).code).toBe(0);
    await everywhere('all healthy again', healthy);
  }, 40_000);

  it('FLUSHALL: noticed; `accept-reset` needs a reason, then drops them everywhere, audited, and health recovers', async () => {
    await raw((r) => r.flushall());
    const since = Date.now();
    await everywhere('the FLUSHALL noticed everywhere', held(1));
    console.log(`store reset: FLUSHALL -> every instance's /healthz says so after ${Date.now() - since} ms`);
    for (const d of fleet) expect(await value(d, hop3)).toBe(CID_B);

    const noReason = await cli(fleet[1]!, ['override', 'accept-reset']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/needs --reason/);

    const dry = await cli(fleet[1]!, ['override', 'accept-reset', '--reason', 'INC-9: the store is the truth', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would drop 1 overrides/);
    expect(await held(1)(fleet[1]!)).toBe(true);

    const accept = await cli(fleet[1]!, ['override', 'accept-reset', '--reason', 'INC-9: the store is the truth']);
    expect(accept.code, accept.stderr).toBe(0);
    expect(accept.stdout).toMatch(/1 overrides dropped/);
    const acceptedAt = Date.now();
    await everywhere('all healthy again, serving DNS', async (d) => (await healthy(d)) && (await value(d, hop3)) !== CID_B);
    console.log(`store reset: after \`override accept-reset\` every instance is healthy within ${Date.now() - acceptedAt} ms`);
    for (const d of fleet) {
      expect(await value(d, hop3)).not.toBe(CID_B);
      expect(await d.metric('dnslinkd_control_store_reset_held')).toBe(0);
      expect(await d.metric('dnslinkd_overrides_active')).toBe(0);
    }
    const audit = (await fleet[0]!.admin('GET', `/admin/v1/audit?name=${hop3}`)).body.records as Array<{ action: string; reason: string; dryRun: boolean }>;
    expect(audit[0]).toMatchObject({ action: 'override.accept-reset', reason: 'INC-9: the store is the truth', dryRun: false });
    expect(await raw((r) => r.hlen('dnslinkd:overrides'))).toBe(0);
  }, 40_000);
});
