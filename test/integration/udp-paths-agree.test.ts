// Property: the two UDP transports answer every packet the same, byte for byte. One resolver core
// (one chain, one cache, a frozen clock) behind both the batched listener (recvmmsg/sendmmsg) and
// the node:dgram listener, nsd upstream; every packet is sent to each, and the answers (or the
// silence of a drop) compared. Packets: the fuzz corpora (query-parser, the queries of
// response-splicer), recorded queries of the fixture zone (EDNS sizes, DO, TC past the client's
// size), generated and hostile queries (fast-check, fixed seed) and oversize datagrams.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import * as fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createResolverCore } from '../../src/core/resolver-core.js';
import { startBatchedUdpListener } from '../../src/listeners/udp-batched.js';
import { loadUdpBatchAddon } from '../../src/listeners/udp-batch-addon.js';
import { startUdpListener } from '../../src/listeners/udp-listener.js';
import type { RunningListener } from '../../src/listeners/running-listener.js';
import { encodeQuerySpec, hostileQuery, querySpec, unframe } from '../fuzz/support/dns-arbitraries.js';
import { readCorpus } from '../fuzz/support/fuzz-run.js';
import { requireBinaries, requireBuild, startNsd, zone } from './support/index.js';
import type { NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd') && requireBuild();
const addon = loadUdpBatchAddon();
const SILENCE_MS = 400;
const CHUNK = 40;

/** Sends `packet` from a fresh client socket; the first reply, or null after SILENCE_MS. */
function exchange(port: number, packet: Buffer): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const done = (reply: Buffer | null) => {
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    };
    const timer = setTimeout(() => done(null), SILENCE_MS);
    sock.on('message', (msg) => done(msg));
    sock.on('error', () => done(null));
    sock.send(packet, port, '127.0.0.1');
  });
}

function recordedQueries(): Buffer[] {
  const names = Object.values(zone.names).flatMap((n) => (typeof n.name === 'string' ? [n.name, n.name.replace(/^_dnslink\./, '')] : []));
  const out: Buffer[] = [];
  let id = 1;
  for (const name of names) {
    for (const type of ['TXT', 'A', 'AAAA', 'NS', 'SOA', 'MX'] as const) {
      out.push(dnsPacket.encode({ type: 'query', id: id++, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }));
      for (const udpPayloadSize of [512, 1232, 4096]) {
        out.push(
          dnsPacket.encode({
            type: 'query',
            id: id++,
            flags: dnsPacket.RECURSION_DESIRED,
            questions: [{ type, name }],
            additionals: [{ type: 'OPT', name: '.', udpPayloadSize, flags: udpPayloadSize === 4096 ? dnsPacket.DNSSEC_OK : 0 } as unknown as dnsPacket.Answer],
          }),
        );
      }
    }
  }
  return out;
}

function packets(): Buffer[] {
  const corpus = [...readCorpus('query-parser').map((c) => c.input), ...readCorpus('response-splicer').map((c) => unframe(c.input)[0] ?? c.input)];
  const generated = fc.sample(querySpec.map(encodeQuerySpec), { seed: 20261203, numRuns: 150 });
  const hostile = fc.sample(hostileQuery, { seed: 20261203, numRuns: 100 });
  const base = dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'TXT', name: zone.names.plain.name }] });
  const oversize = [Buffer.concat([base, Buffer.alloc(5000, 0x41)]), Buffer.concat([base, Buffer.alloc(60_000, 0x42)]), Buffer.alloc(0), Buffer.alloc(11, 1)];
  return [...corpus, ...recordedQueries(), ...generated, ...hostile, ...oversize];
}

describe.skipIf(!ok || !addon.ok)('batched and node:dgram UDP paths answer alike', () => {
  let nsd: NsdHandle;
  let dataDir: string;
  let batched: RunningListener;
  let node: RunningListener;

  beforeAll(async () => {
    nsd = await startNsd({ noRateLimit: true });
    dataDir = mkdtempSync(join(tmpdir(), 'dnslinkd-paths-'));
    const config = loadConfig({ env: {}, flags: { upstreams: [`udp://127.0.0.1:${nsd.port}`], localRecords: null, dataDir } });
    const frozen = Date.now();
    const core = createResolverCore(config, pino({ level: 'silent' }), { now: () => frozen });
    if (!addon.ok) throw new Error(addon.reason);
    batched = await startBatchedUdpListener(core, addon.addon, '127.0.0.1', 0, { recvBufferSize: 1 << 20, shared: false, onFault: (code, syscall) => expect.fail(`batched path fault ${code} in ${syscall}`) });
    node = await startUdpListener(core, '127.0.0.1', 0, { recvBufferSize: 1 << 20 });
  });
  afterAll(async () => {
    await batched?.close();
    await node?.close();
    await nsd?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('every packet gets the same bytes (or the same silence) from both', async () => {
    const all = packets();
    // Warm the shared cache first, so both paths then see the same state whichever is asked first.
    for (let i = 0; i < all.length; i += CHUNK) await Promise.all(all.slice(i, i + CHUNK).map((p) => exchange(node.address.port, p)));
    const differing: string[] = [];
    let answered = 0;
    for (let i = 0; i < all.length; i += CHUNK) {
      const chunk = all.slice(i, i + CHUNK);
      const replies = await Promise.all(chunk.map((p) => Promise.all([exchange(batched.address.port, p), exchange(node.address.port, p)])));
      replies.forEach(([b, n], k) => {
        if (b !== null) answered++;
        const same = b === null ? n === null : n !== null && b.equals(n);
        if (!same) differing.push(`${chunk[k]!.subarray(0, 64).toString('hex')}: batched ${b?.toString('hex') ?? 'none'} node ${n?.toString('hex') ?? 'none'}`);
      });
    }
    expect(differing).toEqual([]);
    // Not a vacuous agreement: most packets are answered (the rest are drops on both paths).
    expect(answered).toBeGreaterThan(all.length / 2);
  }, 120_000);
});
