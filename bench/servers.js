// Process helpers for the benchmark (plain Node ESM): nsd, Unbound, dnslinkd and a bare dgram
// server on 127.0.0.1, each in its own process group and always stopped.
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
export const zonesDir = join(repoRoot, 'fixtures', 'zones');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function findBinary(name) {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin']) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {}
  }
  return undefined;
}

export async function freePort() {
  for (let i = 0; i < 50; i++) {
    const tcp = createServer();
    await new Promise((res, rej) => {
      tcp.once('error', rej);
      tcp.listen(0, '127.0.0.1', res);
    });
    const { port } = tcp.address();
    const udp = createSocket('udp4');
    const ok = await new Promise((res) => {
      udp.once('error', () => res(false));
      udp.bind(port, '127.0.0.1', () => res(true));
    });
    if (ok) await new Promise((res) => udp.close(res));
    await new Promise((res) => tcp.close(res));
    if (ok) return port;
  }
  throw new Error('no free port');
}

const running = new Set();
process.once('exit', () => {
  for (const c of running) killGroup(c, 'SIGKILL');
});
function killGroup(child, sig) {
  try {
    process.kill(-child.pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {}
  }
}

export function spawnManaged(name, cmd, args, opts = {}) {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const push = (b) => {
    for (const l of b.toString().split('\n')) if (l) lines.push(l);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout.on('data', push);
  child.stderr.on('data', push);
  let exitCode;
  const exited = new Promise((res) => {
    child.on('exit', (code) => {
      exitCode = code;
      running.delete(child);
      res();
    });
    child.on('error', (err) => {
      lines.push(String(err));
      exitCode = null;
      running.delete(child);
      res();
    });
  });
  running.add(child);
  return {
    name,
    child,
    output: () => lines.join('\n'),
    exitCode: () => exitCode,
    async stop() {
      if (exitCode !== undefined) return;
      killGroup(child, 'SIGTERM');
      const t = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      killGroup(child, 'SIGKILL');
    },
  };
}

export function run(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** dig status (NOERROR, ...) or undefined when no answer. */
export async function digStatus(port, name, type) {
  const r = await run('dig', ['+tries=1', '+time=1', '@127.0.0.1', '-p', String(port), name, type], 5000);
  return /status: (\w+)/.exec(r.stdout)?.[1];
}

async function waitReady(what, proc, check, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    if (proc.exitCode() !== undefined) throw new Error(`${what} exited ${proc.exitCode()}:\n${proc.output()}`);
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  await proc.stop();
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${proc.output()}`);
}

export async function startNsd() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-bench-nsd-'));
  const zones = readdirSync(zonesDir).filter((f) => f.endsWith('.zone'));
  const conf = join(dir, 'nsd.conf');
  writeFileSync(
    conf,
    [
      'server:',
      `  ip-address: 127.0.0.1@${port}`,
      `  port: ${port}`,
      '  username: ""',
      '  chroot: ""',
      `  zonesdir: "${zonesDir}"`,
      '  database: ""',
      `  pidfile: "${join(dir, 'nsd.pid')}"`,
      `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
      `  xfrdir: "${dir}"`,
      `  zonelistfile: "${join(dir, 'zone.list')}"`,
      `  logfile: "${join(dir, 'nsd.log')}"`,
      '  server-count: 1',
      '  do-ip6: no',
      'remote-control:',
      '  control-enable: no',
      ...zones.flatMap((f) => ['zone:', `  name: "${basename(f, '.zone')}"`, `  zonefile: "${join(zonesDir, f)}"`]),
      '',
    ].join('\n'),
  );
  const proc = spawnManaged('nsd', findBinary('nsd') ?? 'nsd', ['-d', '-c', conf]);
  await waitReady('nsd', proc, async () => (await digStatus(port, 'dnslink.test', 'SOA')) === 'NOERROR');
  return { port, stop: async () => (await proc.stop(), rmSync(dir, { recursive: true, force: true })) };
}

/** Unbound with stub zones to nsd and/or local-data lines; 1 thread unless told. */
export async function startUnbound({ stubs = [], localData = [], threads = 1 } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-bench-unbound-'));
  const conf = join(dir, 'unbound.conf');
  writeFileSync(
    conf,
    [
      'server:',
      '  interface: 127.0.0.1',
      `  port: ${port}`,
      '  username: ""',
      '  chroot: ""',
      `  directory: "${dir}"`,
      `  pidfile: "${join(dir, 'unbound.pid')}"`,
      '  use-syslog: no',
      '  logfile: ""',
      '  verbosity: 0',
      `  num-threads: ${threads}`,
      '  do-ip6: no',
      '  do-daemonize: no',
      '  access-control: 127.0.0.0/8 allow',
      '  do-not-query-localhost: no',
      '  module-config: "iterator"',
      '  local-zone: "test." nodefault',
      '  local-zone: "unbound-probe.invalid." static',
      '  local-data: "unbound-probe.invalid. 60 IN A 127.0.0.1"',
      ...localData.map((d) => `  local-data: '${d}'`),
      'remote-control:',
      '  control-enable: no',
      ...stubs.flatMap((s) => ['stub-zone:', `  name: "${s.zone}"`, `  stub-addr: 127.0.0.1@${s.port}`]),
      '',
    ].join('\n'),
  );
  const proc = spawnManaged('unbound', findBinary('unbound') ?? 'unbound', ['-d', '-c', conf]);
  await waitReady('unbound', proc, async () => (await digStatus(port, 'unbound-probe.invalid.', 'A')) === 'NOERROR');
  return { port, stop: async () => (await proc.stop(), rmSync(dir, { recursive: true, force: true })) };
}

export async function startDnslinkd({ upstreams, config = {}, args = [] }) {
  const dnsPort = await freePort();
  const httpPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-bench-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ localRecords: null, ...config }));
  const proc = spawnManaged('dnslinkd', process.execPath, [
    join(repoRoot, 'bin', 'dnslinkd.js'),
    'serve',
    '--dns',
    `127.0.0.1:${dnsPort}`,
    '--http',
    `127.0.0.1:${httpPort}`,
    ...upstreams.flatMap((u) => ['--upstream', u]),
    '--config',
    configFile,
    ...args,
  ]);
  await waitReady('dnslinkd', proc, async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(1000) })).status === 200, 20000);
  return { port: dnsPort, httpPort, stop: async () => (await proc.stop(), rmSync(dir, { recursive: true, force: true })) };
}

/** A node:dgram server (child process) answering every query with one pre-encoded answer, ID patched. */
export async function startBareDgram(answer) {
  const port = await freePort();
  const proc = spawnManaged('bare-dgram', process.execPath, [join(repoRoot, 'bench', 'bare-dgram.js'), String(port), answer.toString('hex')]);
  await waitReady('bare-dgram', proc, async () => /listening/.test(proc.output()), 10000);
  return { port, stop: () => proc.stop() };
}

/** One raw UDP exchange (used to capture the exact answer bytes for the bare server). */
export function udpQuery(port, msg, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => (s.close(), reject(new Error('udpQuery timeout'))), timeoutMs);
    s.on('message', (m) => (clearTimeout(t), s.close(), resolve(m)));
    s.send(msg, port, '127.0.0.1');
  });
}

/** A plain query (RD=1, no EDNS), as dnsperf sends by default. */
export function encodeQuery(id, name, type) {
  const types = { A: 1, TXT: 16, AAAA: 28 };
  const parts = [Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of name.replace(/\.$/, '').split('.')) parts.push(Buffer.from([l.length]), Buffer.from(l));
  parts.push(Buffer.from([0, 0, types[type], 0, 1]));
  return Buffer.concat(parts);
}
