// The declared list of what a reload applies live and what needs a restart: every key of the
// schema is declared (a new key must be sorted into one or the other), and a plan keeps the
// restart-only keys as they run while the live ones change.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { envVariableNames, loadConfig, type JsonObject } from '../../../src/config/load.js';
import { declaredKey, planReload, RELOAD_KEYS, reloadKind } from '../../../src/lifecycle/reload-keys.js';

const noResolv = join(tmpdir(), 'dnslinkd-no-such-resolv.conf');
const load = (flags: JsonObject) => loadConfig({ env: {}, flags: { localRecords: null, dataDir: '/var/lib/dnslinkd', ...flags }, resolvConf: noResolv });

describe('reload keys', () => {
  it('declare every key of the configuration as live or restart', () => {
    const undeclared = envVariableNames()
      .filter((s) => s.leaf)
      .map((s) => s.path)
      .filter((path) => declaredKey(path) === undefined);
    expect(undeclared, 'add these keys to RELOAD_KEYS in src/lifecycle/reload-keys.ts (and to docs/configuration.md)').toEqual([]);
  });

  it('declare no key the configuration does not have', () => {
    const paths = new Set(envVariableNames().map((s) => s.path));
    expect(Object.keys(RELOAD_KEYS).filter((key) => !paths.has(key))).toEqual([]);
  });

  it('sort keys under a declared one with it, and unknown keys as needing a restart', () => {
    expect(reloadKind('dns.rateLimit.slip')).toBe('live');
    expect(reloadKind('http.tls.cert')).toBe('restart');
    expect(reloadKind('ens.mirrorAddresses.A')).toBe('live');
    expect(reloadKind('someFutureKey')).toBe('restart');
  });

  it('plan: live keys change, restart-only keys are kept as they run and named', () => {
    const running = load({ upstreams: ['udp://192.0.2.1:53'], dns: { listen: '127.0.0.1:10053' }, cache: { maxEntries: 1000, maxTtl: 600 } });
    const next = load({ upstreams: ['udp://192.0.2.2:53'], dns: { listen: '127.0.0.1:20053', rateLimit: { responsesPerSecond: 50 } }, cache: { maxEntries: 5, maxTtl: 60 }, logLevel: 'warn', http: { h2c: false } });
    const plan = planReload(running, next);
    expect(plan.changed).toEqual(['dns.rateLimit', 'upstreams', 'cache.maxTtl', 'logLevel']);
    expect(plan.needsRestart).toEqual(['dns.listen', 'http', 'cache.maxEntries']);
    expect(plan.effective.upstreams).toEqual(['udp://192.0.2.2:53']);
    expect(plan.effective.dns.rateLimit.responsesPerSecond).toBe(50);
    expect(plan.effective.cache).toMatchObject({ maxEntries: 1000, maxTtl: 60 });
    expect(plan.effective.dns.listen).toBe('127.0.0.1:10053');
    expect(plan.effective.http).toEqual(running.http);
    // The running configuration is not touched.
    expect(running.upstreams).toEqual(['udp://192.0.2.1:53']);
  });

  it('plan: the same configuration changes nothing', () => {
    const config = load({ upstreams: ['udp://192.0.2.1:53'] });
    expect(planReload(config, load({ upstreams: ['udp://192.0.2.1:53'] }))).toMatchObject({ changed: [], needsRestart: [] });
  });
});
