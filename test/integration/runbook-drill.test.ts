// The incident drill of docs/runbook.md, run as written: its `dnslinkd` commands are read from the
// page's `sh drill` blocks and run in order against one of three dnslinkd instances sharing a real
// Redis, over a real nsd that is stopped (the domain's DNS fails) and started again; after each
// step every instance is checked over DNS. The page's `sh reload` block is run the same way, on a
// dnslinkd whose upstream failed and whose config file names another one. Then the lock and store
// sections: their shell blocks run as written against a real instance whose data directory is taken
// and whose store is deleted.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, repoRoot, requireBinaries, requireBuild, runCli, runTool, sleep, startDnslinkd, startNsd, startRedis, stopAll, txtValue, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';
import { cliSteps, commandLines, shellWords, taggedBlocks } from './support/doc-snippets.js';

const ok = requireBinaries('nsd', 'dig', 'redis-server') && requireBuild();
const n = zone.names;
const DOMAIN = n.plain.name.replace(/^_dnslink\./, '');
const TOKEN = 'drill-write-token-0123456789';

/** The drill's steps: the `npx dnslinkd ...` lines of each `sh drill` block, in order. */
function drillSteps(): string[][][] {
  return taggedBlocks('docs/runbook.md', 'drill').map((block) => cliSteps(block).map((args) => args.map((arg) => arg.replace(/\bexample\.com\b/g, DOMAIN))));
}

describe.skipIf(!ok)('runbook incident drill on a three-instance fleet', () => {
  let nsd: NsdHandle;
  let nsdPort: number;
  let redis: RedisHandle;
  const fleet: DnslinkdHandle[] = [];
  const steps = drillSteps();

  const txt = async (d: DnslinkdHandle) => {
    const r = await digAt(d.dnsPort, n.plain.name, 'TXT');
    return { ede: r.parsed?.ede?.code, flags: r.parsed?.flags ?? [], values: (r.parsed?.answers ?? []).map((a) => txtValue(a.data)), ttl: r.parsed?.answers[0]?.ttl };
  };
  const everyInstance = async (what: string, check: (r: Awaited<ReturnType<typeof txt>>) => boolean) => {
    await waitFor(what, async () => (await Promise.all(fleet.map(txt))).every(check), 5_000, { intervalMs: 50 });
  };
  const run = async (args: string[]) => {
    const r = await runCli(args, 15_000, { DNSLINKD_ADMIN__LISTEN: `127.0.0.1:${fleet[0]!.adminPort}`, DNSLINKD_ADMIN_TOKEN: TOKEN, DNSLINKD_REDIS_URL: redis.url });
    expect(r.code, `dnslinkd ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r;
  };

  beforeAll(async () => {
    nsd = await startNsd();
    nsdPort = nsd.port;
    redis = await startRedis();
    for (let i = 0; i < 3; i++) {
      fleet.push(
        await startDnslinkd({
          upstreams: [`udp://127.0.0.1:${nsdPort}`],
          env: { DNSLINKD_ADMIN_TOKEN: TOKEN },
          config: {
            state: { redis: redis.url, syncIntervalMs: 1000 },
            // Entries expire after a second, so the failing DNS shows at once; stale for a day.
            cache: { maxTtl: 1, staleTtl: 30, staleMaxAge: 86_400, prefetch: false, clientDeadlineMs: 300 },
            upstreamTimeoutMs: 300,
          },
        }),
      );
    }
  });
  afterAll(async () => {
    for (const d of fleet) await d.stop();
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('has the four steps the page describes', () => {
    expect(steps.map((s) => s.map((args) => args.slice(0, 2).join(' ')))).toEqual([
      ['cache show'],
      ['override pin', 'override pin', 'override ls'],
      ['flush --name', 'flush --name'],
      ['override rm', 'audit --name'],
    ]);
  });

  it('runs each step as written, and every instance behaves as the page says', async () => {
    const dnsValue = n.plain.values;
    for (const d of fleet) expect((await txt(d)).values).toEqual(dnsValue); // cached from DNS

    // 1. The domain's DNS fails: every instance serves its last answer, stale (EDE 3, TTL 30).
    await nsd.stop();
    await sleep(1100);
    await everyInstance('stale answers on every instance', (r) => r.ede === 3 && r.ttl === 30 && r.values.join() === dnsValue.join());
    const [show] = steps[0]!;
    // The cache view: the entry is there, past its TTL, stale since its expiry and served until a
    // day after it (cache.staleMaxAge's default).
    const staleRow = new RegExp(`^${n.plain.name.replace(/\./g, '\\.')}\\s+TXT\\s+NOERROR\\s+0\\s+since (\\S+), served until (\\S+)\\s`, 'm').exec((await run(show!)).stdout);
    expect(staleRow).not.toBeNull();
    const [since, until] = [Date.parse(staleRow![1]!.replace(/,$/, '')), Date.parse(staleRow![2]!)];
    expect(since).toBeLessThanOrEqual(Date.now());
    expect(until - since).toBe(86_400_000);

    // 2. Pin: a dry run first changes nothing; then every instance answers the pinned value, aa, EDE 4.
    const [pinDry, pin, ls] = steps[1]!;
    expect((await run(pinDry!)).stdout).toMatch(/dry run/);
    expect((await Promise.all(fleet.map(txt))).every((r) => r.ede === 3)).toBe(true);
    const started = Date.now();
    await run(pin!);
    await everyInstance('the pinned override on every instance', (r) => r.ede === 4 && r.flags.includes('aa') && r.values.join() === dnsValue.join());
    console.log(`runbook drill: pin reached all 3 instances within ${Date.now() - started} ms`);
    expect((await run(ls!)).stdout).toMatch(new RegExp(`${DOMAIN.replace(/\./g, '\\.')}.*INC-7`));

    // 3. DNS is back; flush: the override still answers meanwhile.
    nsd = await startNsd({ port: nsdPort });
    const [flushDry, flush] = steps[2]!;
    await run(flushDry!);
    await run(flush!);
    await everyInstance('the override still answering after the flush', (r) => r.ede === 4);

    // 4. Remove the override: every instance answers from DNS again, fresh; the audit log has every step.
    const [rm, audit] = steps[3]!;
    await run(rm!);
    await everyInstance('DNS answers on every instance', (r) => r.ede === undefined && r.values.join() === dnsValue.join() && !r.flags.includes('aa'));
    const trail = (await run(audit!)).stdout;
    for (const action of ['override.remove', 'cache.flush', 'override.pin']) expect(trail).toContain(action);
    expect(trail).toMatch(/INC-7 resolved/);
  }, 60_000);

  it('blocks a phishing name and its CID fleet-wide as "Block a phishing name now" says, and lifts it', async () => {
    const plainCid = /\/ipfs\/([a-z0-9]+)/.exec(n.plain.values[0]!)![1]!;
    const deny = denySteps(DOMAIN, plainCid);
    expect(deny.map((s) => s.map((args) => args.slice(0, 2).join(' ')))).toEqual([
      ['deny check', 'deny add'],
      ['deny add', 'deny add', 'deny ls'],
      ['deny rm', 'audit --since'],
    ]);
    const gatewayStatus = async (d: DnslinkdHandle) => (await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${DOMAIN}`)).status;
    // 1. Check and dry run: nothing blocked yet.
    const [check, dry] = deny[0]!;
    expect((await run(check!)).stdout).toContain(`${DOMAIN}: no list has a matching rule: not blocked`);
    expect((await run(dry!)).stdout).toMatch(/^dry run: would add/);
    expect((await Promise.all(fleet.map(gatewayStatus))).every((status) => status === 200)).toBe(true);
    // 2. Block: every instance answers NOERROR, no records, EDE 15; the API 410.
    const [addName, addCid, ls] = deny[1]!;
    const started = Date.now();
    await run(addName!);
    await run(addCid!);
    await everyInstance('the name blocked on every instance', (r) => r.ede === 15 && r.values.length === 0);
    console.log(`runbook drill: a denylist rule reached all 3 instances within ${Date.now() - started} ms`);
    for (const d of fleet) expect(await gatewayStatus(d)).toBe(410);
    const listed = (await run(ls!)).stdout;
    expect(listed).toContain(`/ipns/${DOMAIN}`);
    expect(listed).toContain(`/ipfs/${plainCid}`);
    // 3. Lift both (the page's ID: each rule's id from deny ls).
    const [rm, audit] = deny[2]!;
    const ids = [...listed.matchAll(/^([0-9a-f-]{36})\s/gm)].map((m) => m[1]!);
    expect(ids).toHaveLength(2);
    for (const id of ids) await run(rm!.map((arg) => (arg === 'ID' ? id : arg)));
    await everyInstance('the name answered from DNS again on every instance', (r) => r.ede === undefined && r.values.join() === n.plain.values.join());
    const trail = (await run(audit!)).stdout;
    expect(trail).toContain('denylist.add');
    expect(trail).toContain('denylist.remove');
  }, 60_000);
});

/** The `npx dnslinkd` commands of the page's `sh deny` blocks ("Block a phishing name now"), the name and CID put in. */
function denySteps(domain: string, cid: string): string[][][] {
  return taggedBlocks('docs/runbook.md', 'deny').map((block) =>
    block
      .split('\n')
      .filter((line) => line.startsWith('npx dnslinkd '))
      .map((line) => [...line.replace(/^npx dnslinkd /, '').matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] ?? m[2]!).replace(/\bexample\.com\b/g, domain).replace(/^\/ipfs\/CID$/, `/ipfs/${cid}`))),
  );
}

/** The commands of the page's `sh reload` block (docs/runbook.md, "Reload the configuration"), in order. */
function reloadSteps(): string[] {
  return commandLines(taggedBlocks('docs/runbook.md', 'reload')[0] ?? '');
}

describe.skipIf(!ok)('runbook reload: another upstream while the first one is down', () => {
  let a: NsdHandle;
  let b: NsdHandle;
  let d: DnslinkdHandle;
  const steps = reloadSteps();

  const answer = async (name: string) => {
    const r = await digAt(d.dnsPort, name, 'TXT');
    return { status: r.parsed?.status, ede: r.parsed?.ede?.code, values: (r.parsed?.answers ?? []).map((a) => txtValue(a.data)) };
  };
  /** Runs one line of the block as written: `npx dnslinkd ...` as the CLI, anything else with sh. */
  const run = async (line: string) => {
    if (line.startsWith('npx dnslinkd ')) {
      const args = shellWords(line.replace(/^npx dnslinkd /, ''));
      const r = await runCli(args, 15_000, { DNSLINKD_ADMIN__LISTEN: `127.0.0.1:${d.adminPort}`, DNSLINKD_ADMIN_TOKEN: TOKEN });
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      return r.stdout;
    }
    const r = await runTool('env', [`DNSLINKD_PID=${d.proc.child.pid}`, 'sh', '-c', line], 5_000);
    expect(r.code, `${line}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    a = await startNsd();
    b = await startNsd();
    // The upstreams in the file (a --upstream flag would win over it at every reload).
    d = await startDnslinkd({
      upstreams: [],
      env: { DNSLINKD_ADMIN_TOKEN: TOKEN },
      config: { upstreams: [`udp://127.0.0.1:${a.port}`], cache: { maxTtl: 1, staleTtl: 30, staleMaxAge: 86_400, prefetch: false, clientDeadlineMs: 300 }, upstreamTimeoutMs: 300 },
    });
  });
  afterAll(async () => {
    await d?.stop();
    await a?.stop();
    await b?.stop();
    await stopAll();
  });

  it('has the three commands the page describes', () => {
    expect(steps).toHaveLength(3);
    expect(steps[0]).toMatch(/^npx dnslinkd reload --dry-run/);
    expect(steps[1]).toMatch(/^npx dnslinkd reload\b/);
    expect(steps[2]).toMatch(/^kill -HUP "\$DNSLINKD_PID"/);
  });

  it('reloads onto the new upstream: stale answers go on meanwhile, fresh ones follow, nothing is lost', async () => {
    expect((await answer(n.plain.name)).values).toEqual(n.plain.values);
    await a.stop();
    await sleep(1100);
    await waitFor('the stale answer', async () => (await answer(n.plain.name)).ede === 3, 5_000, { intervalMs: 50 });

    const config = JSON.parse(readFileSync(d.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(d.configFile, JSON.stringify({ ...config, upstreams: [`udp://127.0.0.1:${b.port}`] }));
    expect(await run(steps[0]!)).toMatch(/dry run, nothing changed: .*would apply upstreams/);
    expect(await answer(n.plain.name)).toMatchObject({ ede: 3, values: n.plain.values });

    expect(await run(steps[1]!)).toMatch(/^reloaded: applied upstreams/m);
    // The first upstream is still down: a fresh answer now can only come from the new one.
    await waitFor('a fresh answer from the new upstream', async () => (await answer(n.plain.name)).ede === undefined, 5_000, { intervalMs: 50 });
    expect(await answer(n.plain.name)).toMatchObject({ status: 'NOERROR', values: n.plain.values });
    expect(await answer(n.two.name)).toMatchObject({ status: 'NOERROR', ede: undefined, values: n.two.values });

    await run(steps[2]!);
    await waitFor('the signalled reload logged', async () => d.logs().split('\n').filter((l) => l.includes('"by":"SIGHUP"')).length === 1, 5_000);
    expect(d.proc.exitCode).toBeUndefined();
    expect(await d.metric('dnslinkd_config_reloads_total')).toBe(2);
  }, 40_000);
});

describe.skipIf(!(requireBinaries('curl', 'bash', 'ps') && requireBuild()))('runbook: the data directory lock and a store that refuses changes, as written', () => {
  const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
  const dirs: string[] = [];
  afterAll(async () => {
    await stopAll();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const sh = async (script: string, env: Record<string, string>) => {
    const r = await runTool('env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'bash', '-eu', '-o', 'pipefail', '-c', script], 15_000);
    expect(r.code, `${script}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };

  it('the refusal line is the one the page shows, its commands tell who holds the lock, and a deleted store is seen as the page says', async () => {
    const page = readFileSync(join(repoRoot, 'docs', 'runbook.md'), 'utf8');
    const [lockBlock] = taggedBlocks('docs/runbook.md', 'drill-lock');
    const [storeBlock] = taggedBlocks('docs/runbook.md', 'drill-store');
    expect(lockBlock).toBeDefined();
    expect(storeBlock).toBeDefined();
    const dataDir = join(mkdtempSync(join(tmpdir(), 'dnslinkd-rb-')), 'data');
    dirs.push(dirname(dataDir));
    const d = await startDnslinkd({ upstreams: [], dataDir });
    const pid = d.proc.child.pid!;

    // The line, as the page shows it (pid and directory aside).
    const shown = /^dnslinkd: \[DATA_DIR_LOCKED\] another dnslinkd \(pid \d+\) uses \S+$/m.exec(page)?.[0];
    expect(shown).toBeDefined();
    const second = await runCli(['serve', '--dns', '127.0.0.1:0', '--http', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--no-local-records', '--data-dir', dataDir]);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(shown!.replace(/pid \d+/, `pid ${pid}`).replace(/uses \S+$/, `uses ${dataDir}`));

    const env = { DATA_DIR: dataDir, HTTP: `http://127.0.0.1:${d.httpPort}` };
    const who = await sh(lockBlock!, env);
    expect(who.split('\n')[0]).toBe(String(pid));
    expect(who).toMatch(new RegExp(`^\\s*${pid}\\s.*bin/dnslinkd\\.js serve`, 'm'));

    expect((await d.admin('PUT', '/admin/v1/overrides/kept.example', { value: `/ipfs/${CID}`, reason: 'drill' })).status).toBe(200);
    for (const f of ['control.db', 'control.db-wal', 'control.db-shm']) rmSync(join(dataDir, f));
    expect((await d.admin('PUT', '/admin/v1/overrides/refused.example', { value: `/ipfs/${CID}`, reason: 'drill' })).body).toMatchObject({ code: 'STORE_REPLACED' });
    const seen = await sh(storeBlock!, env);
    expect(seen).toMatch(/"control":\{"store":"embedded","degraded":true,"reason":"[^"]*STORE_REPLACED/);
    expect(seen).toContain('dnslinkd_control_store_errors_total{reason="STORE_REPLACED"} 1');
    expect(seen).toMatch(/ control\.db\n/); // written back, as the page says
    expect(d.logs()).toContain("wrote this instance's overrides, flushes and audit log back to");

    // "Then restart dnslinkd": the acknowledged override is there, changes are taken again.
    await d.stop();
    const again = await startDnslinkd({ upstreams: [], dataDir });
    expect((await again.admin('GET', '/admin/v1/overrides/kept.example')).status).toBe(200);
    expect((await again.admin('PUT', '/admin/v1/overrides/after.example', { value: `/ipfs/${CID}`, reason: 'drill' })).status).toBe(200);
    await again.stop();
  }, 40_000);
});
