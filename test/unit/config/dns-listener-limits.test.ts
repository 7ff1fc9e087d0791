// The DNS listeners' limits against hostile clients: their defaults, and a bad value named by its key.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

const noResolv = join(tmpdir(), 'dnslinkd-no-such-resolv.conf');

describe('DNS listener limits', () => {
  it('default to a 4 MiB UDP receive buffer, a 5 s TCP query bound and 32 TCP connections per client', () => {
    const { dns } = loadConfig({ env: {}, resolvConf: noResolv });
    expect(dns).toMatchObject({ recvBufferSize: 4 * 1024 * 1024, tcpQueryTimeoutMs: 5000, tcpMaxConnectionsPerClient: 32 });
    expect(dns.tcpQueryTimeoutMs).toBeLessThanOrEqual(10_000); // RFC 7766's advice, issue 10's bound
  });

  it('are read from the environment and name the key of a bad value', () => {
    const env = { DNSLINKD_DNS__RECV_BUFFER_SIZE: '262144', DNSLINKD_DNS__TCP_QUERY_TIMEOUT_MS: '800', DNSLINKD_DNS__TCP_MAX_CONNECTIONS_PER_CLIENT: '4' };
    expect(loadConfig({ env, resolvConf: noResolv }).dns).toMatchObject({ recvBufferSize: 262_144, tcpQueryTimeoutMs: 800, tcpMaxConnectionsPerClient: 4 });
    expect(() => loadConfig({ env: { DNSLINKD_DNS__RECV_BUFFER_SIZE: '100' }, resolvConf: noResolv })).toThrow(/DNSLINKD_DNS__RECV_BUFFER_SIZE=100: dns\.recvBufferSize: /);
    expect(() => loadConfig({ env: { DNSLINKD_DNS__TCP_MAX_CONNECTIONS_PER_CLIENT: '0' }, resolvConf: noResolv })).toThrow(/DNSLINKD_DNS__TCP_MAX_CONNECTIONS_PER_CLIENT=0: dns\.tcpMaxConnectionsPerClient: /);
  });
});
