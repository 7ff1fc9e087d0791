// `dnslinkd status` of a fleet (a real redis-server, two instances): each instance sees both in the
// store, itself marked, the store version they serve; one stopped is gone from the live ones; the
// sync lag of a change made on the other instance is reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinaries, requireBuild, runCli, startDnslinkd, startNsd, startRedis, stopAll, waitFor } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'redis-server') && requireBuild();
const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));

interface FleetStatus {
  version: number;
  controlStore: { kind: string; version: number; syncLagSeconds?: number };
  fleet: { live: number; instances: Array<{ admin: string; pid: number; live: boolean; self: boolean; overridesVersion: number }> };
}

describe.skipIf(!ok)('dnslinkd status of a fleet', { timeout: 60_000 }, () => {
  let nsd: NsdHandle;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let a: DnslinkdHandle;
  let b: DnslinkdHandle;

  beforeAll(async () => {
    [nsd, redis] = await Promise.all([startNsd(), startRedis()]);
    const start = () => startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { state: { redis: redis.url, syncIntervalMs: 300 } } });
    [a, b] = await Promise.all([start(), start()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([nsd?.stop(), redis?.stop()]);
    await stopAll();
  });

  const status = async (d: DnslinkdHandle) => (await d.admin('GET', '/admin/v1/status')).body as unknown as FleetStatus;

  it('lists both instances, itself marked, with the store version each serves; a stopped one leaves the live ones', async () => {
    const put = await a.admin('PUT', '/admin/v1/overrides/plain.dnslink.test', { value: '/ipns/example.org', reason: 'fleet status test' });
    expect(put.status).toBe(200);
    await waitFor('both instances seen at the new version', async () => {
      const s = await status(b);
      return s.fleet.live === 2 && s.fleet.instances.every((i) => i.overridesVersion === s.version);
    }, 10_000);
    const s = await status(b);
    expect(s.controlStore.kind).toBe('redis');
    expect(s.fleet.instances.map((i) => [i.admin, i.pid, i.live, i.self]).sort()).toEqual(
      [
        [`127.0.0.1:${a.adminPort}`, a.proc.child.pid, true, false],
        [`127.0.0.1:${b.adminPort}`, b.proc.child.pid, true, true],
      ].sort(),
    );
    // b applied a's change from the store: its lag is measured.
    expect(s.controlStore.syncLagSeconds).toBeGreaterThanOrEqual(0);
    expect(s.controlStore.syncLagSeconds).toBeLessThan(10);

    const text = await runCli(['status', '--admin', `http://127.0.0.1:${b.adminPort}`, '--data-dir', b.dataDir], 20_000, baseEnv);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^fleet: {6}2 instances seen live \(2 known\)$/m);
    expect(text.stdout).toContain(`admin 127.0.0.1:${b.adminPort}`);
    expect(text.stdout).toMatch(/^sync lag: {3}\d+\.\d{3} s /m);

    await a.stop();
    // A clean stop removes its line.
    await waitFor('only b left', async () => (await status(b)).fleet.instances.length === 1, 10_000);
    expect((await status(b)).fleet.instances.map((i) => i.self)).toEqual([true]);
  });
});
