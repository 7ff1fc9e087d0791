// Configuration loading: defaults, file < environment < flags, and start-time errors that name
// the bad key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envOverrides, loadConfig } from '../../../src/config/load.js';
import { DEFAULT_LOCAL_RECORDS } from '../../../src/stages/local-records/config.js';
import { cacheStageOptions } from '../../../src/stages/cache/config.js';
import { resolvConfUpstreams } from '../../../src/stages/upstream/config.js';

const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-config-'));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
const noResolv = join(dir, 'missing-resolv.conf');

describe('loadConfig', () => {
  it('has an embedded default that needs no file', () => {
    const config = loadConfig({ env: {}, resolvConf: file('resolv.conf', 'search x\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n') });
    expect(config.dns.listen).toBe('127.0.0.1:10053');
    expect(config.http.listen).toBe('127.0.0.1:8053');
    expect(config.dns.forward).toBe(true);
    expect(config.upstreams).toEqual(['udp://192.0.2.53:53', 'udp://[2001:db8::53]:53']);
    expect(config.localRecords).toBe(DEFAULT_LOCAL_RECORDS);
    expect(config.cache.staleTtl).toBe(30);
    expect(config.cache.staleMaxAge).toBe(86_400);
  });

  it('layers file < env < flags', () => {
    const path = file('layers.json', JSON.stringify({ dns: { listen: '127.0.0.1:1053', forward: false }, cache: { maxTtl: 600 } }));
    const config = loadConfig({
      configFile: path,
      env: { DNSLINKD_CACHE__MAX_TTL: '300', DNSLINKD_UPSTREAMS: 'udp://127.0.0.1:1,tcp://127.0.0.1:2', DNSLINKD_HTTP: '127.0.0.1:9000' },
      flags: { http: { listen: '127.0.0.1:9001' } },
      resolvConf: noResolv,
    });
    expect(config.dns).toMatchObject({ listen: '127.0.0.1:1053', forward: false });
    expect(config.cache.maxTtl).toBe(300);
    expect(config.upstreams).toEqual(['udp://127.0.0.1:1', 'tcp://127.0.0.1:2']);
    expect(config.http.listen).toBe('127.0.0.1:9001');
  });

  it('names an unknown key', () => {
    const path = file('unknown.json', JSON.stringify({ cache: { maxTTL: 5 } }));
    expect(() => loadConfig({ configFile: path, env: {}, resolvConf: noResolv })).toThrow(/cache: unknown key\(s\) "maxTTL"/);
  });

  it('names a bad value', () => {
    expect(() => loadConfig({ env: { DNSLINKD_DNS: 'localhost' }, resolvConf: noResolv })).toThrow(/dns\.listen: expected HOST:PORT/);
    expect(() => loadConfig({ env: { DNSLINKD_UPSTREAMS: 'ftp://x' }, resolvConf: noResolv })).toThrow(/upstreams\.0: expected udp:\/\//);
    expect(() => loadConfig({ env: { DNSLINKD_CACHE__MIN_TTL: '100', DNSLINKD_CACHE__MAX_TTL: '10' }, resolvConf: noResolv })).toThrow(
      /cache\.minTtl: minTtl must not exceed maxTtl/,
    );
    expect(() => loadConfig({ env: { DNSLINKD_BOGUS: '1' }, resolvConf: noResolv })).toThrow(/unknown key\(s\) "bogus"/);
  });

  it('reports unreadable and non-JSON config files with codes', () => {
    expect(() => loadConfig({ configFile: join(dir, 'nope.json'), env: {} })).toThrow(expect.objectContaining({ code: 'CONFIG_UNREADABLE' }));
    expect(() => loadConfig({ configFile: file('bad.json', '{'), env: {} })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('environment mapping', () => {
  it('maps DNSLINKD_A__B_C to a.bC and parses JSON values', () => {
    expect(envOverrides({ DNSLINKD_CACHE__SERVE_STALE: 'false', DNSLINKD_UPSTREAM_TIMEOUT_MS: '250', OTHER: 'x' })).toEqual({
      cache: { serveStale: false },
      upstreamTimeoutMs: 250,
    });
  });
  it('reads nameservers from resolv.conf and ignores other lines', () => {
    expect(resolvConfUpstreams(file('r2.conf', '# c\nnameserver 10.0.0.1\noptions ndots:2\nnameserver fe80::1%eth0\n'))).toEqual([
      'udp://10.0.0.1:53',
      'udp://[fe80::1]:53',
    ]);
  });
});

describe('the client deadline (cache.clientDeadlineMs, formerly clientDeadlineMs)', () => {
  const deadline = (options: Parameters<typeof loadConfig>[0]) => {
    const config = loadConfig({ resolvConf: noResolv, ...options });
    return cacheStageOptions(config.cache, config.clientDeadlineMs).clientDeadlineMs;
  };
  it('defaults to 1800 ms and is read from cache.clientDeadlineMs', () => {
    expect(deadline({ env: {} })).toBe(1_800);
    expect(deadline({ env: { DNSLINKD_CACHE__CLIENT_DEADLINE_MS: '900' } })).toBe(900);
  });
  it('still accepts the top-level name, from a file or the environment', () => {
    expect(deadline({ env: { DNSLINKD_CLIENT_DEADLINE_MS: '700' } })).toBe(700);
    expect(deadline({ env: {}, configFile: file('old.json', '{"clientDeadlineMs": 600}') })).toBe(600);
  });
  it('refuses both names at once, naming the key to keep', () => {
    expect(() => loadConfig({ env: { DNSLINKD_CLIENT_DEADLINE_MS: '700', DNSLINKD_CACHE__CLIENT_DEADLINE_MS: '900' }, resolvConf: noResolv })).toThrow(
      /clientDeadlineMs: set cache\.clientDeadlineMs only/,
    );
  });
});
