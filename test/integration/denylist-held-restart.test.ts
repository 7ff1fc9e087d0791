// A list whose newer versions the guard holds, one after another, restarted without its server:
// the version applied before must still be in force (the data dir keeps it, however many versions
// came after it), so a name every version blocks is still blocked. Real dnslinkd, nsd, dig, and a
// node:http server serving the list.
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, startDnslinkd, startNsd, stopAll, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const bare = (name: string) => name.replace(/^_dnslink\./, '');
const plain = bare(zone.names.plain.name);
/** Names with a DNSLink answer, asked before the wide versions come. */
const SERVED = ['hop1', 'hop2', 'hop3', 'two', 'multi', 'long', 'big', 'bare', 'loopA', 'loopB', 'none'] as const;

describe.skipIf(!ok)('a list restarted offline after two held versions (real dnslinkd, nsd, dig, HTTP list server)', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  let text = '';
  const server = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(text));
  let url = '';
  const dataDir = join(mkdtempSync(join(tmpdir(), 'denylist-held-')), 'data');
  const config = () => ({ denylist: { sources: [{ name: 'badbits', url, refreshIntervalMs: 1000, kind: 'blocked' }] } });
  const held = async () => ((await d.admin('GET', '/admin/v1/denylist')).body.lists as Array<{ name: string; held?: { version: string } }>).find((l) => l.name === 'badbits')?.held?.version;

  beforeAll(async () => {
    nsd = await startNsd();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/badbits.deny`;
    text = `/ipns/${plain}\n`;
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config: config() });
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await stopAll();
  });

  it('keeps blocking by the applied version after a restart without the server', async () => {
    await waitFor('v1 in force', async () => (await digAt(d.dnsPort, `_dnslink.${plain}`, 'TXT')).parsed?.ede?.code === 15, 8000);
    const v1 = ((await d.admin('GET', '/admin/v1/denylist')).body.lists as Array<{ name: string; version?: string }>).find((l) => l.name === 'badbits')?.version;
    expect(v1).toMatch(/^[0-9a-f]{64}$/);
    for (const key of SERVED) await digAt(d.dnsPort, zone.names[key]!.name, 'TXT');
    const wide = SERVED.map((key) => `/ipns/${bare(zone.names[key]!.name)}`);
    // v2 and then v3 would each block most served names: both held, v1 stays in force.
    text = `/ipns/${plain}\n${wide.join('\n')}\n`;
    await waitFor('v2 held', async () => (await held()) !== undefined, 8000);
    const v2 = await held();
    text = `# v3\n/ipns/${plain}\n${wide.join('\n')}\n`;
    await waitFor('v3 held', async () => ((await held()) ?? v2) !== v2, 8000);
    expect((await digAt(d.dnsPort, `_dnslink.${plain}`, 'TXT')).parsed?.ede?.code).toBe(15);

    await d.proc.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config: config() });
    const inForce = async () => ((await d.admin('GET', '/admin/v1/denylist')).body.lists as Array<{ name: string; version?: string }>).find((l) => l.name === 'badbits')?.version;
    await waitFor('a version of badbits in force', async () => (await inForce()) !== undefined, 8000);
    expect(await inForce()).toBe(v1);
    // The bare name, never asked before (no cached block answers for it).
    const answer = await digAt(d.dnsPort, plain, 'TXT');
    expect(answer.parsed?.answers).toEqual([]);
    expect(answer.parsed?.ede?.code).toBe(15);
    expect(answer.stdout).toContain(`(blocked by denylist badbits rule /ipns/${plain})`);
    // Still held, still applicable by deny accept.
    expect(await held()).toBeDefined();
  }, 45_000);
});
