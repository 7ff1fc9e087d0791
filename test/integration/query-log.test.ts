// The query log (log.queries) and the log formats (log.format) of a real dnslinkd in front of nsd:
// one line per answered question on UDP, TCP, DoH (HTTP/1.1 and the h2c fast path), /v1/dnslink
// and /resolve, read back and checked field by field; sampling rates 1, 0 and 0.5 (400 questions
// from dig -f) switched by live reloads; nothing when off; pretty lines parsed; and the upstream
// failure lines naming the question and the system error (a closed port, a silent one).
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEntry, dig, digAt, findBinary, freePort, requireBinaries, requireBuild, runTool, startDnslinkd, startNsd, stopAll, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';
import { b64url, dohQuery, h2cRequest } from './support/http.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const PLAIN = zone.names.plain.name; // _dnslink.plain.dnslink.test
const BARE = PLAIN.replace(/^_dnslink\./, '');

type Fields = Record<string, unknown>;

/** The JSON lines of a log. */
function jsonLines(logs: string): Fields[] {
  return logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Fields);
}

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** A pretty line: `ISO-TIME LEVEL message key=value ...` (values JSON-quoted when they need it). */
function parsePretty(line: string): { time: string; level: string; msg: string; fields: Fields } | undefined {
  const head = /^(\S+) (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) +(.*)$/.exec(line);
  if (!head) return undefined;
  const rest = head[3]!;
  const field = /(?:^| )([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S+)/g;
  const fields: Fields = {};
  let msgEnd = rest.length;
  for (let m = field.exec(rest); m; m = field.exec(rest)) {
    if (msgEnd === rest.length) msgEnd = m.index;
    const raw = m[2]!;
    fields[m[1]!] = /^["{[]/.test(raw) || raw === 'true' || raw === 'false' || raw === 'null' || /^-?\d+(\.\d+)?$/.test(raw) ? JSON.parse(raw) : raw;
  }
  return { time: head[1]!, level: head[2]!, msg: rest.slice(0, msgEnd), fields };
}

const queryLines = (d: DnslinkdHandle) => jsonLines(d.logs()).filter((l) => l.msg === 'query');

async function reload(d: DnslinkdHandle, config: Record<string, unknown>): Promise<void> {
  writeFileSync(d.configFile, JSON.stringify({ localRecords: null, dataDir: d.dataDir, ...config }, null, 2));
  const r = await d.admin('POST', '/admin/v1/reload');
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

describe.skipIf(!ok)('query log and log formats', { timeout: 60_000 }, () => {
  let nsd: NsdHandle;
  let all: DnslinkdHandle;
  let sampled: DnslinkdHandle;
  let refused: DnslinkdHandle;
  let silent: DnslinkdHandle;
  let silentSocket: Socket;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-query-log-'));
    nsd = await startNsd();
    const closedPort = await freePort();
    silentSocket = createSocket('udp4');
    await new Promise<void>((resolve) => silentSocket.bind(0, '127.0.0.1', resolve)); // takes questions, never answers
    const upstreams = [`udp://127.0.0.1:${nsd.port}`];
    [all, sampled, refused, silent] = await Promise.all([
      startDnslinkd({ upstreams, config: { log: { queries: 'all', format: 'json' } } }),
      startDnslinkd({ upstreams, config: { log: { queries: 1 } } }),
      startDnslinkd({ upstreams: [`udp://127.0.0.1:${closedPort}`], config: { log: { format: 'pretty' } } }),
      startDnslinkd({ upstreams: [`udp://127.0.0.1:${silentSocket.address().port}`], config: { upstreamTimeoutMs: 300 } }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([all, sampled, refused, silent].map((d) => d?.stop()));
    silentSocket?.close();
    await nsd?.stop();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one line per answered question on every transport, each field as answered', async () => {
    const asked = Date.now();
    const miss = await digAt(all.dnsPort, PLAIN, 'TXT');
    expect(miss.parsed?.status).toBe('NOERROR');
    await waitFor('the UDP miss line', async () => queryLines(all).length === 1, 5_000);
    const hit = await digAt(all.dnsPort, PLAIN, 'TXT', ['+tcp']);
    expect(hit.parsed?.status).toBe('NOERROR');
    const post = await fetch(`http://127.0.0.1:${all.httpPort}/dns-query`, { method: 'POST', body: dohQuery(PLAIN), headers: { 'content-type': 'application/dns-message' } });
    expect(post.status).toBe(200);
    await post.arrayBuffer();
    const h2 = await h2cRequest(all.httpPort, `/dns-query?dns=${b64url(dohQuery(PLAIN))}`);
    expect(h2.status).toBe(200);
    const api = await fetch(`http://127.0.0.1:${all.httpPort}/v1/dnslink/${BARE}`);
    expect(api.status).toBe(200);
    await api.arrayBuffer();
    const json = await fetch(`http://127.0.0.1:${all.httpPort}/resolve?name=nothing-here.dnslink.test&type=TXT`);
    expect(((await json.json()) as { Status: number }).Status).toBe(3);
    await waitFor('six query lines', async () => queryLines(all).length >= 6, 5_000);

    const lines = queryLines(all);
    expect(lines).toHaveLength(6);
    for (const line of lines) {
      expect(line.level).toBe(30);
      expect(line.time as number).toBeGreaterThanOrEqual(asked);
      expect(line.client).toBe('127.0.0.1');
      expect(typeof line.ms).toBe('number');
      expect(line.ms as number).toBeGreaterThanOrEqual(0);
      expect(line.ms as number).toBeLessThan(5_000);
    }
    const pick = (l: Fields) => ({ transport: l.transport, name: l.name, type: l.type, rcode: l.rcode, source: l.source, cached: l.cached, stale: l.stale, ede: l.ede });
    expect(lines.map(pick)).toEqual([
      { transport: 'udp', name: PLAIN, type: 'TXT', rcode: 'NOERROR', source: 'upstream', cached: false, stale: false, ede: undefined },
      { transport: 'tcp', name: PLAIN, type: 'TXT', rcode: 'NOERROR', source: 'upstream', cached: true, stale: false, ede: undefined },
      { transport: 'doh', name: PLAIN, type: 'TXT', rcode: 'NOERROR', source: 'upstream', cached: true, stale: false, ede: undefined },
      { transport: 'doh', name: PLAIN, type: 'TXT', rcode: 'NOERROR', source: 'upstream', cached: true, stale: false, ede: undefined },
      // The API reports its result's source as /v1/dnslink does: where the value comes from (dns),
      // on a hit as on a miss, with cached beside it.
      { transport: 'api', name: BARE, type: 'TXT', rcode: 'NOERROR', source: 'dns', cached: true, stale: false, ede: undefined },
      { transport: 'json', name: 'nothing-here.dnslink.test', type: 'TXT', rcode: 'NXDOMAIN', source: 'upstream', cached: false, stale: false, ede: undefined },
    ]);
  });

  it('honours sampling rates 1, 0 and 0.5, switched by live reloads', async () => {
    const file = join(dir, 'queries.txt');
    const batch = (n: number) => {
      writeFileSync(file, Array.from({ length: n }, () => `${PLAIN} TXT`).join('\n') + '\n');
      return dig(['-p', String(sampled.dnsPort), '@127.0.0.1', '+tries=1', '+time=2', '+short', '-f', file], { timeoutMs: 30_000 });
    };
    await batch(40);
    await waitFor('40 lines at rate 1', async () => queryLines(sampled).length >= 40, 5_000);
    expect(queryLines(sampled)).toHaveLength(40);

    await reload(sampled, { log: { queries: 0 } });
    await batch(40);
    await digAt(sampled.dnsPort, PLAIN, 'TXT');
    await new Promise((r) => setTimeout(r, 300));
    expect(queryLines(sampled)).toHaveLength(40);

    await reload(sampled, { log: { queries: 0.5 } });
    const answered = await batch(400);
    expect(answered.code).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    const logged = queryLines(sampled).length - 40;
    // Binomial(400, 0.5): sd 10; 200 +- 50 is five of them.
    expect(logged).toBeGreaterThan(150);
    expect(logged).toBeLessThan(250);
  });

  it('writes no query line when off; pretty lines parse; a closed upstream port is named with the question and ECONNREFUSED', async () => {
    await digAt(refused.dnsPort, PLAIN, 'TXT');
    await digAt(refused.dnsPort, PLAIN, 'TXT', ['+tcp']);
    await (await fetch(`http://127.0.0.1:${refused.httpPort}/resolve?name=${PLAIN}&type=TXT`)).arrayBuffer();
    await (await fetch(`http://127.0.0.1:${refused.httpPort}/v1/dnslink/${BARE}`)).arrayBuffer();
    await waitFor('the upstream failure line', async () => /upstream attempt failed/.test(refused.logs()), 5_000);
    const lines = refused.logs().split('\n').filter((l) => l !== '');
    const parsed = lines.map((l) => ({ line: l, pretty: parsePretty(l) }));
    expect(parsed.filter((p) => !p.pretty).map((p) => p.line)).toEqual([]);
    for (const { pretty } of parsed) {
      expect(new Date(pretty!.time).toISOString()).toBe(pretty!.time);
      expect(LEVELS).toContain(pretty!.level);
    }
    expect(parsed.some((p) => p.pretty!.msg === 'query')).toBe(false);
    const listening = parsed.find((p) => p.pretty!.msg === 'dnslinkd listening')!.pretty!;
    expect(listening.level).toBe('INFO');
    expect(listening.fields.dns).toBe(`127.0.0.1:${refused.dnsPort}`);
    const failure = parsed.find((p) => p.pretty!.msg === 'upstream attempt failed')!.pretty!;
    expect(failure.level).toBe('WARN');
    expect(failure.fields).toMatchObject({ name: PLAIN, type: 'TXT', upstream: expect.stringMatching(/^udp:\/\/127\.0\.0\.1:\d+$/), code: 'UPSTREAM_NETWORK', errno: 'ECONNREFUSED', count: 1 });

    // Turned on (and JSON) by a reload: the next question has its line.
    await reload(refused, { log: { queries: 'all', format: 'json' } });
    await digAt(refused.dnsPort, `_dnslink.other.dnslink.test`, 'TXT');
    await waitFor('a JSON query line', async () => queryLines(refused).length === 1, 5_000);
    const [line] = queryLines(refused);
    expect(line).toMatchObject({ transport: 'udp', name: '_dnslink.other.dnslink.test', type: 'TXT', rcode: 'SERVFAIL', source: 'error', cached: false, stale: false, ede: { code: 22 } });
    expect((line!.ede as { text: string }).text).toMatch(/ECONNREFUSED/);
  });

  it.skipIf(!findBinary('script'))('pretty by default on a terminal (a pty from script), JSON otherwise', async () => {
    const closed = await freePort();
    const args = ['resolve', BARE, '--upstream', `udp://127.0.0.1:${closed}`, '--log-level', 'warn', '--no-local-records'];
    const quoted = [process.execPath, cliEntry, ...args].map((a) => `'${a}'`).join(' ');
    const onTerminal = await runTool('script', ['-qec', quoted, '/dev/null'], 20_000);
    const warn = onTerminal.stdout.split(/\r?\n/).map(parsePretty).find((p) => p?.msg === 'upstream attempt failed');
    expect(warn, onTerminal.stdout).toMatchObject({ level: 'WARN', fields: { name: PLAIN, type: 'TXT', code: 'UPSTREAM_NETWORK', errno: 'ECONNREFUSED' } });
    const piped = await runTool(process.execPath, [cliEntry, ...args], 20_000);
    expect(jsonLines(piped.stderr).find((l) => l.msg === 'upstream attempt failed')).toMatchObject({ level: 40, name: PLAIN, errno: 'ECONNREFUSED' });
  });

  it('names the question and ETIMEDOUT when an upstream stays silent', async () => {
    const r = await digAt(silent.dnsPort, PLAIN, 'TXT', ['+time=3']);
    expect(r.parsed?.status).toBe('SERVFAIL');
    await waitFor('the timeout line', async () => jsonLines(silent.logs()).some((l) => l.msg === 'upstream attempt failed'), 5_000);
    const failure = jsonLines(silent.logs()).find((l) => l.msg === 'upstream attempt failed')!;
    expect(failure).toMatchObject({ level: 40, name: PLAIN, type: 'TXT', upstream: `udp://127.0.0.1:${silentSocket.address().port}`, code: 'UPSTREAM_TIMEOUT', errno: 'ETIMEDOUT' });
    expect(queryLines(silent)).toEqual([]);
  });
});
