// Upstream faults with real servers: dnslinkd (spawned) in front of a fault-injecting upstream
// (support/fault-upstream.ts) that passes questions to a real nsd or fails on command. For each
// fault: a cached name is served stale (EDE 3, TTL 30), an uncached one gets SERVFAIL (or the
// rcode passed on) with EDE 22 naming the upstream, no forged answer is ever served or cached, and
// with a healthy second upstream every question is answered by it and the failing one is demoted.
// Then ten minutes of simulated outage on the real chain with a fake clock, and ENS JSON-RPC
// endpoints failing (a fault-injecting proxy in front of anvil).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createResolverCore, type ResolverCore } from '../../src/core/resolver-core.js';
import { EdeCode, Rcode } from '../../src/dns/constants.js';
import { decodeResponse } from '../../src/dns/upstream-codec.js';
import { joinTxtStrings } from '../../src/dns/txt-strings.js';
import { FakeClock } from '../../src/stages/testing/harness.js';
import { UPSTREAM_DOWN_CONFIG, digAt, requireBinaries, requireBuild, sleep, startDnslinkd, startNsd, stopAll, txtValue } from './support/index.js';
import type { DigResult, DnslinkdHandle, NsdHandle } from './support/index.js';
import { requireAnvil, startAnvil, type AnvilHandle } from './support/anvil.js';
import { deployEns } from './support/ens-chain.js';
import { FAULTS, FORGED_VALUE, startFaultUpstream, type Fault, type FaultUpstream } from './support/fault-upstream.js';
import { RPC_FAULTS, startFaultRpc, type FaultRpc, type RpcFault } from './support/fault-rpc.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const okEns = requireBinaries('dig') && requireBuild() && requireAnvil();

const ORIGIN = 'faults.test';
const OUTAGE_NAMES = Array.from({ length: 12 }, (_, i) => `outage-${i}`);
/** Every label the zone holds at _dnslink.<label>, each with its own value. */
const LABELS = [...FAULTS.flatMap((f) => [`cached-${f}`, `fresh-${f}`, `fo1-${f}`, `fo2-${f}`]), ...OUTAGE_NAMES];
const nameOf = (label: string) => `_dnslink.${label}.${ORIGIN}`;
const valueOf = (label: string) => `dnslink=/ipfs/real-${label}`;
/** Longer than dnslinkd's upstream timeout in these suites (UPSTREAM_DOWN_CONFIG: 500 ms). */
const LATE_MS = 800;

/** Faults run, by suite, printed at the end. */
const faultsRun = new Map<string, number>();
const countFault = (suite: string) => faultsRun.set(suite, (faultsRun.get(suite) ?? 0) + 1);

function writeZone(dir: string): string {
  const file = join(dir, `${ORIGIN}.zone`);
  const lines = [
    `$ORIGIN ${ORIGIN}.`,
    '$TTL 60',
    `@ 3600 IN SOA ns1.${ORIGIN}. hostmaster.${ORIGIN}. 1 3600 600 86400 30`,
    '@ 3600 IN NS ns1',
    'ns1 3600 IN A 127.0.0.1',
    ...LABELS.map((label) => `_dnslink.${label} 60 IN TXT "${valueOf(label)}"`),
    '',
  ];
  writeFileSync(file, lines.join('\n'));
  return file;
}

afterAll(() => {
  const total = [...faultsRun.values()].reduce((a, b) => a + b, 0);
  console.log(`upstream faults run: ${total} (${[...faultsRun].map(([suite, n]) => `${suite}: ${n}`).join(', ')})`);
});

const values = (r: DigResult) => (r.parsed?.answers ?? []).map((a) => txtValue(a.data));

describe.skipIf(!ok)('upstream faults (fault-injecting upstream in front of nsd)', () => {
  let dir: string;
  let nsd: NsdHandle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-faults-'));
    nsd = await startNsd({ zones: [{ name: ORIGIN, file: writeZone(dir) }] });
  });
  afterAll(async () => {
    await nsd?.stop();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('the only upstream failing', () => {
    let upstream: FaultUpstream;
    let d: DnslinkdHandle;
    beforeAll(async () => {
      upstream = await startFaultUpstream({ targetPort: nsd.port, lateMs: LATE_MS });
      console.log(`fault upstream ${upstream.url}: wrong-source answers from ${upstream.sources.join(' and ')}`);
      // Entries expire after 1 s; after a failed refresh the next question asks again (staleRefreshMs 0).
      d = await startDnslinkd({ upstreams: [upstream.url], config: { ...UPSTREAM_DOWN_CONFIG, cache: { ...UPSTREAM_DOWN_CONFIG.cache, staleRefreshMs: 0 } } });
      for (const f of FAULTS) {
        const r = await digAt(d.dnsPort, nameOf(`cached-${f}`), 'TXT');
        expect(values(r)).toEqual([valueOf(`cached-${f}`)]);
      }
      await sleep(1200); // past cache.maxTtl: every cached-* entry is expired, held for serve-stale
    });
    afterAll(async () => {
      await d?.stop();
      await upstream?.close();
    });

    it.each(FAULTS)('%s', async (fault: Fault) => {
      countFault('only upstream');
      const forgedBefore = upstream.forged;
      const tcpBefore = upstream.received.tcp;
      await upstream.setMode(fault);
      const cached = await digAt(d.dnsPort, nameOf(`cached-${fault}`), 'TXT', ['+time=5']);
      const fresh = await digAt(d.dnsPort, nameOf(`fresh-${fault}`), 'TXT', ['+time=5']);
      await upstream.setMode('pass');

      if (fault === 'truncated') {
        // Not a failure: the same upstream is asked again over TCP and answers.
        expect(upstream.received.tcp).toBeGreaterThanOrEqual(tcpBefore + 2);
        expect([cached.parsed?.status, cached.parsed?.ede, values(cached)]).toEqual(['NOERROR', undefined, [valueOf(`cached-${fault}`)]]);
        expect([fresh.parsed?.status, fresh.parsed?.ede, values(fresh)]).toEqual(['NOERROR', undefined, [valueOf(`fresh-${fault}`)]]);
      } else {
        // The cached name: its last answer, stale and marked.
        expect(cached.parsed?.status).toBe('NOERROR');
        expect(cached.parsed?.answers.map((a) => [a.ttl, txtValue(a.data)])).toEqual([[30, valueOf(`cached-${fault}`)]]);
        expect(cached.parsed?.ede?.code).toBe(EdeCode.STALE_ANSWER);
        // The uncached one: SERVFAIL (REFUSED passed on) with EDE 22 naming the upstream.
        expect(fresh.parsed?.status).toBe(fault === 'refused' ? 'REFUSED' : 'SERVFAIL');
        expect(values(fresh)).toEqual([]);
        expect(fresh.parsed?.ede?.code).toBe(EdeCode.NO_REACHABLE_AUTHORITY);
        expect(fresh.parsed?.ede?.text).toContain(upstream.url);
      }
      if (['wrong-id', 'wrong-question', 'wrong-source', 'late', 'garbage'].includes(fault)) {
        if (fault === 'late') await sleep(LATE_MS); // the late answers have arrived (to closed sockets)
        expect(upstream.forged).toBeGreaterThan(forgedBefore);
      }

      // The fault cleared: both names come from the upstream, real, fresh, never the forged value.
      const receivedBefore = upstream.received.udp;
      const cachedAfter = await digAt(d.dnsPort, nameOf(`cached-${fault}`), 'TXT');
      const freshAfter = await digAt(d.dnsPort, nameOf(`fresh-${fault}`), 'TXT');
      for (const [r, label] of [[cachedAfter, `cached-${fault}`], [freshAfter, `fresh-${fault}`]] as const) {
        expect(r.parsed?.status).toBe('NOERROR');
        expect(r.parsed?.ede).toBeUndefined();
        expect(r.parsed?.answers.map((a) => [a.ttl <= 1, txtValue(a.data)])).toEqual([[true, valueOf(label)]]);
      }
      if (fault !== 'truncated') expect(upstream.received.udp).toBe(receivedBefore + 2);
      for (const r of [cached, fresh, cachedAfter, freshAfter]) expect(values(r)).not.toContain(FORGED_VALUE);
    });
  });

  describe('one upstream of two failing', () => {
    const upstreams: FaultUpstream[] = [];
    let d: DnslinkdHandle;
    beforeAll(async () => {
      for (let i = 0; i < 2; i++) upstreams.push(await startFaultUpstream({ targetPort: nsd.port, lateMs: LATE_MS }));
      d = await startDnslinkd({ upstreams: upstreams.map((u) => u.url), config: UPSTREAM_DOWN_CONFIG });
    });
    afterAll(async () => {
      await d?.stop();
      for (const u of upstreams) await u.close();
    });

    // The pool asks the upstream that has not failed lately first. Each fault hits the one asked
    // first now; the other answers, and the failing one is moved back: the next question does not
    // reach it. So the two take turns.
    let first = 0;
    const failoverMs: string[] = [];
    it.each(FAULTS.filter((f) => f !== 'truncated'))('%s', async (fault: Fault) => {
      countFault('one of two');
      const failing = upstreams[first]!;
      const healthy = upstreams[1 - first]!;
      await failing.setMode(fault);
      const failingBefore = failing.received.udp;
      const healthyBefore = healthy.received.udp;
      const started = performance.now();
      const r1 = await digAt(d.dnsPort, nameOf(`fo1-${fault}`), 'TXT', ['+time=5']);
      failoverMs.push(`${fault} ${Math.round(performance.now() - started)}`);
      if (fault !== 'down') expect(failing.received.udp).toBe(failingBefore + 1);
      expect(healthy.received.udp).toBe(healthyBefore + 1);
      const failingAfterFirst = failing.received.udp;
      const r2 = await digAt(d.dnsPort, nameOf(`fo2-${fault}`), 'TXT', ['+time=5']);
      expect(failing.received.udp).toBe(failingAfterFirst); // demoted: not asked
      expect(healthy.received.udp).toBe(healthyBefore + 2);
      for (const [r, label] of [[r1, `fo1-${fault}`], [r2, `fo2-${fault}`]] as const) {
        expect([r.parsed?.status, r.parsed?.ede, values(r)]).toEqual(['NOERROR', undefined, [valueOf(label)]]);
      }
      await failing.setMode('pass');
      first = 1 - first;
    });

    it('counts the failed attempts per upstream', async () => {
      console.log(`failover, ms to the answer through the healthy upstream (dig included; provisional): ${failoverMs.join(', ')}`);
      const metrics = await d.metrics();
      for (const u of upstreams) {
        const failed = metrics
          .split('\n')
          .filter((line) => line.startsWith('dnslinkd_upstream_errors_total{') && line.includes(`upstream="${u.url}"`))
          .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
        expect(failed).toBeGreaterThan(0);
      }
    });
  });

  describe('ten minutes of simulated outage (real chain, fake clock)', () => {
    /** cache.staleMaxAge of this suite: the names stay answerable this long past their TTL (60 s). */
    const STALE_MAX_AGE_S = 600;
    const TTL_S = 60;
    let upstream: FaultUpstream;
    let core: ResolverCore;
    const clock = new FakeClock(Date.now());
    beforeAll(async () => {
      upstream = await startFaultUpstream({ targetPort: nsd.port, lateMs: 400 });
      const config = loadConfig({
        env: {},
        resolvConf: '/nonexistent',
        flags: {
          upstreams: [upstream.url],
          upstreamTimeoutMs: 300,
          localRecords: null,
          cache: { prefetch: false, staleMaxAge: STALE_MAX_AGE_S, staleTtl: 30, clientDeadlineMs: 200 },
        },
      });
      core = createResolverCore(config, pino({ level: 'silent' }), { now: clock.now });
    });
    afterAll(async () => {
      await upstream?.close();
    });

    let id = 1;
    async function ask(label: string) {
      const query = dnsPacket.encode({ type: 'query', id: id++, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: nameOf(label), type: 'TXT' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer] });
      const out = await core.wireHandler.handle(query, 'udp', true);
      const res = decodeResponse(out!);
      return { rcode: res.rcode, ede: res.ede, answers: res.answers.map((a) => [(a as { ttl?: number }).ttl, joinTxtStrings((a as { data: unknown }).data)]) };
    }

    it('every name cached before is answered, stale and marked (EDE 3, TTL 30), until cache.staleMaxAge, and not after', async () => {
      for (const label of OUTAGE_NAMES) expect(await ask(label)).toMatchObject({ rcode: Rcode.NOERROR, answers: [[TTL_S, valueOf(label)]] });
      const outageFaults = FAULTS.filter((f) => f !== 'truncated');
      const start = clock.now();
      let steps = 0;
      // Every 30 s of simulated time for ten minutes, and up to the end of the stale window, the
      // upstream fails in the next way on the list; each step asks every name at once.
      for (let elapsed = 0; elapsed <= TTL_S + STALE_MAX_AGE_S; elapsed += 30, steps++) {
        await upstream.setMode(outageFaults[steps % outageFaults.length]!);
        countFault('simulated outage');
        clock.advance(start + elapsed * 1000 - clock.now());
        const answers = await Promise.all(OUTAGE_NAMES.map(ask));
        answers.forEach((a, i) => {
          const value = valueOf(OUTAGE_NAMES[i]!);
          if (elapsed < TTL_S) expect(a).toMatchObject({ rcode: Rcode.NOERROR, ede: undefined, answers: [[TTL_S - elapsed, value]] });
          else expect(a).toMatchObject({ rcode: Rcode.NOERROR, ede: { code: EdeCode.STALE_ANSWER }, answers: [[30, value]] });
        });
      }
      expect(clock.now() - start).toBeGreaterThanOrEqual(10 * 60_000);
      // One second past the stale window: nothing left to serve.
      await upstream.setMode('down');
      clock.advance(1000);
      for (const a of await Promise.all(OUTAGE_NAMES.map(ask))) {
        expect(a).toMatchObject({ rcode: Rcode.SERVFAIL, ede: { code: EdeCode.NO_REACHABLE_AUTHORITY, text: expect.stringContaining(upstream.url) }, answers: [] });
      }
      // The upstream back: real answers again, never a forged one.
      await upstream.setMode('pass');
      for (const label of OUTAGE_NAMES) expect(await ask(label)).toMatchObject({ rcode: Rcode.NOERROR, ede: undefined, answers: [[TTL_S, valueOf(label)]] });
      console.log(`simulated outage: ${steps} steps of 30 s over ${((clock.now() - start) / 60_000).toFixed(1)} min, ${OUTAGE_NAMES.length} names, ${upstream.forged} forged messages ignored`);
    }, 60_000);
  });
});

describe.skipIf(!okEns)('ENS JSON-RPC endpoints failing (fault-injecting proxies in front of anvil)', () => {
  let anvil: AnvilHandle;
  const rpcs: FaultRpc[] = [];
  let d: DnslinkdHandle;
  /** What every name under wild.eth is answered with while the chain is reachable. */
  let expected: string[];
  const ensTxt = async (label: string) => {
    const r = await digAt(d.dnsPort, `_dnslink.${label}.wild.eth`, 'TXT', ['+time=5']);
    return { status: r.parsed?.status, ede: r.parsed?.ede, ttls: r.parsed?.answers.map((a) => a.ttl), values: values(r) };
  };

  beforeAll(async () => {
    anvil = await startAnvil();
    const ens = await deployEns(anvil.url);
    // One wildcard resolver (ENSIP-10) answers every name under wild.eth with one contenthash.
    const contenthash = `0xe30101701220${'ab'.repeat(32)}` as const;
    await ens.registerName('wild.eth', { resolver: await ens.deployWildcardResolver(contenthash) });
    for (let i = 0; i < 2; i++) rpcs.push(await startFaultRpc(anvil.url));
    d = await startDnslinkd({
      upstreams: [],
      config: {
        ens: { rpc: rpcs.map((r) => r.url), registry: ens.registry, ttl: 1, rpcTimeoutMs: 500 },
        cache: { prefetch: false, staleTtl: 30, clientDeadlineMs: 1000, staleRefreshMs: 0 },
      },
    });
    expected = (await ensTxt('first')).values;
    expect(expected).toEqual([expect.stringMatching(/^dnslink=\/ipfs\/b/)]);
    for (const f of RPC_FAULTS) expect((await ensTxt(`cached-${f}`)).values).toEqual(expected);
    await sleep(1200); // past ens.ttl: every cached-* entry is expired, held for serve-stale
  });
  afterAll(async () => {
    await d?.stop();
    for (const r of rpcs) await r.close();
    await anvil?.stop();
    await stopAll();
  });

  it.each(RPC_FAULTS)('%s', async (fault: RpcFault) => {
    countFault('ENS RPC');
    const [first, second] = rpcs as [FaultRpc, FaultRpc];
    // Every endpoint failing: the cached name stale and marked, the other SERVFAIL naming both.
    await Promise.all(rpcs.map((r) => r.setMode(fault)));
    expect(await ensTxt(`cached-${fault}`)).toMatchObject({ status: 'NOERROR', ede: { code: EdeCode.STALE_ANSWER }, ttls: [30], values: expected });
    const fresh = await ensTxt(`fresh-${fault}`);
    expect(fresh).toMatchObject({ status: 'SERVFAIL', ede: { code: EdeCode.NO_REACHABLE_AUTHORITY }, values: [] });
    expect(fresh.ede?.text).toContain(first.url);
    expect(fresh.ede?.text).toContain(second.url);
    // The first endpoint failing: the second answers, and the first is then asked last.
    await second.setMode('pass');
    const firstBefore = first.requests;
    expect(await ensTxt(`fo1-${fault}`)).toMatchObject({ status: 'NOERROR', ede: undefined, values: expected });
    if (fault !== 'down') expect(first.requests).toBeGreaterThan(firstBefore);
    const firstAfter = first.requests;
    const secondBefore = second.requests;
    expect(await ensTxt(`fo2-${fault}`)).toMatchObject({ status: 'NOERROR', ede: undefined, values: expected });
    expect(first.requests).toBe(firstAfter);
    expect(second.requests).toBeGreaterThan(secondBefore);
    // Cleared: both names fresh from the chain.
    await first.setMode('pass');
    for (const label of [`cached-${fault}`, `fresh-${fault}`]) expect(await ensTxt(label)).toMatchObject({ status: 'NOERROR', ede: undefined, values: expected });
  });
});
