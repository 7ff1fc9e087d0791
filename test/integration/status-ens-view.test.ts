// `dnslinkd status` with ENS pointed at a closed port (no chain needed: an unreachable RPC at start
// is a warning): the ens lines say DEGRADED and each endpoint's last error as its cause and message,
// the same as /admin/v1/status reports them, never as a JSON object.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, freePort, requireBinaries, requireBuild, runCli, startDnslinkd, stopAll } from './support/index.js';
import type { DnslinkdHandle } from './support/index.js';

const ok = requireBinaries('dig') && requireBuild();
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));

interface Endpoint {
  endpoint: string;
  state: string;
  lastError: { cause: string; message: string; at: string };
}

describe.skipIf(!ok)('dnslinkd status: ENS endpoints failing', { timeout: 60_000 }, () => {
  let d: DnslinkdHandle;
  let closedPort: number;

  beforeAll(async () => {
    closedPort = await freePort();
    d = await startDnslinkd({ upstreams: [], config: { ens: { rpc: [`http://127.0.0.1:${closedPort}`], rpcTimeoutMs: 500 }, cache: { prefetch: false } } });
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    await stopAll();
  });

  it('prints each endpoint as address, state and "last error CAUSE: message at TIME"', async () => {
    const r = await digAt(d.dnsPort, '_dnslink.closed.eth', 'TXT', ['+time=6']);
    expect(r.parsed?.status).toBe('SERVFAIL');
    const status = await d.admin('GET', '/admin/v1/status');
    expect(status.status).toBe(200);
    const [endpoint] = (status.body.ens as { endpoints: Endpoint[] }).endpoints;
    expect(endpoint).toMatchObject({ state: 'failing', lastError: { cause: 'ECONNREFUSED' } });

    const cli = await runCli(['status', '--admin', `127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir], 20_000, env);
    expect(cli.code, cli.stderr).toBe(0);
    const lines = cli.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('ens:'));
    expect(lines[at]).toBe('ens:        1 RPC endpoint, DEGRADED (every endpoint failing)');
    const e = endpoint!;
    expect(lines[at + 1]!.trim().split(/\s{2,}/)).toEqual([`#1 http://127.0.0.1:${closedPort}`, 'failing', `last error ${e.lastError.cause}: ${e.lastError.message} at ${e.lastError.at}`]);
  });
});
