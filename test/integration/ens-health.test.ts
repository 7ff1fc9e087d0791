// ENS health an operator can see, on a real chain (anvil with ENS deployed): RPC endpoints that
// refuse (a closed port), answer HTTP 500, a JSON-RPC error or nothing (a node:http server of the
// test's own in front of anvil), then recover; the log lines (JSON) at failing and recovery, the
// request counters and latency histograms scraped from /metrics by value, /healthz's ens section
// and /admin/v1/status's, CCIP-Read gateway requests counted; URLs with API keys never shown;
// a start against a chain without the registry refused naming ens.registry and the chain id.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, freePort, metricSum, requireBinaries, requireBuild, runCli, startDnslinkd, stopAll, txtValue, waitFor } from './support/index.js';
import type { DnslinkdHandle } from './support/index.js';
import { ANVIL_CHAIN_ID, requireAnvil, startAnvil, type AnvilHandle } from './support/anvil.js';
import { startCcipGateway, type CcipGateway } from './support/ccip-gateway.js';
import { deployEns, type EnsChain } from './support/ens-chain.js';
import { RPC_ERROR, startFaultRpc, type FaultRpc } from './support/fault-rpc.js';

const ok = requireBinaries('dig') && requireBuild() && requireAnvil();

function ipfsContenthash(seed: string): { bytes: Uint8Array; value: string } {
  const cid = CID.createV1(0x70, Digest.create(0x12, createHash('sha256').update(seed).digest()));
  return { bytes: Uint8Array.from([0xe3, 0x01, ...cid.bytes]), value: `/ipfs/${cid.toString()}` };
}

interface LogLine {
  level: number;
  msg: string;
  endpoint?: string;
  cause?: string;
  error?: string;
  failedForMs?: number;
  count?: number;
}

const logLines = (d: DnslinkdHandle): LogLine[] =>
  d
    .logs()
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });

interface EndpointView {
  endpoint: string;
  state: string;
  failures: number;
  lastError?: { cause: string; message: string; at: string };
}
interface EnsView {
  configured: number;
  failing: number;
  degraded: boolean;
  chainId?: number;
  endpoints: EndpointView[];
}

const SECRET = 'k3y-s3cr3t';

describe.skipIf(!ok)('ENS health: failing and recovering RPC endpoints, metrics, /healthz, the start check (anvil)', () => {
  let anvil: AnvilHandle;
  let ens: EnsChain;
  let fault: FaultRpc;
  let gateway: CcipGateway;
  let hanging: CcipGateway;
  let d: DnslinkdHandle;
  let closedPort: number;
  /** The labels dnslinkd gives the two endpoints. */
  let refused: string;
  let faulty: string;
  const site = ipfsContenthash('site');
  const off = ipfsContenthash('off');

  const txt = async (name: string) => {
    // +time=6: the first ENS lookup of a process loads viem's code paths, slow on a busy machine.
    const r = await digAt(d.dnsPort, name, 'TXT', ['+time=6']);
    return { status: r.parsed?.status, ede: r.parsed?.ede, values: (r.parsed?.answers ?? []).map((a) => txtValue(a.data)) };
  };
  const healthz = async () => (await fetch(`http://127.0.0.1:${d.httpPort}/healthz`).then((r) => r.json())) as { status: string; reason: string; ens: EnsView };
  const rpcCount = (metrics: string, endpoint: string, result: string) => metricSum(metrics, 'dnslinkd_ens_rpc_requests_total', { endpoint, result });
  const rpcTimed = (metrics: string, endpoint: string) => metricSum(metrics, 'dnslinkd_ens_rpc_duration_seconds_count', { endpoint });

  beforeAll(async () => {
    anvil = await startAnvil();
    ens = await deployEns(anvil.url);
    gateway = await startCcipGateway({ contenthash: off.bytes });
    hanging = await startCcipGateway({ mode: 'hang' });
    for (const name of ['one.eth', 'two.eth', 'three.eth', 'four.eth', 'five.eth']) await ens.registerName(name, { contenthash: site.bytes });
    await ens.registerName('off.eth', { resolver: await ens.deployOffchainResolver(gateway.url) });
    await ens.registerName('hang.eth', { resolver: await ens.deployOffchainResolver(hanging.url) });
    fault = await startFaultRpc(anvil.url);
    await fault.setMode('down');
    closedPort = await freePort();
    refused = `#1 http://127.0.0.1:${closedPort}`;
    faulty = `#2 http://127.0.0.1:${fault.port}`;
    // API keys in a path and a query, as providers put them: never to be shown.
    d = await startDnslinkd({
      upstreams: [],
      config: {
        ens: { rpc: [`http://127.0.0.1:${closedPort}/v3/${SECRET}`, `${fault.url}/?apikey=${SECRET}`], registry: ens.registry, rpcTimeoutMs: 500, ccipTimeoutMs: 500 },
        cache: { prefetch: false, serveStale: false },
      },
    });
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
    await fault?.close();
    await gateway?.close();
    await hanging?.close();
    await anvil?.stop();
    await stopAll();
  });

  it('starts with every RPC endpoint down: a warning per endpoint naming the cause, not an error', () => {
    const warnings = logLines(d).filter((l) => l.level === 40 && /did not answer at start/.test(l.msg));
    expect(warnings.map((l) => l.endpoint).sort()).toEqual([refused, faulty]);
    for (const w of warnings) expect(w.error).toBe('connection refused (ECONNREFUSED)');
  });

  it('every endpoint refusing: SERVFAIL naming the cause, a failing line per endpoint, counted, /healthz ens degraded', async () => {
    const before = await d.metrics();
    const r = await txt('_dnslink.one.eth');
    expect(r.status).toBe('SERVFAIL');
    expect(r.ede?.code).toBe(22);
    // dig shows the EDE text in parentheses.
    expect(r.ede?.text).toBe(`(every ENS RPC endpoint failed: ${refused}: connection refused (ECONNREFUSED); ${faulty}: connection refused (ECONNREFUSED))`);
    const after = await d.metrics();
    // One lookup: one request to each endpoint (the first call fails, the next endpoint is tried).
    for (const endpoint of [refused, faulty]) {
      expect(rpcCount(after, endpoint, 'network') - rpcCount(before, endpoint, 'network')).toBe(1);
      expect(rpcTimed(after, endpoint) - rpcTimed(before, endpoint)).toBe(1);
    }
    const failing = logLines(d).filter((l) => /^ENS RPC endpoint .* failing/.test(l.msg));
    expect(failing.map((l) => [l.endpoint, l.cause, l.level])).toEqual([
      [refused, 'ECONNREFUSED', 40],
      [faulty, 'ECONNREFUSED', 40],
    ]);
    const h = await healthz();
    expect(h.status).toBe('ready'); // ENS does not make the instance unready
    expect(h.reason).toMatch(/ENS DEGRADED \(all 2 ENS RPC endpoints are failing: ECONNREFUSED\)/);
    expect(h.ens).toMatchObject({ configured: 2, failing: 2, degraded: true });
    expect(h.ens.endpoints.map((e) => [e.endpoint, e.state, e.lastError?.cause, e.lastError?.message])).toEqual([
      ['#1', 'failing', 'ECONNREFUSED', 'connection refused (ECONNREFUSED)'],
      ['#2', 'failing', 'ECONNREFUSED', 'connection refused (ECONNREFUSED)'],
    ]);
  });

  it('the endpoint comes back: answered, one recovery line, its requests counted as ok (as many as it received)', async () => {
    await fault.setMode('pass');
    const before = await d.metrics();
    const received = fault.requests;
    expect(await txt('_dnslink.two.eth')).toMatchObject({ status: 'NOERROR', values: [`dnslink=${site.value}`] });
    const after = await d.metrics();
    const served = fault.requests - received;
    expect(served).toBeGreaterThanOrEqual(2); // the registry's resolver, then the contenthash
    expect(rpcCount(after, faulty, 'ok') - rpcCount(before, faulty, 'ok')).toBe(served);
    expect(rpcTimed(after, faulty) - rpcTimed(before, faulty)).toBe(served);
    await waitFor('the recovery line', async () => logLines(d).some((l) => l.msg === `ENS RPC endpoint ${faulty} recovered`), 3000);
    const line = logLines(d).find((l) => l.msg === `ENS RPC endpoint ${faulty} recovered`)!;
    expect(line).toMatchObject({ level: 30, endpoint: faulty, count: 1 });
    expect(line.failedForMs).toBeGreaterThan(0);
    const h = await healthz();
    expect(h.ens).toMatchObject({ configured: 2, failing: 1, degraded: false });
    expect(h.ens.endpoints[1]).toMatchObject({ endpoint: '#2', state: 'up', failures: 0 });
    expect(h.reason).not.toMatch(/ENS/);
  });

  it('HTTP 500, a JSON-RPC error, no answer: each cause named in the EDE, the metric result and /healthz', async () => {
    const cases = [
      { mode: 'http-500', name: 'three.eth', result: 'http', cause: 'HTTP_500', text: 'HTTP 500 Internal Server Error' },
      { mode: 'rpc-error', name: 'four.eth', result: 'rpc_error', cause: `JSONRPC_${RPC_ERROR.code}`, text: `JSON-RPC error ${RPC_ERROR.code}: ${RPC_ERROR.message}` },
      { mode: 'hang', name: 'five.eth', result: 'timeout', cause: 'TIMEOUT', text: 'no answer within 500 ms' },
    ] as const;
    for (const c of cases) {
      await fault.setMode(c.mode);
      const before = await d.metrics();
      const r = await txt(`_dnslink.${c.name}`);
      expect(r.status, c.mode).toBe('SERVFAIL');
      expect(r.ede?.text, c.mode).toContain(`${faulty}: ${c.text}`);
      expect(r.ede?.text).not.toMatch(/HTTP request failed/);
      const after = await d.metrics();
      expect(rpcCount(after, faulty, c.result) - rpcCount(before, faulty, c.result), c.mode).toBe(1);
      const h = await healthz();
      expect(h.ens.endpoints[1], c.mode).toMatchObject({ state: 'failing', lastError: { cause: c.cause, message: c.text } });
    }
    // One failing line when it started failing (at HTTP 500); none while it kept failing.
    const failingLines = () => logLines(d).filter((l) => l.endpoint === faulty && /failing/.test(l.msg));
    await waitFor('the failing line', async () => failingLines().length === 2, 3000);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the rate limit: nothing held
    const lines = failingLines();
    expect(lines.map((l) => l.cause)).toEqual(['ECONNREFUSED', 'HTTP_500']);
    await fault.setMode('pass');
  });

  it('/admin/v1/status shows the endpoints with their address (never the key), beside the control plane', async () => {
    const status = await d.admin('GET', '/admin/v1/status');
    expect(status.status).toBe(200);
    expect(status.body).toHaveProperty('store');
    const view = status.body.ens as EnsView;
    expect(view.endpoints.map((e) => e.endpoint)).toEqual([refused, faulty]);
    expect(view.endpoints[0]).toMatchObject({ state: 'failing', lastError: { cause: 'ECONNREFUSED' } });
  });

  it('CCIP-Read gateway requests: counted by gateway origin and result, timed', async () => {
    const before = await d.metrics();
    const served = gateway.requests;
    expect(await txt('_dnslink.off.eth')).toMatchObject({ status: 'NOERROR', values: [`dnslink=${off.value}`] });
    expect((await txt('_dnslink.hang.eth')).status).toBe('SERVFAIL');
    const after = await d.metrics();
    const origin = (port: number) => `http://127.0.0.1:${port}`;
    const count = (m: string, port: number, result: string) => metricSum(m, 'dnslinkd_ens_ccip_requests_total', { gateway: origin(port), result });
    expect(count(after, gateway.port, 'ok') - count(before, gateway.port, 'ok')).toBe(gateway.requests - served);
    expect(count(after, hanging.port, 'timeout') - count(before, hanging.port, 'timeout')).toBe(1);
    const timed = (m: string, port: number) => metricSum(m, 'dnslinkd_ens_ccip_duration_seconds_count', { gateway: origin(port) });
    expect(timed(after, hanging.port) - timed(before, hanging.port)).toBe(1);
    expect(metricSum(after, 'dnslinkd_ens_ccip_duration_seconds_sum', { gateway: origin(hanging.port) })).toBeGreaterThanOrEqual(0.5);
  });

  it('a chain without code at ens.registry: the start fails in one line naming the key and the chain id', async () => {
    const registry = '0x1111111111111111111111111111111111111111';
    const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-ens-start-'));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ localRecords: null, dataDir: join(dir, 'data'), ens: { rpc: [anvil.url], registry } }));
    const r = await runCli(['serve', '--config', config, '--dns', '127.0.0.1:0', '--http', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    rmSync(dir, { recursive: true, force: true });
    expect(r.code).not.toBe(0);
    const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('dnslinkd:'));
    expect(errorLines).toEqual([
      `dnslinkd: [ENS_NO_REGISTRY] ens.registry: no contract at ${registry} on chain ${ANVIL_CHAIN_ID} (ens.rpc #1 ${anvil.url}): set ens.registry to the ENS registry of that chain, or point ens.rpc at a chain that has one (mainnet's is the default)`,
    ]);
  });

  it('no URL path or query (the API keys) in the logs, /metrics, /healthz or the admin status', async () => {
    expect(d.logs()).not.toContain(SECRET);
    expect(await d.metrics()).not.toContain(SECRET);
    expect(JSON.stringify(await healthz())).not.toContain(SECRET);
    expect(JSON.stringify((await d.admin('GET', '/admin/v1/status')).body)).not.toContain(SECRET);
    const api = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/one.eth`).then((r) => r.text());
    expect(api).not.toContain(SECRET);
  });
});
