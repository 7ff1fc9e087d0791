// Bounded in-flight work (issue 16): thousands of distinct names asked fast of an upstream that never
// answers, or answers after 900 ms. dnslinkd's file descriptors (counted from /proc/<pid>/fd during
// the load) stay bounded, since UDP queries share a pool of sockets; past upstream.maxOutstanding a
// miss is answered at once (stale if held, else SERVFAIL with an EDE naming the key) and counted;
// every query gets an answer; upstream failures log a few lines a second, not one per query.
import { createSocket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerTxt, startFakeDnsServer, type FakeDnsServer } from '../../src/stages/testing/fake-dns-server.js';
import { requireBuild, startDnslinkd, stopAll, type DnslinkdHandle } from './support/index.js';

const ok = requireBuild();
const MAX_OUTSTANDING = 2048; // the default, left unset in the configuration
const FD_BOUND = 300;

/** What the test's own upstream does with each question. */
type UpstreamMode = { kind: 'answer' } | { kind: 'silent' } | { kind: 'slow'; delayMs: number };

interface Classified {
  ede?: { code: number; text: string };
  rcode: number;
  answers: number;
}

/** An EDNS TXT query for `name` with ID `id`, so the answer can carry an Extended DNS Error. */
function ednsQuery(id: number, name: string): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'TXT', class: 'IN' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer] });
}

function classify(msg: Buffer): Classified {
  const packet = dnsPacket.decode(msg);
  const opt = packet.additionals?.find((a) => a.type === 'OPT') as { options?: Array<{ code: number; data?: Buffer }> } | undefined;
  const edeOption = opt?.options?.find((o) => o.code === 15);
  const ede = edeOption?.data && edeOption.data.length >= 2 ? { code: edeOption.data.readUInt16BE(0), text: edeOption.data.subarray(2).toString('utf8') } : undefined;
  return { rcode: packet.flags! & 0xf, answers: packet.answers?.length ?? 0, ...(ede ? { ede } : {}) };
}

interface LoadResult {
  /** The answer to each query (by index), the first one received. */
  answers: Map<number, Buffer>;
  /** Most file descriptors dnslinkd had open at once during the load. */
  maxFds: number;
  /** How long sending took (ms). */
  sendMs: number;
}

/**
 * Sends one query for each of `names` (ID = its index) at `perSecond`, resends each one still
 * unanswered `resendAfterMs` after the sending ended (a real stub resolver retries), up to
 * `rounds` times, and samples dnslinkd's open file descriptors every 20 ms meanwhile.
 */
async function load(d: DnslinkdHandle, names: readonly string[], perSecond: number, resendAfterMs: number, rounds = 3): Promise<LoadResult> {
  const pid = d.proc.child.pid!;
  let maxFds = 0;
  const sample = () => {
    try {
      maxFds = Math.max(maxFds, readdirSync(`/proc/${pid}/fd`).length);
    } catch {
      // the process is gone: the test sees it
    }
  };
  const sampler = setInterval(sample, 20);
  const answers = new Map<number, Buffer>();
  const sock = createSocket('udp4');
  sock.on('message', (msg) => {
    if (msg.length >= 12 && !answers.has(msg.readUInt16BE(0))) answers.set(msg.readUInt16BE(0), msg);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  sock.setRecvBufferSize(4 * 1024 * 1024);
  const t0 = Date.now();
  let sendMs = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const pending = names.map((_, i) => i).filter((i) => !answers.has(i));
      if (pending.length === 0) break;
      const started = Date.now();
      for (let k = 0; k < pending.length; k++) {
        // Paced: query k leaves at k / perSecond seconds.
        const due = started + (k * 1000) / perSecond;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        const i = pending[k]!;
        sock.send(ednsQuery(i, names[i]!), d.dnsPort, '127.0.0.1');
      }
      if (round === 0) sendMs = Date.now() - t0;
      const deadline = Date.now() + resendAfterMs;
      while (Date.now() < deadline && pending.some((i) => !answers.has(i))) await sleep(20);
    }
  } finally {
    clearInterval(sampler);
    sample();
    sock.close();
  }
  return { answers, maxFds, sendMs };
}

function openFds(d: DnslinkdHandle): number {
  return readdirSync(`/proc/${d.proc.child.pid!}/fd`).length;
}

/** Log lines at warn level or above written so far. */
function warnLines(d: DnslinkdHandle): string[] {
  return d.proc.lines.filter((l) => /"level":(40|50|60)/.test(l));
}

describe.skipIf(!ok)('bounded in-flight work', () => {
  let upstream: FakeDnsServer;
  let mode: UpstreamMode = { kind: 'answer' };
  let d: DnslinkdHandle;
  beforeAll(async () => {
    upstream = await startFakeDnsServer(async (q) => {
      const current = mode;
      if (current.kind === 'silent') return null;
      if (current.kind === 'slow') await sleep(current.delayMs);
      return [answerTxt(q, [`dnslink=/ipfs/bafy-${q.questions![0]!.name.length}`])];
    });
    d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${upstream.port}`],
      config: {
        // Entries expire after 1 s and are then held stale for a day; no prefetch.
        cache: { minTtl: 0, maxTtl: 1, negativeMaxTtl: 1, serveStale: true, staleMaxAge: 86_400, staleTtl: 30, prefetch: false, clientDeadlineMs: 1_000 },
        upstreamTimeoutMs: 2_000,
        logLevel: 'info',
      },
    });
  });
  afterAll(async () => {
    await d?.stop();
    await upstream?.close();
    await stopAll();
  });

  it('silent upstream, 5,000 distinct names in about a second: bounded descriptors, every query answered (stale if held, else SERVFAIL naming upstream.maxOutstanding), few log lines', async () => {
    // 200 names answered and cached while the upstream works; expired (held stale) a second later.
    const held = Array.from({ length: 200 }, (_, i) => `_dnslink.held${i}.silent.test`);
    const warm = await load(d, held, 2_000, 3_000);
    expect([...warm.answers.values()].every((m) => classify(m).rcode === 0)).toBe(true);
    await sleep(1_500);
    mode = { kind: 'silent' };
    const fdsBefore = openFds(d);
    const warnBefore = warnLines(d).length;
    const saturatedBefore = await d.metric('dnslinkd_upstream_saturated_total');

    // 4,800 new names, then the 200 held ones, at 5,000 a second.
    const names = [...Array.from({ length: 4_800 }, (_, i) => `_dnslink.n${i}.silent.test`), ...held];
    const result = await load(d, names, 5_000, 3_000);

    const kinds = { stale: 0, saturated: 0, upstreamFailed: 0, other: 0 };
    const heldAnswers = { stale: 0, other: 0 };
    for (const [i, msg] of result.answers) {
      const c = classify(msg);
      const kind =
        c.rcode === 0 && c.answers > 0 && c.ede?.code === 3
          ? 'stale'
          : c.rcode === 2 && c.ede?.code === 0 && /upstream\.maxOutstanding/.test(c.ede.text)
            ? 'saturated'
            : c.rcode === 2 && c.ede?.code === 22
              ? 'upstreamFailed'
              : 'other';
      kinds[kind]++;
      if (i >= 4_800) heldAnswers[kind === 'stale' ? 'stale' : 'other']++;
    }
    const warnDuring = warnLines(d).slice(warnBefore);
    const saturated = (await d.metric('dnslinkd_upstream_saturated_total')) - saturatedBefore;
    console.log(
      `silent upstream, ${names.length} names sent in ${result.sendMs} ms: ${result.answers.size} answered ` +
        `(${kinds.saturated} SERVFAIL saturated at once, ${kinds.upstreamFailed} SERVFAIL after the upstream timeout, ${kinds.stale} stale, ${kinds.other} other); ` +
        `file descriptors ${fdsBefore} before, at most ${result.maxFds} during; ${warnDuring.length} warning lines; dnslinkd_upstream_saturated_total +${saturated}`,
    );
    expect(result.answers.size).toBe(names.length); // every query answered
    expect(kinds.other).toBe(0);
    expect(heldAnswers.stale).toBe(held.length); // what was held is served stale
    expect(kinds.saturated).toBeGreaterThan(0);
    expect(kinds.upstreamFailed).toBeLessThanOrEqual(MAX_OUTSTANDING); // no more waited for the upstream than the bound
    expect(saturated).toBeGreaterThanOrEqual(kinds.saturated);
    expect(result.maxFds).toBeLessThan(FD_BOUND);
    expect(warnDuring.length).toBeLessThan(40); // a few lines a second per kind, not one per query
    expect(warnDuring.some((l) => /UPSTREAM_TIMEOUT/.test(l) && /"count":\d+/.test(l))).toBe(true);
    expect(warnDuring.some((l) => /upstream\.maxOutstanding/.test(l))).toBe(true);

    // Healthy afterwards: the upstream answers again and so does dnslinkd, descriptors back down.
    mode = { kind: 'answer' };
    await sleep(2_500); // the last upstream attempts time out
    const after = await load(d, ['_dnslink.after.silent.test'], 100, 3_000);
    expect(classify(after.answers.get(0)!).rcode).toBe(0);
    expect(openFds(d)).toBeLessThan(FD_BOUND);
  }, 60_000);

  it('an upstream answering after 900 ms and 8,000 new names a second for 3 s: bounded descriptors, every query answered, few log lines', async () => {
    mode = { kind: 'slow', delayMs: 900 };
    const warnBefore = warnLines(d).length;
    const names = Array.from({ length: 24_000 }, (_, i) => `_dnslink.n${i}.slow.test`);
    const result = await load(d, names, 8_000, 3_000, 2);
    const kinds = { answered: 0, saturated: 0, upstreamFailed: 0, other: 0 };
    for (const msg of result.answers.values()) {
      const c = classify(msg);
      if (c.rcode === 0 && c.answers > 0) kinds.answered++;
      else if (c.rcode === 2 && c.ede?.code === 0 && /upstream\.maxOutstanding/.test(c.ede.text)) kinds.saturated++;
      // The test's upstream shares this busy process and can drop a question: the attempt times out.
      else if (c.rcode === 2 && c.ede?.code === 22) kinds.upstreamFailed++;
      else kinds.other++;
    }
    const warnDuring = warnLines(d).slice(warnBefore);
    const pct = (n: number) => ((100 * n) / names.length).toFixed(1);
    console.log(
      `900 ms upstream, ${names.length} names sent in ${result.sendMs} ms: ${result.answers.size} answered (${pct(kinds.answered)}% NOERROR from the upstream, ` +
        `${pct(kinds.saturated)}% SERVFAIL saturated at once, ${pct(kinds.upstreamFailed)}% SERVFAIL after the upstream timeout, ${kinds.other} other); at most ${result.maxFds} file descriptors; ${warnDuring.length} warning lines`,
    );
    expect(result.answers.size).toBe(names.length);
    expect(kinds.other).toBe(0);
    expect(kinds.answered).toBeGreaterThan(kinds.upstreamFailed);
    expect(result.maxFds).toBeLessThan(FD_BOUND);
    expect(warnDuring.length).toBeLessThan(40);
    mode = { kind: 'answer' };
  }, 60_000);
});
