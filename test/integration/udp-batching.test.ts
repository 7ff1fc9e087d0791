// dns.udpBatching: the batched UDP transport (native/udp-batch) chosen at start, falling back to
// node:dgram on a fault at run time (the same port keeps answering, logged, /metrics says so), an
// install without a compiler (the build script succeeds without building; `auto` serves on node:dgram,
// `on` refuses to start with a coded error), and IPv6.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createSocket } from 'node:dgram';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createResolverCore, type ResolverCore } from '../../src/core/resolver-core.js';
import { loadUdpBatchAddon } from '../../src/listeners/udp-batch-addon.js';
import { startUdpTransport, type UdpTransportListener } from '../../src/listeners/udp-transport.js';
import { cliEntry, encodeQuery, fetchMetrics, metricSum, parseHeader, repoRoot, requireBinaries, requireBuild, spawnManaged, startDnslinkd, udpExchange, waitFor } from './support/index.js';

const ok = requireBinaries('dig') && requireBuild();
const addon = loadUdpBatchAddon();
const LOCAL_RECORDS = join(repoRoot, 'fixtures', 'local-records.json');
const NAME = '_dnslink.demo.dnslinkd.example';
const BUILD_SCRIPT = join(repoRoot, 'native', 'udp-batch', 'build.mjs');

function logCollector(): { log: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const out: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) out.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines: () => out };
}

function localCore(log: pino.Logger, dataDir: string): ResolverCore {
  const config = loadConfig({ env: {}, flags: { upstreams: ['udp://127.0.0.1:9'], localRecords: LOCAL_RECORDS, dataDir } });
  return createResolverCore(config, log);
}

async function answered(port: number, id: number): Promise<boolean> {
  const reply = await udpExchange(port, encodeQuery(id, NAME, 'TXT'), 1000);
  return reply !== undefined && parseHeader(reply).id === id && parseHeader(reply).ancount === 1;
}

describe.skipIf(!ok || !addon.ok)('batched UDP: a fault at run time moves the listener to node:dgram', () => {
  let dataDir: string;
  let listener: UdpTransportListener | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'dnslinkd-udp-batch-'));
  });
  afterAll(async () => {
    await listener?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a recvmmsg error (EIO): logged once, the same port answers on node:dgram, dnslinkd_udp_path says node', async () => {
    const { log, lines } = logCollector();
    const core = localCore(log, join(dataDir, 'a'));
    listener = await startUdpTransport(core, '127.0.0.1', 0, { recvBufferSize: 1 << 20, batching: 'on' });
    const port = listener.address.port;
    expect(listener.path()).toBe('batched');
    expect(await answered(port, 1)).toBe(true);
    expect(metricSum(await core.metrics.registry.metrics(), 'dnslinkd_udp_path', { path: 'batched' })).toBe(1);

    listener.injectFault(5); // EIO on the next read
    await udpExchange(port, encodeQuery(2, NAME, 'TXT'), 300); // the datagram that meets the fault may be lost
    await listener.fallenBack();
    expect(listener.path()).toBe('node');
    await waitFor('answers on node:dgram', () => answered(port, 3), 5000);
    const text = await core.metrics.registry.metrics();
    expect(metricSum(text, 'dnslinkd_udp_path', { path: 'node' })).toBe(1);
    expect(metricSum(text, 'dnslinkd_udp_path', { path: 'batched' })).toBe(0);
    const faults = lines().filter((l) => l.code === 'EIO' && l.syscall === 'recvmmsg');
    expect(faults).toHaveLength(1);
    expect(faults[0]!.level).toBe(50);
    await listener.close();
    listener = undefined;
  });

  it('an exception out of a batch (a bug in JS): the process lives, the port answers on node:dgram', async () => {
    const { log, lines } = logCollector();
    const core = localCore(log, join(dataDir, 'b'));
    listener = await startUdpTransport(core, '127.0.0.1', 0, { recvBufferSize: 1 << 20, batching: 'on' });
    const port = listener.address.port;
    expect(await answered(port, 10)).toBe(true);
    // The wire handler gives something that is no Buffer and throws when its length is read: the batch
    // loop, outside the wire handler's own try/catch, throws out of the batch.
    const handle = core.wireHandler.handle.bind(core.wireHandler);
    const broken = {
      get length(): number {
        throw new Error('injected');
      },
    };
    core.wireHandler.handle = (() => broken) as unknown as typeof core.wireHandler.handle;
    await udpExchange(port, encodeQuery(11, NAME, 'TXT'), 300);
    core.wireHandler.handle = handle;
    await listener.fallenBack();
    expect(listener.path()).toBe('node');
    await waitFor('answers on node:dgram', () => answered(port, 12), 5000);
    expect(lines().filter((l) => l.code === 'EJSCALLBACK')).toHaveLength(1);
    await listener.close();
    listener = undefined;
  });
});

describe.skipIf(!ok)('batched UDP on an install without a C++ compiler', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-no-cc-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the build script succeeds without building, with one line, whether the compiler fails or is not on PATH', () => {
    for (const env of [
      { ...process.env, CXX: '/bin/false' },
      { PATH: join(dir, 'empty-bin'), HOME: dir },
    ]) {
      const out = join(dir, 'udp-batch.node');
      const run = spawnSync(process.execPath, [BUILD_SCRIPT, '--out', out], { env, encoding: 'utf8', timeout: 60_000 });
      expect(run.status).toBe(0);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
      expect(run.stdout).toMatch(/^dnslinkd: batched UDP addon not built, the node:dgram path will be used: /);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('with a compiler it builds an addon that loads (CI installs build-essential)', () => {
    const out = join(dir, 'built.node');
    const run = spawnSync(process.execPath, [BUILD_SCRIPT, '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/batched UDP addon built/);
    expect(existsSync(out)).toBe(true);
    expect(loadUdpBatchAddon({ DNSLINKD_UDP_BATCH_ADDON: out }).ok).toBe(true);
  });

  it('auto: dnslinkd starts on node:dgram, says so in its start log and /metrics, and answers', async () => {
    const d = await startDnslinkd({ upstreams: ['udp://127.0.0.1:9'], config: { localRecords: LOCAL_RECORDS, dns: { udpBatching: 'auto' } }, env: { DNSLINKD_UDP_BATCH_ADDON: join(dir, 'absent.node') } });
    try {
      expect(await answered(d.dnsPort, 20)).toBe(true);
      const listening = d.logs().split('\n').filter((l) => l.includes('"msg":"dnslinkd listening"'));
      expect(listening).toHaveLength(1);
      expect(JSON.parse(listening[0]!).udpPath).toBe('node');
      const text = await fetchMetrics(d.httpPort);
      expect(metricSum(text, 'dnslinkd_udp_path', { path: 'node' })).toBe(1);
      expect(metricSum(text, 'dnslinkd_udp_path', { path: 'batched' })).toBe(0);
    } finally {
      await d.stop();
    }
  });

  it('on: dnslinkd refuses to start with UDP_BATCHING_UNAVAILABLE naming dns.udpBatching', async () => {
    const data = join(dir, 'data-on');
    const proc = spawnManaged('dnslinkd', process.execPath, [cliEntry, 'serve', '--dns', '127.0.0.1:0', '--http', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--no-local-records', '--data-dir', data], {
      cwd: repoRoot,
      env: { ...process.env, DNSLINKD_UDP_BATCHING: 'on', DNSLINKD_UDP_BATCH_ADDON: join(dir, 'absent.node') },
    });
    await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 15_000))]);
    await proc.stop();
    expect(proc.exitCode).toBe(1);
    expect(proc.output()).toMatch(/UDP_BATCHING_UNAVAILABLE.*dns\.udpBatching is on/);
    expect(proc.output()).not.toMatch(/dnslinkd listening/);
  });
});

function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp6');
    s.once('error', () => resolve(false));
    s.bind(0, '::1', () => {
      s.close();
      resolve(true);
    });
  });
}

describe.skipIf(!ok || !addon.ok)('batched UDP over IPv6', () => {
  it('answers on [::1] from the batched path, with the client gate seeing the IPv6 address', async () => {
    if (!(await hasIpv6Loopback())) return expect.fail('no IPv6 loopback on this machine');
    const { log } = logCollector();
    const dataDir = mkdtempSync(join(tmpdir(), 'dnslinkd-udp6-'));
    const config = loadConfig({ env: {}, flags: { upstreams: ['udp://127.0.0.1:9'], localRecords: LOCAL_RECORDS, dataDir, dns: { allow: ['127.0.0.0/8'] } } });
    const core = createResolverCore(config, log);
    const listener = await startUdpTransport(core, '::1', 0, { recvBufferSize: 1 << 20, batching: 'on' });
    try {
      expect(listener.path()).toBe('batched');
      const ask = (id: number) =>
        new Promise<Buffer | undefined>((resolve) => {
          const s = createSocket('udp6');
          const timer = setTimeout(() => (s.close(), resolve(undefined)), 1000);
          s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(m)));
          s.send(encodeQuery(id, NAME, 'TXT'), listener.address.port, '::1');
        });
      // ::1 is outside dns.allow (127.0.0.0/8): REFUSED, so the gate saw the client as ::1.
      const refused = await ask(30);
      expect(refused && parseHeader(refused).rcode).toBe(5);
      core.clientGate.reconfigure({ ...config.dns, allow: ['::1/128'] });
      const reply = await ask(31);
      expect(reply && parseHeader(reply).ancount).toBe(1);
      expect(reply && parseHeader(reply).rcode).toBe(0);
    } finally {
      await listener.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!ok || !addon.ok)('batched UDP with --workers 2', () => {
  it('every worker reads the primary socket batched: answers, /metrics says batched, no deprecation warning', async () => {
    const d = await startDnslinkd({ upstreams: ['udp://127.0.0.1:9'], config: { localRecords: LOCAL_RECORDS }, args: ['--workers', '2'], env: { DNSLINKD_UDP_BATCHING: 'on' } });
    try {
      for (let id = 40; id < 60; id++) expect(await answered(d.dnsPort, id)).toBe(true);
      const text = await fetchMetrics(d.httpPort);
      expect(metricSum(text, 'dnslinkd_udp_path', { path: 'batched' })).toBe(1);
      expect(metricSum(text, 'dnslinkd_udp_path', { path: 'node' })).toBe(0);
      expect(d.logs()).not.toMatch(/DeprecationWarning|DEP0112/);
    } finally {
      await d.stop();
    }
  });
});
