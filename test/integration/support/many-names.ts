// Many distinct DNSLink names from a real authoritative server, and bursts of UDP queries for
// them: what the cold-miss test and the memory benchmark (bench/memory-case.js) fill a cache with.
// nsd serves one wildcard TXT record, so `_dnslink.n<i>.<zone>` exists for every i without a
// zone of a million records (with its response rate limiting off: the wildcard is one RRL bucket).
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNsd } from './nsd.js';
import { encodeQuery, parseHeader } from './raw.js';

export const MANY_NAMES_CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';

export interface WildcardNsd {
  port: number;
  zone: string;
  /** The i-th distinct DNSLink name: `_dnslink.n<i>.<zone>`. */
  name(i: number): string;
  stop(): Promise<void>;
}

/** nsd on 127.0.0.1 answering `*.<zone> TXT "dnslink=/ipfs/..."` (TTL `ttl`) for any name under the zone. */
export async function startWildcardNsd(zone = 'many.test', ttl = 86_400): Promise<WildcardNsd> {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-wildcard-'));
  const file = join(dir, `${zone}.zone`);
  writeFileSync(
    file,
    [
      `$ORIGIN ${zone}.`,
      `@ 3600 IN SOA ns1.${zone}. hostmaster.${zone}. 1 3600 600 86400 30`,
      `@ 3600 IN NS ns1.${zone}.`,
      'ns1 3600 IN A 127.0.0.1',
      `* ${ttl} IN TXT "dnslink=/ipfs/${MANY_NAMES_CID}"`,
      '',
    ].join('\n'),
  );
  const nsd = await startNsd({ zones: [{ name: zone, file }], noRateLimit: true });
  return {
    port: nsd.port,
    zone,
    name: (i) => `_dnslink.n${i}.${zone}`,
    stop: async () => {
      await nsd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BurstResult {
  sent: number;
  /** Queries answered (each counted once, whatever the round). */
  answered: number;
  /** Answers with NOERROR and at least one record. */
  positive: number;
  /** Names with at least one such answer. */
  namesAnswered: number;
  /** Names without one (each answered SERVFAIL, or never). */
  namesUnanswered: string[];
  /** Rounds it took (the first, plus resends of what got no answer). */
  rounds: number;
}

/**
 * Sends `copies` TXT queries for each name to 127.0.0.1:port, the copies of a name back to back
 * and at most `window` queries unanswered at a time (default 2,000), resending what got
 * no answer up to `rounds` times. At most 65536 queries.
 */
export async function queryBurst(port: number, queried: readonly string[], copies: number, opts: { window?: number; rounds?: number; timeoutMs?: number } = {}): Promise<BurstResult> {
  const total = queried.length * copies;
  if (total > 65_536) throw new Error('queryBurst: at most 65536 queries (one DNS ID each)');
  const window = opts.window ?? 2_000;
  const answers = new Map<number, Buffer>();
  const sock = createSocket('udp4');
  sock.on('message', (msg) => {
    if (msg.length >= 12) answers.set(msg.readUInt16BE(0), msg);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  // Room for a window of answers while this (busy) process reads them; the kernel may cap it.
  sock.setRecvBufferSize(4 * 1024 * 1024);
  let rounds = 0;
  try {
    for (; rounds < (opts.rounds ?? 3); rounds++) {
      const pending = Array.from({ length: total }, (_, id) => id).filter((id) => !answers.has(id));
      if (pending.length === 0) break;
      const answeredBefore = answers.size;
      for (let at = 0; at < pending.length; ) {
        // Keep at most `window` queries unanswered, waiting a little when there are more.
        if (at - (answers.size - answeredBefore) >= window) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          continue;
        }
        const id = pending[at++]!;
        sock.send(encodeQuery(id, queried[Math.floor(id / copies)]!, 'TXT'), port, '127.0.0.1');
        if (at % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const deadline = Date.now() + (opts.timeoutMs ?? 3_000);
      while (Date.now() < deadline && pending.some((id) => !answers.has(id))) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    sock.close();
  }
  let positive = 0;
  const names = new Set<number>();
  for (const [id, msg] of answers) {
    const header = parseHeader(msg);
    if (header.rcode !== 0 || header.ancount === 0) continue;
    positive++;
    names.add(Math.floor(id / copies));
  }
  const namesUnanswered = queried.filter((_, i) => !names.has(i));
  return { sent: total, answered: answers.size, positive, namesAnswered: names.size, namesUnanswered, rounds };
}
