// The embedded control store survives what a machine does to it: a restart keeps the overrides
// and the audit log; kill -9 at any moment during a stream of writes (20 kills) leaves a readable
// store holding every change that was acknowledged; a corrupt store stops the start, saying so.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, runCli, sleep, startDnslinkd, stopAll, txtValue } from './support/index.js';

const ok = requireBinaries('dig') && requireBuild();
const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const KILLS = 20;

describe.skipIf(!ok)('embedded control store durability', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-store-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    await stopAll();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a restart keeps overrides and the audit log', async () => {
    const dir = dataDir();
    const first = await startDnslinkd({ upstreams: [], dataDir: dir });
    expect((await first.admin('PUT', '/admin/v1/overrides/kept.example', { value: `/ipfs/${CID}`, reason: 'before restart' })).status).toBe(200);
    await first.stop();
    const second = await startDnslinkd({ upstreams: [], dataDir: dir });
    const r = await digAt(second.dnsPort, '_dnslink.kept.example', 'TXT');
    expect(r.parsed?.answers.map((a) => txtValue(a.data))).toEqual([`dnslink=/ipfs/${CID}`]);
    const audit = await second.admin('GET', '/admin/v1/audit?name=kept.example');
    expect(audit.body.records).toEqual([expect.objectContaining({ action: 'override.set', reason: 'before restart' })]);
    expect(second.logs()).toMatch(/"overrides":1,.*"msg":"control store opened"/);
    await second.stop();
  });

  it(`kill -9 during writes, ${KILLS} times: every acknowledged change is there and the store reads`, async () => {
    const dir = dataDir();
    const acknowledged = new Map<string, string>();
    let sent = 0;
    for (let round = 0; round < KILLS; round++) {
      const d = await startDnslinkd({ upstreams: [], dataDir: dir });
      // Writes in a stream, several in flight; the kill lands at a moment that varies per round.
      const killAt = Date.now() + 40 + ((round * 37) % 160);
      const writers = Array.from({ length: 4 }, async (_, w) => {
        while (Date.now() < killAt + 200) {
          const name = `n${round}-${w}-${sent++}.example`;
          const value = `/ipfs/${CID}/${round}/${w}`;
          try {
            const res = await d.admin('PUT', `/admin/v1/overrides/${name}`, { value, reason: `round ${round}` });
            if (res.status === 200) acknowledged.set(name, value);
          } catch {
            return; // the process is gone: this write was not acknowledged
          }
        }
      });
      await sleep(Math.max(0, killAt - Date.now()));
      d.proc.child.kill('SIGKILL');
      await Promise.all(writers);
      await d.proc.exited;
      await d.stop();
    }
    expect(acknowledged.size).toBeGreaterThan(KILLS);
    const last = await startDnslinkd({ upstreams: [], dataDir: dir });
    const { status, body } = await last.admin('GET', '/admin/v1/overrides');
    expect(status).toBe(200);
    const stored = new Map((body.overrides as Array<{ name: string; value: string }>).map((o) => [o.name, o.value]));
    const missing = [...acknowledged].filter(([name, value]) => stored.get(name) !== value);
    expect(missing).toEqual([]);
    const audit = await last.admin('GET', '/admin/v1/audit?limit=1000');
    expect((audit.body.records as unknown[]).length).toBeGreaterThanOrEqual(acknowledged.size);
    console.log(`control store: ${KILLS} kill -9 during writes, ${sent} writes sent, ${acknowledged.size} acknowledged, all ${stored.size >= acknowledged.size ? 'present' : 'NOT present'}`);
    await last.stop();
  }, 180_000);

  it('a corrupt store stops the start with a clear error and is left as it is', async () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'control.db'), 'this is not an SQLite database, just some bytes that a disk or a person left here');
    const r = await runCli(['serve', '--dns', '127.0.0.1:0', '--http', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--data-dir', dir, '--no-local-records', '--upstream', 'udp://127.0.0.1:9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[STORE_CORRUPT\] the control store .*control\.db is corrupt: .*left as it is/);
  });
});
