// `dnslinkd serve` on an address it cannot use (a port another process holds, an address of no
// interface): one line on stderr naming the address, what it is for and the setting to change,
// exit 1, no stack trace on stdout; the same single line with --workers N.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireBinaries, requireBuild, runCli } from './support/index.js';
import type { CliResult } from './support/index.js';
import { makeSelfSignedCert, type SelfSigned } from './support/tls.js';

const ok = requireBinaries('openssl') && requireBuild();

/** Holds a loopback port the way another program would, until released. */
interface Held {
  port: number;
  release(): Promise<void>;
}

async function holdUdp(port: number): Promise<Held> {
  const socket: UdpSocket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve());
  });
  return { port, release: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

async function holdTcp(port: number): Promise<Held> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The run failed the way an operator should see it: exit 1, exactly one stderr line, no stack. */
function expectOneLine(r: CliResult, line: RegExp): void {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(line);
  expect(r.stdout).not.toMatch(/\n\s+at |"stack"|EADDRINUSE|EADDRNOTAVAIL/);
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(!ok)('an address dnslinkd cannot listen on', () => {
  const held: Held[] = [];
  let dir: string;
  let cert: SelfSigned;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-listen-'));
    cert = makeSelfSignedCert();
  });
  afterEach(async () => {
    await Promise.all(held.splice(0).map((h) => h.release()));
  });
  afterAll(() => {
    cert?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Its own admin port and data directory, so no run touches the defaults (8054, ~/.local/state).
  const own = () => ['--admin', '127.0.0.1:0', '--data-dir', join(dir, 'data')];
  const serve = (dns: number, http: number, extra: string[] = []) =>
    runCli(['serve', '--dns', `127.0.0.1:${dns}`, '--http', `127.0.0.1:${http}`, '--no-local-records', '--upstream', 'udp://127.0.0.1:9', ...own(), ...extra]);
  const inUse = (port: number, what: string, setting: string) =>
    new RegExp(`^dnslinkd: \\[ADDRESS_IN_USE\\] cannot listen on 127\\.0\\.0\\.1:${port} for ${esc(what)}.*: address already in use .*; choose another address with ${esc(setting)}$`);
  const DNS_SETTING = 'dns.listen (--dns, DNSLINKD_DNS)';
  const HTTP_SETTING = 'http.listen (--http, DNSLINKD_HTTP)';

  it('DNS port held over UDP', async () => {
    const dns = await freePort();
    held.push(await holdUdp(dns));
    expectOneLine(await serve(dns, await freePort()), inUse(dns, 'DNS over UDP', DNS_SETTING));
  });

  it('DNS port held over TCP only', async () => {
    const dns = await freePort();
    held.push(await holdTcp(dns));
    expectOneLine(await serve(dns, await freePort()), inUse(dns, 'DNS over TCP', DNS_SETTING));
  });

  it('HTTP port held', async () => {
    const http = await freePort();
    held.push(await holdTcp(http));
    expectOneLine(await serve(await freePort(), http), inUse(http, 'HTTP', HTTP_SETTING));
  });

  it('HTTPS port held (http.tls.listen)', async () => {
    const https = await freePort();
    held.push(await holdTcp(https));
    const config = join(dir, 'tls.json');
    writeFileSync(config, JSON.stringify({ http: { tls: { listen: `127.0.0.1:${https}`, cert: cert.cert, key: cert.key } } }));
    expectOneLine(await serve(await freePort(), await freePort(), ['--config', config]), inUse(https, 'HTTPS', 'http.tls.listen (DNSLINKD_HTTP__TLS__LISTEN)'));
  });

  it('an address no interface has', async () => {
    // An allow-list, so that the open-resolver guard (dns.allow) lets it reach the bind.
    const env = { ...process.env, DNSLINKD_DNS__ALLOW: '["192.0.2.0/24"]' };
    const r = await runCli(['serve', '--dns', '192.0.2.1:10053', '--http', `127.0.0.1:${await freePort()}`, '--no-local-records', '--upstream', 'udp://127.0.0.1:9', ...own()], 15_000, env);
    expectOneLine(r, /^dnslinkd: \[ADDRESS_NOT_AVAILABLE\] cannot listen on 192\.0\.2\.1:10053 for DNS over UDP: .*dns\.listen \(--dns/);
  });

  it('--workers 2: the same single line, not one per worker, no stack on stdout', { timeout: 60_000 }, async () => {
    const dns = await freePort();
    held.push(await holdUdp(dns));
    expectOneLine(await serve(dns, await freePort(), ['--workers', '2']), inUse(dns, 'DNS over UDP', DNS_SETTING));
    const tcpOnly = await freePort();
    held.push(await holdTcp(tcpOnly));
    expectOneLine(await serve(tcpOnly, await freePort(), ['--workers', '2']), inUse(tcpOnly, 'DNS over TCP', DNS_SETTING));
    const http = await freePort();
    held.push(await holdTcp(http));
    expectOneLine(await serve(await freePort(), http, ['--workers', '2']), inUse(http, 'HTTP', HTTP_SETTING));
  });
});
