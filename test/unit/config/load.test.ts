// Configuration loading: defaults, file < environment < flags, and start-time errors that name
// the bad key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envOverrides, envVariableFor, envVariableNames, loadConfig } from '../../../src/config/load.js';
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

/** The problem lines of the CONFIG_INVALID error loadConfig throws (fails the test when it does not throw). */
function problems(options: Parameters<typeof loadConfig>[0]): string[] {
  try {
    loadConfig(options);
  } catch (err) {
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    const [head, ...lines] = (err as Error).message.split('\n');
    expect(head).toMatch(/^invalid configuration \(from /);
    return lines.map((l) => l.replace(/^  /, ''));
  }
  throw new Error('loadConfig did not throw');
}

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
    expect(() => loadConfig({ env: { DNSLINKD_BOGUS: '1' }, resolvConf: noResolv })).toThrow(/DNSLINKD_BOGUS: no such setting; did you mean DNSLINKD_\w+\?/);
  });

  it('names a bad value of a file or a flag by its dotted key, once', () => {
    const path = file('bad-listen.json', JSON.stringify({ dns: { listen: 'localhost' } }));
    expect(problems({ configFile: path, env: {}, resolvConf: noResolv })).toEqual(['dns.listen: expected HOST:PORT, e.g. 127.0.0.1:10053 or [::1]:10053']);
    expect(problems({ env: {}, flags: { http: { listen: 'x:99999' } }, resolvConf: noResolv })).toEqual(['http.listen: port must be 0-65535']);
  });

  it('has the HTTP client limits, and refuses a header timeout longer than the request timeout by its key', () => {
    const config = loadConfig({ env: { DNSLINKD_HTTP__MAX_CONNECTIONS_PER_CLIENT: '16' }, resolvConf: noResolv });
    expect(config.http).toMatchObject({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 30_000,
      maxConnectionsPerClient: 16,
      h2MaxConcurrentStreams: 100,
      h2MaxHeaderListSize: 16_384,
    });
    const path = file('http-timeouts.json', JSON.stringify({ http: { headersTimeoutMs: 5000, requestTimeoutMs: 2000 } }));
    expect(problems({ configFile: path, env: {}, resolvConf: noResolv })).toEqual([
      'http.headersTimeoutMs: 5000 is longer than http.requestTimeoutMs (2000): the headers are part of the request',
    ]);
    expect(problems({ env: { DNSLINKD_HTTP__H2_MAX_CONCURRENT_STREAMS: '0' }, resolvConf: noResolv })[0]).toMatch(/^DNSLINKD_HTTP__H2_MAX_CONCURRENT_STREAMS=0: http\.h2MaxConcurrentStreams: /);
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

describe('DNSLINKD_* variables: two forms, and errors named as the variable', () => {
  const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, resolvConf: noResolv });

  it('accepts the compact form (levels joined by _, keys upper-cased) next to the documented one', () => {
    const compact = load({ DNSLINKD_CACHE_MAXTTL: '300', DNSLINKD_UPSTREAMTIMEOUTMS: '250', DNSLINKD_DNS_UDPPAYLOADSIZE: '1400', DNSLINKD_LOGLEVEL: 'warn' });
    expect(compact.cache.maxTtl).toBe(300);
    expect(compact.upstreamTimeoutMs).toBe(250);
    expect(compact.dns.udpPayloadSize).toBe(1400);
    expect(compact.logLevel).toBe('warn');
    const documented = load({ DNSLINKD_CACHE__MAX_TTL: '300', DNSLINKD_UPSTREAM_TIMEOUT_MS: '250', DNSLINKD_DNS__UDP_PAYLOAD_SIZE: '1400', DNSLINKD_LOG_LEVEL: 'warn' });
    expect(documented).toEqual(compact);
  });

  it('gives every setting of the schema both names, http.tls keys included', () => {
    const names = new Map(envVariableNames().map((s) => [s.path, s.names]));
    expect(names.get('cache.maxTtl')).toEqual(expect.arrayContaining(['DNSLINKD_CACHE__MAX_TTL', 'DNSLINKD_CACHE_MAXTTL']));
    expect(names.get('http.tls.cert')).toEqual(expect.arrayContaining(['DNSLINKD_HTTP__TLS__CERT', 'DNSLINKD_HTTP_TLS_CERT']));
    expect(names.get('dns.listen')).toEqual(expect.arrayContaining(['DNSLINKD_DNS__LISTEN', 'DNSLINKD_DNS_LISTEN', 'DNSLINKD_DNS']));
    expect(names.get('upstreams')).toEqual(['DNSLINKD_UPSTREAMS']);
    const leaves = envVariableNames().filter((s) => s.leaf);
    expect(leaves.length).toBeGreaterThanOrEqual(30);
    for (const s of leaves) expect(s.names.length, s.path).toBeGreaterThanOrEqual(1);
    const tls = load({ DNSLINKD_HTTP_TLS_CERT: '/c.pem', DNSLINKD_HTTP__TLS__KEY: '/k.pem', DNSLINKD_HTTP_TLS_LISTEN: '127.0.0.1:8443' }).http.tls;
    expect(tls).toEqual({ cert: '/c.pem', key: '/k.pem', listen: '127.0.0.1:8443' });
  });

  it('still takes an object as JSON, and the aliases', () => {
    const config = load({ DNSLINKD_HTTP__TLS: '{"cert":"/c.pem","key":"/k.pem"}', DNSLINKD_DNS: '127.0.0.1:1053', DNSLINKD_FORWARD: 'false' });
    expect(config.http.tls).toMatchObject({ cert: '/c.pem', key: '/k.pem' });
    expect(config.dns).toMatchObject({ listen: '127.0.0.1:1053', forward: false });
  });

  it('names a variable that matches no setting, with the closest valid name (compact first on a tie)', () => {
    expect(problems({ env: { DNSLINKD_CACHE_MAX_TTL: '300' }, resolvConf: noResolv })).toEqual([
      'DNSLINKD_CACHE_MAX_TTL: no such setting; did you mean DNSLINKD_CACHE_MAXTTL (or DNSLINKD_CACHE__MAX_TTL)?',
    ]);
    expect(problems({ env: { DNSLINKD_CACHE__MAX_TT: '300' }, resolvConf: noResolv })).toEqual([
      'DNSLINKD_CACHE__MAX_TT: no such setting; did you mean DNSLINKD_CACHE__MAX_TTL?',
    ]);
    expect(problems({ env: { DNSLINKD_UPSTREAM_TIMEOUTMS: '5' }, resolvConf: noResolv })).toEqual([
      'DNSLINKD_UPSTREAM_TIMEOUTMS: no such setting; did you mean DNSLINKD_UPSTREAMTIMEOUTMS (or DNSLINKD_UPSTREAM_TIMEOUT_MS)?',
    ]);
    expect(problems({ env: { DNSLINKD_HTTP_TLS_CRT: '/c.pem' }, resolvConf: noResolv })).toEqual([
      'DNSLINKD_HTTP_TLS_CRT: no such setting; did you mean DNSLINKD_HTTP_TLS_CERT?',
    ]);
  });

  it('names a bad value given by a variable as that variable, one line per variable', () => {
    expect(problems({ env: { DNSLINKD_CACHE__MAX_TTL: 'abc' }, resolvConf: noResolv })).toEqual([
      'DNSLINKD_CACHE__MAX_TTL=abc: cache.maxTtl: Invalid input: expected number, received string',
    ]);
    expect(problems({ env: { DNSLINKD_CACHE_MAXTTL: '-1' }, resolvConf: noResolv })).toEqual([
      expect.stringMatching(/^DNSLINKD_CACHE_MAXTTL=-1: cache\.maxTtl: Too small: .*>=0$/),
    ]);
    expect(problems({ env: { DNSLINKD_DNS: 'localhost' }, resolvConf: noResolv })).toEqual([
      'DNSLINKD_DNS=localhost: dns.listen: expected HOST:PORT, e.g. 127.0.0.1:10053 or [::1]:10053',
    ]);
    expect(problems({ env: { DNSLINKD_HTTP__TLS: '{"cert": 1, "bogus": 2}' }, resolvConf: noResolv })).toEqual([
      expect.stringMatching(/^DNSLINKD_HTTP__TLS="\{\\"cert\\": 1, \\"bogus\\": 2\}": http\.tls\.cert: .*; http\.tls: unknown key\(s\) "bogus"$/),
    ]);
  });

  it('reports every bad variable and value at once, each on exactly one line', () => {
    const lines = problems({
      env: { DNSLINKD_BOGUS: '1', DNSLINKD_CACHE_MAX_TTL: '1', DNSLINKD_UPSTREAMTIMEOUTMS: 'soon', DNSLINKD_DNS__LISTEN: 'nowhere', DNSLINKD_CONFIG: '' },
      flags: { http: { listen: 'x' } },
      resolvConf: noResolv,
    });
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^DNSLINKD_BOGUS: no such setting; did you mean /);
    expect(lines[1]).toMatch(/^DNSLINKD_CACHE_MAX_TTL: no such setting; did you mean /);
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^DNSLINKD_UPSTREAMTIMEOUTMS=soon: upstreamTimeoutMs: /),
      expect.stringMatching(/^DNSLINKD_DNS__LISTEN=nowhere: dns\.listen: expected HOST:PORT/),
      expect.stringMatching(/^http\.listen: expected HOST:PORT/),
    ]));
  });

  it('names the flag, not the variable, when a flag replaced the value', () => {
    expect(problems({ env: { DNSLINKD_HTTP: '127.0.0.1:1' }, flags: { http: { listen: 'bad' } }, resolvConf: noResolv })).toEqual([
      'http.listen: expected HOST:PORT, e.g. 127.0.0.1:10053 or [::1]:10053',
    ]);
  });

  it('refuses two variables for one setting', () => {
    expect(problems({ env: { DNSLINKD_CACHE_MAXTTL: '1', DNSLINKD_CACHE__MAX_TTL: '2' }, resolvConf: noResolv })).toEqual([
      'DNSLINKD_CACHE__MAX_TTL: sets cache.maxTtl, which DNSLINKD_CACHE_MAXTTL sets too; keep one of them',
    ]);
  });

  it('ignores DNSLINKD_CONFIG as a setting and says which variable sets a key', () => {
    expect(load({ DNSLINKD_CONFIG: '' }).cache.maxTtl).toBe(86_400);
    expect(envVariableFor({ DNSLINKD_LOGLEVEL: 'info' }, 'logLevel')).toBe('DNSLINKD_LOGLEVEL');
    expect(envVariableFor({ DNSLINKD_LOG_LEVEL: 'info' }, 'logLevel')).toBe('DNSLINKD_LOG_LEVEL');
    expect(envVariableFor({ DNSLINKD_CONFIG: 'x.json' }, 'logLevel')).toBeUndefined();
  });
});

describe('control plane settings', () => {
  it('defaults the admin API to loopback and the data dir to a user directory', () => {
    const config = loadConfig({ env: { XDG_STATE_HOME: '/var/tmp/state' }, resolvConf: noResolv });
    expect(config.admin.listen).toBe('127.0.0.1:8054');
    expect(config.dataDir).toBe('/var/tmp/state/dnslinkd');
  });
  it('refuses an admin address off loopback without TLS or an explicit plaintext opt-in', () => {
    expect(() => loadConfig({ env: { DNSLINKD_ADMIN__LISTEN: '0.0.0.0:8054' }, resolvConf: noResolv })).toThrow(/admin\.listen: 0\.0\.0\.0:8054 is not a loopback address: .*admin\.tls .*admin\.allowPlaintext/);
    expect(loadConfig({ env: { DNSLINKD_ADMIN__LISTEN: '0.0.0.0:8054', DNSLINKD_ADMIN__ALLOW_PLAINTEXT: 'true' }, resolvConf: noResolv }).admin.allowPlaintext).toBe(true);
  });
  it('reads state.redis from DNSLINKD_REDIS_URL, and DNSLINKD_ADMIN_TOKEN is not a setting', () => {
    const config = loadConfig({ env: { DNSLINKD_REDIS_URL: 'redis://127.0.0.1:6379/0', DNSLINKD_ADMIN_TOKEN: 'whatever-it-is-123456' }, resolvConf: noResolv });
    expect(config.state.redis).toBe('redis://127.0.0.1:6379/0');
  });
});
