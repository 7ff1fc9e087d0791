// Every block of the docs marked `<!-- test: ID KIND -->` (README.md and docs/*.md), run or checked
// as printed against a running dnslinkd whose upstream is nsd serving `docs.ipfs.tech` (the name
// the snippets resolve) beside the fixture zone. The one substitution: the docs' dnslinkd URL ->
// this dnslinkd's. KIND: `node` (an ES module program in a scratch project, its output checked),
// `kubo-config` (Kubo JSON: DNS.Resolvers), `ipfs-config` (an `ipfs config` line run by bash with
// `ipfs` recording its arguments), `rainbow-env` (evaluated by bash), `dnslinkd-config` (validated
// by dnslinkd's own loader), `nginx` (its proxy_pass, locations and body size checked),
// `systemd-unit` (its ExecStart and ExecReload run against the checkout's dnslinkd, paths moved to
// temp ones; its other settings checked against what dnslinkd does). Also: every tagged block
// (```sh drill) is read by the test the inventory names, and every test file the docs cite exists.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtMain, cliEntry, exitedWith, freePort, repoRoot, requireBinaries, requireBuild, spawnManaged, startDnslinkd, startNsd, stopAll, waitFor, zone, zonesDir } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';
import { answerSummary, dohQuery } from './support/http.js';
import { blockTags, DOC_DNSLINKD_ORIGIN, docFiles, fences, markedSnippets, projectNode, readDoc, runNodeSnippet, runShellSnippet, strayMarkers, withDnslinkdOrigin } from './support/doc-snippets.js';
import type { MarkedSnippet } from './support/doc-snippets.js';

const ok = requireBinaries('nsd', 'bash') && requireBuild();

/** The name the docs' snippets resolve, served here by nsd (its value: a CID of the fixture zone). */
const DOCS_NAME = 'docs.ipfs.tech';
const DOCS_CID = zone.names.plain.cid;
const DOCS_TTL = 60;
const KINDS = ['node', 'kubo-config', 'ipfs-config', 'rainbow-env', 'dnslinkd-config', 'nginx', 'systemd-unit'] as const;
/** The tagged blocks of the docs (```sh TAG) and the test that runs them. */
const TAGGED: Record<string, Record<string, string>> = {
  'docs/runbook.md': {
    'sh drill': 'test/integration/runbook-drill.test.ts',
    'sh reload': 'test/integration/runbook-drill.test.ts',
    'sh drill-lock': 'test/integration/runbook-drill.test.ts',
    'sh drill-store': 'test/integration/runbook-drill.test.ts',
    'sh deny': 'test/integration/runbook-drill.test.ts',
    'sh store-reset': 'test/integration/runbook-store-reset.test.ts',
  },
  'docs/fleet.md': { 'sh fleet': 'test/integration/fleet-docs.test.ts', 'sh fleet-repair': 'test/integration/fleet-docs.test.ts' },
};
/** Pages that say every snippet on them is tested: every fenced block with a language must be marked. */
const EVERY_SNIPPET_TESTED = ['docs/gateways.md'];

const snippets: MarkedSnippet[] = docFiles().flatMap((doc) => markedSnippets(doc));
/** Every *.test.ts of the repository (test/ and src/). */
function testFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      if (entry.isDirectory()) walk(`${dir}/${entry.name}`);
      else if (entry.name.endsWith('.test.ts')) out.push(`${dir}/${entry.name}`);
    }
  };
  walk('test');
  walk('src');
  return out;
}
const label = (s: MarkedSnippet) => `${s.doc}:${s.line} ${s.id} (${s.kind})`;

/** What each program prints, checked against the zone nsd serves (not against the page's comments). */
const programChecks: Record<string, (stdout: string) => void> = {
  helia: (stdout) => {
    expect(stdout.trim().split('\n')).toEqual([`/ipfs/${DOCS_CID}`]);
  },
  'dnslink-js': (stdout) => {
    const out = JSON.parse(stdout.trim()) as { links: { ipfs?: { identifier: string; ttl: number }[] }; log: unknown[] };
    expect(out.links.ipfs?.map((l) => l.identifier)).toEqual([DOCS_CID]);
    expect(out.links.ipfs?.[0]?.ttl).toBeGreaterThan(0);
    expect(out.links.ipfs?.[0]?.ttl).toBeLessThanOrEqual(DOCS_TTL);
    expect(out.log).toEqual([]);
  },
};

describe('the docs mark their tested blocks in a form this runner knows', () => {
  it('every marker is `<!-- test: ID KIND -->` right before a fence, of a known kind, and the IDs are unique', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(7);
    for (const doc of docFiles()) expect(strayMarkers(doc), doc).toEqual([]);
    for (const s of snippets) expect(KINDS, label(s)).toContain(s.kind);
    const ids = snippets.map((s) => `${s.doc}#${s.id}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of snippets.filter((x) => x.kind === 'node')) expect(Object.keys(programChecks), `no output check for ${label(s)}`).toContain(s.id);
  });

  it('every tagged block (```sh TAG) is one a test reads, and every test file the docs cite exists', () => {
    for (const doc of docFiles()) {
      for (const tag of blockTags(doc)) {
        const test = TAGGED[doc]?.[tag];
        expect(test, `${doc}: no test runs its \`\`\`${tag} blocks`).toBeDefined();
        expect(readFileSync(join(repoRoot, test!), 'utf8')).toContain(`taggedBlocks('${doc}', '${tag.split(' ')[1]}')`);
      }
      const cited = [...readDoc(doc).matchAll(/`([\w./-]+\.test\.ts)`/g)].map((m) => m[1]!);
      for (const file of cited) {
        const found = file.includes('/') ? existsSync(join(repoRoot, file)) : testFiles().some((f) => f.endsWith(`/${file}`));
        expect(found, `${doc} cites ${file}`).toBe(true);
      }
    }
  });

  it.each(EVERY_SNIPPET_TESTED)('%s: every code block is marked (the page says every snippet is tested)', (doc) => {
    const unmarked = fences(readDoc(doc)).filter((f) => f.info !== '' && !/^<!--\s*test:/.test(f.before));
    expect(unmarked.map((f) => `${doc}:${f.line} ${f.info}`)).toEqual([]);
  });
});

describe.skipIf(!ok)('the docs\' marked blocks, run as printed against dnslinkd', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  let origin: string;
  let zoneDir: string;
  let loadConfig: (o: { configFile?: string; env?: NodeJS.ProcessEnv }) => { http: { listen: string; bodyLimit: number } };

  /** One DoH question (POST wire, as go-doh-resolver sends it) for the docs' name to `url`: its TXT values. */
  const askDoh = async (url: string) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
      body: dohQuery(`_dnslink.${DOCS_NAME}`),
      signal: AbortSignal.timeout(5000),
    });
    expect(res.status, url).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/dns-message');
    return answerSummary(Buffer.from(await res.arrayBuffer())).answers;
  };
  /** A suffix -> DoH URL map (Kubo's DNS.Resolvers, Rainbow's pairs): each suffix a DNS suffix, each URL the docs' dnslinkd, answering. */
  const checkResolvers = async (resolvers: Record<string, string>) => {
    expect(Object.keys(resolvers).length).toBeGreaterThan(0);
    for (const [suffix, url] of Object.entries(resolvers)) {
      expect(suffix, 'a suffix is "." or ends with "."').toMatch(/^(\.|([a-z0-9-]+\.)+)$/);
      expect(url.startsWith(`${DOC_DNSLINKD_ORIGIN}/dns-query`), url).toBe(true);
      expect(await askDoh(withDnslinkdOrigin(url, origin))).toEqual([`_dnslink.${DOCS_NAME} TXT dnslink=/ipfs/${DOCS_CID}`]);
    }
  };

  /**
   * A systemd unit: its ExecStart run (the install path moved to this checkout, the config and data
   * dir to temp ones) until dnslinkd serves; its ExecReload run by sh with MAINPID as systemd does,
   * and the reload logged; SIGTERM (systemctl stop) ends it with 0 within TimeoutStopSec, above the
   * drain it is given (shutdownGraceMs). StateDirectory is the data dir ExecStart names.
   */
  const checkSystemdUnit = async (unit: string) => {
    const sections = new Map<string, Map<string, string>>();
    let section = '';
    for (const line of unit.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
      const head = /^\[(\w+)\]$/.exec(line);
      if (head) sections.set((section = head[1]!), new Map());
      else sections.get(section)!.set(line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1));
    }
    const service = sections.get('Service')!;
    expect(service.get('Type')).toBe('exec');
    const [bin, ...args] = service.get('ExecStart')!.split(/\s+/);
    // The launcher `npm install` writes (scripts/install-launcher.mjs), in the unit's checkout.
    expect(bin).toMatch(/^\/\S+\/node_modules\/\.bin\/dnslinkd$/);
    expect(args[0]).toBe('serve');
    const flag = (name: string) => args[args.indexOf(name) + 1]!;
    expect(flag('--data-dir')).toBe(`/var/lib/${service.get('StateDirectory')}`);
    const graceMs = (loadConfig({ env: {} }) as unknown as { shutdownGraceMs: number }).shutdownGraceMs;
    expect(Number(service.get('TimeoutStopSec')) * 1000).toBeGreaterThan(graceMs);

    const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-unit-'));
    try {
      const config = join(dir, 'config.json');
      const ports = await Promise.all([freePort(), freePort(), freePort()]);
      writeFileSync(config, JSON.stringify({ dns: { listen: `127.0.0.1:${ports[0]}` }, http: { listen: `127.0.0.1:${ports[1]}` }, admin: { listen: `127.0.0.1:${ports[2]}` }, upstreams: [`udp://127.0.0.1:${nsd.port}`], localRecords: null }));
      const moved = args.map((a) => (a === flag('--config') ? config : a === flag('--data-dir') ? join(dir, 'state') : a));
      const proc = spawnManaged('dnslinkd (unit)', projectNode(), [cliEntry, ...moved], { cwd: dir });
      try {
        await waitFor('the unit\'s dnslinkd', async () => (await fetch(`http://127.0.0.1:${ports[1]}/livez`, { signal: AbortSignal.timeout(1000) })).ok, 20_000, { abortIf: exitedWith(proc) });
        const reload = await runShellSnippet(service.get('ExecReload')!, { cwd: dir, env: { MAINPID: String(proc.child.pid) } });
        expect(reload.code, reload.stderr).toBe(0);
        await waitFor('the reload by SIGHUP logged', async () => proc.output().includes('"by":"SIGHUP"'), 5_000);
        const stoppedAt = Date.now();
        process.kill(proc.child.pid!, 'SIGTERM');
        await proc.exited;
        expect(proc.exitCode).toBe(0);
        expect(Date.now() - stoppedAt).toBeLessThan(Number(service.get('TimeoutStopSec')) * 1000);
      } finally {
        await proc.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  beforeAll(async () => {
    zoneDir = mkdtempSync(join(tmpdir(), 'dnslinkd-docs-zone-'));
    const docsZone = join(zoneDir, 'ipfs.tech.zone');
    writeFileSync(
      docsZone,
      [
        '$ORIGIN ipfs.tech.',
        `$TTL ${DOCS_TTL}`,
        '@ 3600 IN SOA ns1.ipfs.tech. hostmaster.ipfs.tech. 1 3600 600 86400 30',
        '@ 3600 IN NS ns1.ipfs.tech.',
        'ns1 3600 IN A 127.0.0.1',
        `_dnslink.docs ${DOCS_TTL} IN TXT "dnslink=/ipfs/${DOCS_CID}"`,
        '',
      ].join('\n'),
    );
    nsd = await startNsd({ zones: [{ name: 'ipfs.tech', file: docsZone }, { name: zone.origin, file: join(zonesDir, `${zone.origin}.zone`) }] });
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`] });
    origin = `http://127.0.0.1:${d.httpPort}`;
    ({ loadConfig } = (await import(pathToFileURL(join(builtMain, '..', '..', 'config', 'load.js')).href)) as { loadConfig: typeof loadConfig });
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
    if (zoneDir) rmSync(zoneDir, { recursive: true, force: true });
  });

  for (const s of snippets) {
    it(label(s), async () => {
      switch (s.kind) {
        case 'node': {
          // Each package it imports is one the page tells the reader to install.
          const installed = [...readDoc(s.doc).matchAll(/`npm install ([^`]+)`/g)].flatMap((m) => m[1]!.split(/\s+/));
          for (const spec of [...s.code.matchAll(/^import .* from '([^']+)'/gm)].map((m) => m[1]!).filter((x) => !x.startsWith('node:'))) {
            const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
            expect(installed, `${label(s)} imports ${pkg}: the page names no \`npm install ${pkg}\``).toContain(pkg);
          }
          const r = await runNodeSnippet(withDnslinkdOrigin(s.code, origin));
          expect(r.code, `${label(s)} exited ${r.code}:\n${r.stderr}`).toBe(0);
          programChecks[s.id]!(r.stdout);
          return;
        }
        case 'kubo-config': {
          const config = JSON.parse(s.code) as { DNS?: { Resolvers?: Record<string, string> } };
          expect(Object.keys(config)).toEqual(['DNS']);
          await checkResolvers(config.DNS?.Resolvers ?? {});
          return;
        }
        case 'ipfs-config': {
          // bash reads the line as a shell would; `ipfs` only prints the arguments it was given.
          const r = await runShellSnippet(`ipfs() { printf '%s\\0' "$@"; }\n${s.code}`, { cwd: repoRoot });
          expect(r.code, r.stderr).toBe(0);
          const args = r.stdout.split('\0').slice(0, -1);
          expect(args.slice(0, 3)).toEqual(['config', '--json', 'DNS.Resolvers']);
          expect(args).toHaveLength(4);
          await checkResolvers(JSON.parse(args[3]!) as Record<string, string>);
          return;
        }
        case 'rainbow-env': {
          const r = await runShellSnippet(`${s.code}\nprintf '%s' "$RAINBOW_DNSLINK_RESOLVERS"`, { cwd: repoRoot });
          expect(r.code, r.stderr).toBe(0);
          const pairs = r.stdout.split(',').map((p) => [p.slice(0, p.indexOf(':')), p.slice(p.indexOf(':') + 1)] as const);
          await checkResolvers(Object.fromEntries(pairs));
          return;
        }
        case 'dnslinkd-config': {
          // dnslinkd's own loader: an unknown or misspelt key, a bad value, is refused naming it.
          const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-docs-config-'));
          try {
            const file = join(dir, 'dnslinkd.json');
            writeFileSync(file, s.code);
            expect(() => loadConfig({ configFile: file, env: {} }), label(s)).not.toThrow();
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
          return;
        }
        case 'nginx': {
          const defaults = loadConfig({ env: {} });
          // proxy_pass goes to dnslinkd's HTTP listener as configured by default.
          expect(/^\s*proxy_pass (\S+);/m.exec(s.code)?.[1]).toBe(`http://${defaults.http.listen}`);
          // The public routes reach dnslinkd; the monitoring ones do not.
          const location = /^\s*location ~ (\S+) \{/m.exec(s.code)?.[1];
          expect(location).toBeDefined();
          const routes = new RegExp(location!);
          for (const path of ['/dns-query', '/dns-query?dns=AAAB', '/resolve?name=docs.ipfs.tech&type=TXT', '/v1/dnslink/docs.ipfs.tech']) expect(routes.test(path), path).toBe(true);
          for (const path of ['/metrics', '/healthz', '/livez', '/openapi.json']) expect(routes.test(path), path).toBe(false);
          // A DoH POST as large as dnslinkd takes passes the proxy.
          const size = /^\s*client_max_body_size (\d+)([km]?);/m.exec(s.code);
          expect(size).not.toBeNull();
          expect(Number(size![1]) * ({ k: 1024, m: 1024 * 1024 }[size![2] as 'k' | 'm'] ?? 1)).toBeGreaterThanOrEqual(defaults.http.bodyLimit);
          return;
        }
        case 'systemd-unit': {
          await checkSystemdUnit(s.code);
          return;
        }
        default:
          throw new Error(`${label(s)}: no runner for kind ${s.kind}`);
      }
    });
  }
});
