// ENS health with --workers 2: each worker has its own ENS client; /admin/v1/status on the primary
// asks every worker (IPC) and shows each one's endpoints, addresses without their API keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireBuild, startDnslinkd, stopAll, waitFor } from './support/index.js';
import type { DnslinkdHandle } from './support/index.js';

const ok = requireBuild();
const SECRET = 'k3y-s3cr3t';

interface EnsView {
  configured: number;
  failing: number;
  degraded: boolean;
  endpoints: Array<{ endpoint: string; state: string; lastError?: { cause: string } }>;
}

describe.skipIf(!ok)('ENS health with --workers 2', () => {
  let d: DnslinkdHandle;
  let closedPort: number;
  beforeAll(async () => {
    closedPort = await freePort();
    d = await startDnslinkd({ upstreams: [], args: ['--workers', '2'], config: { ens: { rpc: [`http://127.0.0.1:${closedPort}/v3/${SECRET}`], rpcTimeoutMs: 500 } } });
    await waitFor('dnslinkd workers ready', async () => d.logs().includes('dnslinkd workers ready'), 60_000);
  }, 90_000);
  afterAll(async () => {
    await d?.stop();
    await stopAll();
  });

  it('/admin/v1/status (on the primary) shows each worker\'s endpoints', async () => {
    const status = await d.admin('GET', '/admin/v1/status');
    expect(status.status).toBe(200);
    const view = status.body.ens as EnsView & { workers: Array<EnsView & { worker: number }> };
    expect(view.workers.map((w) => w.worker).sort()).toEqual([1, 2]);
    // Each worker checked the chain at start: its one endpoint refused, so it is failing there.
    for (const w of view.workers) {
      expect(w).toMatchObject({ configured: 1, failing: 1, degraded: true });
      expect(w.endpoints).toEqual([expect.objectContaining({ endpoint: `#1 http://127.0.0.1:${closedPort}`, state: 'failing', lastError: expect.objectContaining({ cause: 'ECONNREFUSED' }) })]);
    }
    expect(view).toMatchObject({ configured: 1, degraded: true });
    expect(JSON.stringify(status.body)).not.toContain(SECRET);
  });
});
