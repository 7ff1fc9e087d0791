// Denylist sources against a real node:http server on 127.0.0.1 serving .deny files (conditional
// requests counted server-side, a version changed mid-test, the server gone, a restart offline
// loading from the data dir) and against files changed on disk.
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CompiledDenylist } from '../format/index.js';
import { DenylistSource, MAX_LIST_BYTES } from './index.js';

const V1 = 'version: 1\nname: test list\n---\n/ipns/phish-one.example\n';
const V2 = 'version: 1\nname: test list\n---\n/ipns/phish-one.example\n/ipns/phish-two.example\nnot a rule\n';

interface ListServer {
  url: string;
  requests: IncomingMessage[];
  body: string;
  etag: string;
  lastModified: string;
  status?: number;
  server: Server;
  close(): Promise<void>;
}

/** Serves `body` at /list.deny with an ETag and Last-Modified, answering 304 to a matching conditional request. */
async function listServer(body: string): Promise<ListServer> {
  const state: ListServer = {
    url: '',
    requests: [],
    body,
    etag: '"v1"',
    lastModified: new Date(Date.UTC(2026, 0, 1)).toUTCString(),
    server: undefined as unknown as Server,
    close: async () => {
      state.server.closeAllConnections();
      state.server.close();
      await once(state.server, 'close');
    },
  };
  state.server = createServer((req, res) => {
    state.requests.push(req);
    if (state.status !== undefined) {
      res.writeHead(state.status).end('no');
      return;
    }
    if (req.url === '/huge.deny') {
      res.writeHead(200, { 'content-length': String(MAX_LIST_BYTES + 1) });
      res.write('/ipns/x.example\n');
      return;
    }
    // If-None-Match decides when it is sent (RFC 9110 13.2.2), else If-Modified-Since
    const inm = req.headers['if-none-match'];
    if (inm !== undefined ? inm === state.etag : req.headers['if-modified-since'] === state.lastModified) {
      res.writeHead(304, { etag: state.etag, 'last-modified': state.lastModified }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', etag: state.etag, 'last-modified': state.lastModified }).end(state.body);
  });
  state.server.listen(0, '127.0.0.1');
  await once(state.server, 'listening');
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/list.deny`;
  return state;
}

function logCollector(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log: Logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

let dataDir: string;
let sources: DenylistSource[];
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'denylist-source-'));
  sources = [];
});
afterEach(async () => {
  for (const s of sources) await s.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function source(config: { url?: string; file?: string; refreshIntervalMs?: number }, log = logCollector().log): { source: DenylistSource; candidates: CompiledDenylist[] } {
  const s = new DenylistSource({ name: 'test', kind: 'blocked', refreshIntervalMs: 3_600_000, ...config }, { dataDir, log });
  const candidates: CompiledDenylist[] = [];
  s.onCandidate((list) => candidates.push(list));
  sources.push(s);
  return { source: s, candidates };
}

describe('DenylistSource: URLs', () => {
  it('fetches, then asks conditionally (ETag and Last-Modified): 304 keeps the version, a changed list is a new candidate', async () => {
    const server = await listServer(V1);
    try {
      const { source: s, candidates } = source({ url: server.url });
      await s.start();
      expect(candidates).toHaveLength(1);
      expect(candidates[0]!.matchName('phish-one.example')).toMatchObject({ list: 'test', line: 4 });
      expect(s.status()).toMatchObject({ name: 'test', kind: 'blocked', source: server.url, version: candidates[0]!.version, entries: 1, loadedFrom: 'network', unavailable: false, lastFetch: { result: 'ok' } });
      expect(server.requests[0]!.headers['if-none-match']).toBeUndefined();

      await s.refresh();
      expect(server.requests).toHaveLength(2);
      expect(server.requests[1]!.headers['if-none-match']).toBe('"v1"');
      expect(server.requests[1]!.headers['if-modified-since']).toBe(server.lastModified);
      expect(s.status().lastFetch).toMatchObject({ result: 'not-modified' });
      expect(candidates).toHaveLength(1);

      // the list changes on the server mid-test
      server.body = V2;
      server.etag = '"v2"';
      server.lastModified = new Date(Date.UTC(2026, 0, 2)).toUTCString();
      await s.refresh();
      expect(candidates).toHaveLength(2);
      expect(candidates[1]!.matchName('phish-two.example')).toMatchObject({ line: 5 });
      expect(s.status()).toMatchObject({ version: candidates[1]!.version, entries: 2, badLines: 1, lastFetch: { result: 'ok' } });
      await s.refresh();
      expect(server.requests[3]!.headers['if-none-match']).toBe('"v2"');
      expect(candidates).toHaveLength(2);
      // both versions kept in the data dir
      const meta = JSON.parse(readFileSync(join(dataDir, 'denylists', 'test.meta.json'), 'utf8'));
      expect(meta).toMatchObject({ source: server.url, version: candidates[1]!.version, previousVersion: candidates[0]!.version, etag: '"v2"' });
      expect(readFileSync(join(dataDir, 'denylists', 'test.deny'), 'utf8')).toBe(V2);
      expect(readFileSync(join(dataDir, 'denylists', 'test.previous.deny'), 'utf8')).toBe(V1);
    } finally {
      await server.close();
    }
  });

  it('keeps the last good version when the server errs, sends a bad list, or is gone', async () => {
    const server = await listServer(V1);
    const { log, lines } = logCollector();
    const { source: s, candidates } = source({ url: server.url }, log);
    await s.start();
    const good = candidates[0]!.version;
    server.status = 500;
    await s.refresh();
    expect(s.status()).toMatchObject({ version: good, lastFetch: { result: 'error', error: expect.stringContaining('HTTP 500') } });
    server.status = undefined;
    server.body = 'version: 9\n---\n/ipns/x.example\n';
    server.etag = '"v9"';
    await s.refresh();
    expect(s.status()).toMatchObject({ version: good, lastFetch: { result: 'error', error: expect.stringContaining('version "9"') } });
    await server.close();
    await s.refresh();
    expect(s.status()).toMatchObject({ version: good, unavailable: false, lastFetch: { result: 'error' } });
    expect(candidates).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'denylist read failed: the last good version stays in force')).toHaveLength(3);
  });

  it('a restart without network loads the kept version from the data dir (and the previous one on demand)', async () => {
    const server = await listServer(V1);
    const first = source({ url: server.url });
    await first.source.start();
    server.body = V2;
    server.etag = '"v2"';
    await first.source.refresh();
    const [v1, v2] = first.candidates.map((l) => l.version);
    await first.source.stop();
    await server.close();

    const { source: offline, candidates } = source({ url: server.url });
    await offline.start();
    expect(candidates).toHaveLength(1);
    expect(candidates[0]!.version).toBe(v2);
    expect(candidates[0]!.matchName('phish-two.example')).toMatchObject({ line: 5 });
    expect(offline.status()).toMatchObject({ version: v2, loadedFrom: 'data-dir', unavailable: false, lastFetch: { result: 'error' } });
    const previous = await offline.loadKept(v1!);
    expect(previous?.version).toBe(v1);
    expect(previous?.matchName('phish-two.example')).toBeUndefined();
    expect(previous?.matchName('phish-one.example')).toBeDefined();
    expect(await offline.loadKept('0'.repeat(64))).toBeUndefined();
  });

  it('a list that cannot be read at all: start() resolves and status() says unavailable', async () => {
    const server = await listServer(V1);
    await server.close();
    const { source: s, candidates } = source({ url: server.url });
    await s.start();
    expect(candidates).toHaveLength(0);
    expect(s.status()).toMatchObject({ unavailable: true, lastFetch: { result: 'error' } });
    expect(s.status().version).toBeUndefined();
  });

  it('refuses a body larger than the limit', async () => {
    const server = await listServer(V1);
    try {
      const { source: s, candidates } = source({ url: server.url.replace('list.deny', 'huge.deny') });
      await s.start();
      expect(candidates).toHaveLength(0);
      expect(s.status()).toMatchObject({ unavailable: true, lastFetch: { result: 'error', error: expect.stringContaining(`more than ${MAX_LIST_BYTES}`) } });
    } finally {
      await server.close();
    }
  });

  it('rejects a config with no source, both sources, or a name unfit for a file name', () => {
    const deps = { dataDir, log: logCollector().log };
    expect(() => new DenylistSource({ name: 'x', kind: 'blocked', refreshIntervalMs: 1000 }, deps)).toThrow(/exactly one of url and file/);
    expect(() => new DenylistSource({ name: 'x', url: 'http://a', file: '/x', kind: 'blocked', refreshIntervalMs: 1000 }, deps)).toThrow(/exactly one/);
    expect(() => new DenylistSource({ name: '../x', file: '/x', kind: 'blocked', refreshIntervalMs: 1000 }, deps)).toThrow(/name/);
    expect(() => new DenylistSource({ name: 'x', url: 'ftp://a', kind: 'blocked', refreshIntervalMs: 1000 }, deps)).toThrow(/http/);
  });
});

describe('DenylistSource: files', () => {
  async function until(check: () => boolean, ms = 8000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('reads the file, re-reads it when it changes on disk (watched) and on refresh(), keeps the last good when it goes', async () => {
    const file = join(dataDir, 'local.deny');
    writeFileSync(file, V1);
    const { log, lines } = logCollector();
    const { source: s, candidates } = source({ file }, log);
    await s.start();
    expect(candidates).toHaveLength(1);
    expect(s.status()).toMatchObject({ source: file, loadedFrom: 'file', entries: 1, lastFetch: { result: 'ok' } });
    await s.refresh();
    expect(s.status().lastFetch).toMatchObject({ result: 'not-modified' });
    expect(candidates).toHaveLength(1);

    writeFileSync(file, V2); // the watcher sees it
    await until(() => candidates.length === 2);
    expect(candidates[1]!.matchName('phish-two.example')).toBeDefined();
    expect(lines.find((l) => l.msg === 'denylist line skipped')).toMatchObject({ list: 'test', line: 6 });

    rmSync(file);
    await s.refresh();
    expect(s.status()).toMatchObject({ version: candidates[1]!.version, lastFetch: { result: 'error', error: expect.stringContaining('does not exist') } });
    writeFileSync(file, `${V1}/ipns/three.example\n`);
    await s.refresh();
    expect(candidates.at(-1)!.matchName('three.example')).toBeDefined();
  });

  it('re-reads on the refresh interval when no change event comes (the watch fallback)', async () => {
    const file = join(dataDir, 'interval.deny');
    writeFileSync(file, V1);
    const { source: s, candidates } = source({ file, refreshIntervalMs: 1000 });
    await s.start();
    // stop the watcher: only the interval is left
    (s as unknown as { watcher?: { close(): void } }).watcher?.close();
    writeFileSync(file, V2);
    await until(() => candidates.length === 2, 5000);
    expect(existsSync(join(dataDir, 'denylists', 'test.deny'))).toBe(true);
  });
});
