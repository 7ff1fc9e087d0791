// The reloader on a real resolver core: each live part is swapped in place (upstreams, client gate,
// ENS, cache policy, local records, log level, admin tokens) with the cache kept; a configuration
// that fails any check changes nothing, and is logged once and counted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type JsonObject } from '../../../src/config/load.js';
import { AdminAuth } from '../../../src/control/admin-auth.js';
import { createResolverCore } from '../../../src/core/resolver-core.js';
import { RRType } from '../../../src/dns/constants.js';
import { makeQuestion } from '../../../src/dns/names.js';
import { applyToCore, Reloader } from '../../../src/lifecycle/reload.js';
import { upstreamAnswer, txtRecord } from '../../../src/stages/testing/harness.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(first: JsonObject) {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-reload-unit-'));
  dirs.push(dir);
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  let file: JsonObject = first;
  const load = () => loadConfig({ env: {}, flags: { dataDir: dir, localRecords: null, ...file }, resolvConf: join(dir, 'no-resolv.conf') });
  const config = load();
  const core = createResolverCore(config, log);
  const auth = AdminAuth.load(config.admin.tokens, config.dataDir, {});
  const reloader = new Reloader({
    load,
    running: config,
    log,
    registry: core.metrics.registry,
    auth,
    target: { apply: async (c, records, changed) => (applyToCore(core, c, records, changed), {}) },
  });
  const counted = async (result: string) => (await core.metrics.registry.getSingleMetric('dnslinkd_config_reloads_total')!.get()).values.find((v) => v.labels.result === result)?.value;
  return { dir, core, auth, log, lines, reloader, counted, write: (next: JsonObject) => (file = next) };
}

const TOKEN_A = 'token-a-0123456789abcdef';
const TOKEN_B = 'token-b-0123456789abcdef';

describe('Reloader', () => {
  it('swaps each live part in place and keeps the cache', async () => {
    const { dir, core, auth, log, reloader, counted, write } = setup({ upstreams: ['udp://192.0.2.1:53'], admin: { tokens: [{ label: 'a', scope: 'write', secret: TOKEN_A }] } });
    const question = makeQuestion('_dnslink.kept.example', RRType.TXT);
    core.stages.cache.store.put(question.key, upstreamAnswer(txtRecord('_dnslink.kept.example', 600)));
    const records = join(dir, 'records.json');
    writeFileSync(records, JSON.stringify([{ name: 'local.example', type: 'TXT', ttl: 60, data: 'dnslink=/ipfs/x' }]));
    write({
      upstreams: ['udp://192.0.2.2:53', 'udp://192.0.2.3:53'],
      upstreamTimeoutMs: 300,
      dns: { rateLimit: { responsesPerSecond: 20 } },
      ens: { rpc: ['http://127.0.0.1:8545'] },
      cache: { maxTtl: 60 },
      localRecords: records,
      logLevel: 'warn',
      admin: { tokens: [{ label: 'b', scope: 'write', secret: TOKEN_B }] },
    });
    expect(core.stages.ens.enabled).toBe(false);
    const report = await reloader.reload(false, 'test');
    expect(report).toEqual({ dryRun: false, changed: ['dns.rateLimit', 'admin.tokens', 'upstreams', 'upstreamTimeoutMs', 'cache.maxTtl', 'ens', 'localRecords', 'logLevel'], needsRestart: [] });
    expect(core.stages.upstream.pool.endpoints.map((e) => e.url)).toEqual(['udp://192.0.2.2:53', 'udp://192.0.2.3:53']);
    expect(core.clientGate.rateLimiter.enabled).toBe(true);
    expect(core.stages.ens.enabled).toBe(true);
    expect(core.stages.cache.store.policy.maxTtl).toBe(60);
    expect(core.stages['local-records'].size).toBe(1);
    expect(log.level).toBe('warn');
    expect(auth.check(`Bearer ${TOKEN_A}`, 'read')).toMatchObject({ ok: false, status: 401 });
    expect(auth.check(`Bearer ${TOKEN_B}`, 'write')).toMatchObject({ ok: true, label: 'b' });
    expect(core.stages.cache.store.size).toBe(1);
    expect(core.config.upstreamTimeoutMs).toBe(300);
    expect(await counted('applied')).toBe(1);
  });

  it('refuses a configuration that fails any check whole: nothing changes, one line, counted', async () => {
    const reachable = { listen: '0.0.0.0:10053', allow: ['10.0.0.0/8'] };
    const { dir, core, lines, reloader, counted, write } = setup({ upstreams: ['udp://192.0.2.1:53'], dns: reachable });
    const records = join(dir, 'bad-records.json');
    writeFileSync(records, JSON.stringify([{ name: 'a.example', type: 'A', ttl: 60, data: 'nope' }]));
    write({ upstreams: ['udp://192.0.2.9:53'], dns: reachable, logLevel: 'debug', localRecords: records });
    await expect(reloader.reload(false, 'test')).rejects.toMatchObject({ code: 'RELOAD_REFUSED', message: expect.stringMatching(/^reload refused: invalid local records in .*\[0\.data\]: A data must be an IPv4 address; the running configuration stays$/) });
    expect(core.stages.upstream.pool.endpoints.map((e) => e.url)).toEqual(['udp://192.0.2.1:53']);
    expect(core.log.level).toBe('info');
    // Without dns.allow, the address other hosts reach would answer anyone: refused as at start.
    write({ upstreams: ['udp://192.0.2.9:53'], dns: { listen: reachable.listen } });
    await expect(reloader.reload(false, 'test')).rejects.toMatchObject({ message: expect.stringMatching(/open resolver/) });
    expect(lines.filter((l) => String(l.msg).startsWith('reload refused: '))).toHaveLength(2);
    expect(await counted('refused')).toBe(2);
    expect(await counted('applied')).toBe(0);
    expect(reloader.config.upstreams).toEqual(['udp://192.0.2.1:53']);
  });

  it('a dry run reports and changes nothing; a restart-only key is kept and named once', async () => {
    const { core, lines, reloader, counted, write } = setup({ upstreams: ['udp://192.0.2.1:53'] });
    write({ upstreams: ['udp://192.0.2.2:53'], dns: { tcpMaxPipelined: 4 }, state: { syncIntervalMs: 1000 } });
    expect(await reloader.reload(true, 'test')).toEqual({ dryRun: true, changed: ['upstreams'], needsRestart: ['dns.tcpMaxPipelined', 'state'] });
    expect(core.stages.upstream.pool.endpoints.map((e) => e.url)).toEqual(['udp://192.0.2.1:53']);
    expect(lines).toEqual([]);
    expect(await reloader.reload(false, 'test')).toMatchObject({ changed: ['upstreams'], needsRestart: ['dns.tcpMaxPipelined', 'state'] });
    expect(core.config.dns.tcpMaxPipelined).not.toBe(4);
    expect(core.config.state.syncIntervalMs).not.toBe(1000);
    expect(lines.filter((l) => String(l.msg).includes('needs a restart'))).toEqual([expect.objectContaining({ keys: ['dns.tcpMaxPipelined', 'state'] })]);
    expect(await counted('applied')).toBe(1);
  });
});
