// Where the admin commands find the admin API and their token, and what they print about a name,
// against a real dnslinkd in front of nsd: --admin as HOST:PORT or URL (serve's too), the token file
// of admin.tokens read from --config, the HTTP or DNS port given by mistake (NOT_ADMIN_API, exit 6), and
// the current-answer line of override set/rm resolved as a query would be (upstream, local record);
// with --workers 2 too (a worker is asked); and the admin listener's own description:
// /admin/openapi.json, and its header on every answer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireBinaries, requireBuild, runCli, startDnslinkd, startNsd, stopAll, zone } from './support/index.js';
import type { CliResult, DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd') && requireBuild();
const PLAIN = zone.names.plain.name.replace(/^_dnslink\./, '');
const PLAIN_VALUE = `/ipfs/${zone.names.plain.cid}`;
const VALUE = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const LOCAL = 'local.cli.test';
const LOCAL_VALUE = '/ipfs/bafkreibvfynyw7eashhw3z35kicod2sgi5aaivxmhj4zz7nxsg47uyg5km';
/** The environment without a token of the runner's: the CLI must find the instance's. */
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));

describe.skipIf(!ok)('admin commands: target, token and current answer', { timeout: 60_000 }, () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  let dir: string;
  let adminPort: number;
  let tokenFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-cli-target-'));
    tokenFile = join(dir, 'ops-token');
    writeFileSync(tokenFile, 'an-ops-token-of-the-config-file\n');
    const records = join(dir, 'records.json');
    writeFileSync(records, JSON.stringify([{ name: `_dnslink.${LOCAL}`, type: 'TXT', ttl: 60, data: `dnslink=${LOCAL_VALUE}` }]));
    nsd = await startNsd();
    adminPort = await freePort();
    // serve's --admin as a URL (the last --admin wins over the HOST:PORT the helper gives), and the
    // same address in the file the CLI reads with --config.
    d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${nsd.port}`],
      config: { localRecords: records, admin: { listen: `127.0.0.1:${adminPort}`, tokens: [{ label: 'ops', scope: 'write', file: tokenFile }] } },
      args: ['--admin', `http://127.0.0.1:${adminPort}`],
    });
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]): Promise<CliResult> => runCli(args, 30_000, env);
  const succeeds = (r: CliResult): CliResult => {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    return r;
  };

  it('--admin takes HOST:PORT or a URL (serve listened where its URL said)', async () => {
    const forms = [`127.0.0.1:${adminPort}`, `http://127.0.0.1:${adminPort}`, `http://127.0.0.1:${adminPort}/`];
    const results = await Promise.all(forms.map((admin) => cli(['override', 'ls', '--admin', admin, '--token-file', tokenFile])));
    for (const r of results) expect(succeeds(r).stdout).toBe('no overrides in force\n');
  });

  it('reads the token file of admin.tokens from --config, and admin.listen from it', async () => {
    const set = JSON.parse(succeeds(await cli(['override', 'set', 'token.example.org', VALUE, '--reason', 'token from the config', '--json', '--config', d.configFile])).stdout) as {
      after: { by: string };
    };
    expect(set.after.by).toBe('ops');
    succeeds(await cli(['override', 'rm', 'token.example.org', '--reason', 'done', '--config', d.configFile]));
  });

  it('the HTTP port given as --admin: "is not a dnslinkd admin API", exit 6', async () => {
    const [hostPort, url] = await Promise.all([
      cli(['override', 'ls', '--admin', `127.0.0.1:${d.httpPort}`, '--token-file', tokenFile]),
      cli(['flush', '--all', '--admin', `http://127.0.0.1:${d.httpPort}`, '--token-file', tokenFile]),
    ]);
    for (const [r, request] of [
      [hostPort, 'GET /admin/v1/overrides'],
      [url, 'POST /admin/v1/cache/flush'],
    ] as const) {
      expect(r.code, r.stderr).toBe(6);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `dnslinkd: [NOT_ADMIN_API] http://127.0.0.1:${d.httpPort} is not a dnslinkd admin API (it answered ${request} with 404 and no dnslinkd-admin-api header): give --admin the address of admin.listen (127.0.0.1:8054 by default), not the HTTP or DNS port\n`,
      );
    }
  });

  it('the DNS port, or a service that does not speak HTTP, given as --admin: "is not a dnslinkd admin API", exit 6', async () => {
    // A listener that answers every connection with a line that is not HTTP (an SSH banner).
    const banner = createServer((c) => c.end('SSH-2.0-OpenSSH_9.2\r\n'));
    await new Promise<void>((resolve) => banner.listen(0, '127.0.0.1', resolve));
    const bannerPort = (banner.address() as AddressInfo).port;
    try {
      const [dns, ssh] = await Promise.all([
        cli(['status', '--admin', `127.0.0.1:${d.dnsPort}`, '--token-file', tokenFile]),
        cli(['status', '--admin', `127.0.0.1:${bannerPort}`, '--token-file', tokenFile]),
      ]);
      for (const [r, port] of [
        [dns, d.dnsPort],
        [ssh, bannerPort],
      ] as const) {
        expect(r.code, r.stderr).toBe(6);
        expect(r.stdout).toBe('');
        expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
        expect(r.stderr).toMatch(new RegExp(`^dnslinkd: \\[NOT_ADMIN_API\\] http://127\\.0\\.0\\.1:${port} is not a dnslinkd admin API \\((it closed the connection without answering GET /admin/v1/status|its answer to GET /admin/v1/status is not HTTP); .+\\): give --admin the address of admin\\.listen`));
      }
    } finally {
      banner.close();
    }
  });

  const run = (args: string[]) => cli([...args, '--config', d.configFile]);
  const answerLine = (stdout: string) => stdout.split('\n').find((l) => l.startsWith('  answer:'));

  it('override set/rm print the answer a query gets from the upstream, nothing cached', async () => {
    succeeds(await run(['flush', '--all']));
    const dry = succeeds(await run(['override', 'set', PLAIN, VALUE, '--reason', 'incident', '--dry-run']));
    expect(answerLine(dry.stdout)).toBe(`  answer:  ${PLAIN_VALUE} -> ${VALUE}`);
    succeeds(await run(['override', 'set', PLAIN, VALUE, '--reason', 'incident']));
    // The override answers now, and the cache holds nothing of the name: the removal asks upstream.
    succeeds(await run(['flush', '--all']));
    const rm = succeeds(await run(['override', 'rm', PLAIN, '--reason', 'over', '--json']));
    expect((JSON.parse(rm.stdout) as { answers: unknown }).answers).toEqual({ before: VALUE, after: PLAIN_VALUE });
  });

  it('override set prints the answer of a local record; a name nobody knows is "(nothing known)"', async () => {
    const local = succeeds(await run(['override', 'set', LOCAL, VALUE, '--reason', 'local', '--dry-run']));
    expect(answerLine(local.stdout)).toBe(`  answer:  ${LOCAL_VALUE} -> ${VALUE}`);
    const unknown = succeeds(await run(['override', 'set', `missing.${PLAIN.split('.').slice(1).join('.')}`, VALUE, '--reason', 'none', '--dry-run']));
    expect(answerLine(unknown.stdout)).toBe(`  answer:  (nothing known) -> ${VALUE}`);
  });

  it('serves /admin/openapi.json without a token: a valid OpenAPI 3 document of the admin routes', async () => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/admin/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('dnslinkd-admin-api')).toBe('v1');
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { summary?: string; responses: Record<string, unknown> }>> };
    const result = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/admin/v1/cache/flush', '/admin/v1/cache/{name}', '/admin/v1/overrides', '/admin/v1/overrides/{name}', '/admin/v1/audit', '/admin/v1/status', '/admin/v1/reload']));
    expect(Object.keys(doc.paths['/admin/v1/overrides/{name}'] ?? {}).sort()).toEqual(['delete', 'get', 'put']);
    expect(Object.keys(doc.paths['/admin/v1/overrides/{name}']?.put?.responses ?? {})).toEqual(['200', '400', '401', '403', '409', '503']);
  });

  it('every answer of the admin listener carries dnslinkd-admin-api, refusals and unknown paths included; the HTTP port sends none', async () => {
    const token = { authorization: 'Bearer an-ops-token-of-the-config-file' };
    const answers = await Promise.all([
      fetch(`http://127.0.0.1:${adminPort}/admin/v1/status`),
      fetch(`http://127.0.0.1:${adminPort}/admin/v1/status`, { headers: token }),
      fetch(`http://127.0.0.1:${adminPort}/nothing-here`, { headers: token }),
      fetch(`http://127.0.0.1:${adminPort}/admin/v1/overrides/x.example.org`, { method: 'PUT', headers: { ...token, 'content-type': 'application/json' }, body: '{' }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([401, 200, 404, 400]);
    for (const r of answers) expect(r.headers.get('dnslinkd-admin-api')).toBe('v1');
    const http = await fetch(`http://127.0.0.1:${d.httpPort}/admin/v1/status`);
    expect(http.status).toBe(404);
    expect(http.headers.get('dnslinkd-admin-api')).toBeNull();
    await Promise.all([...answers, http].map((r) => r.arrayBuffer()));
  });
});

describe.skipIf(!ok)('the current answer with --workers 2: asked of a worker', { timeout: 60_000 }, () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  beforeAll(async () => {
    nsd = await startNsd();
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], args: ['--workers', '2'] });
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
  });

  it('a dry run and a removal report what the workers resolve, nothing cached', async () => {
    const path = `/admin/v1/overrides/${PLAIN}`;
    expect((await d.admin('POST', '/admin/v1/cache/flush', { all: true })).status).toBe(200);
    const dry = await d.admin('PUT', `${path}?dryRun=true`, { value: VALUE, reason: 'workers' });
    expect(dry.body).toMatchObject({ dryRun: true, answers: { before: PLAIN_VALUE, after: VALUE } });
    expect((await d.admin('PUT', path, { value: VALUE, reason: 'workers' })).status).toBe(200);
    expect((await d.admin('POST', '/admin/v1/cache/flush', { all: true })).status).toBe(200);
    const rm = await d.admin('DELETE', path, { reason: 'over' });
    expect(rm.body).toMatchObject({ dryRun: false, answers: { before: VALUE, after: PLAIN_VALUE } });
  });
});
