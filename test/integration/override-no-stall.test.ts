// Control changes never stall the DNS port: a real dnslinkd holding 20,000 overrides answers a
// steady stream of UDP queries while an import of 20,000 more runs (it is applied in chunks that
// yield: answers arrive all through the import request), and a single PUT among them leaves
// the other overrides as they were. Structure only, no timing targets (those are in the bench).
import { createSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeQuery, requireBuild, startDnslinkd } from './support/index.js';
import type { DnslinkdHandle } from './support/index.js';

const ok = requireBuild();
const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const COUNT = 20_000;
const items = (prefix: string) => Array.from({ length: COUNT }, (_, i) => ({ name: `${prefix}${i}.stall.example`, value: `/ipfs/${CID}/${prefix}${i}`, ttl: 60 }));

/** Sends a TXT query for `name` every 2 ms; each answer's receipt time is recorded. */
async function queryStream(port: number, name: string) {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const answeredAt: number[] = [];
  const answers: string[] = [];
  socket.on('message', (msg) => {
    answeredAt.push(performance.now());
    const txt = dnsPacket.decode(msg).answers?.[0] as { data?: Buffer[] } | undefined;
    answers.push(Buffer.concat(txt?.data ?? []).toString());
  });
  let id = 0;
  const timer = setInterval(() => socket.send(encodeQuery((id = (id + 1) & 0xffff), name, 'TXT'), port, '127.0.0.1'), 2);
  return {
    answeredAt,
    answers,
    stop: () => {
      clearInterval(timer);
      socket.close();
    },
  };
}

describe.skipIf(!ok)('override changes and the DNS port', () => {
  let d: DnslinkdHandle;
  beforeAll(async () => {
    d = await startDnslinkd({ upstreams: ['udp://127.0.0.1:9'] });
    const first = await d.admin('POST', '/admin/v1/overrides/import', { overrides: items('a'), reason: 'first set' });
    expect(first.status).toBe(200);
  }, 60_000);
  afterAll(() => d?.stop());

  it('keeps answering while an import of 20,000 overrides is applied', async () => {
    const stream = await queryStream(d.dnsPort, '_dnslink.a7.stall.example');
    await new Promise((r) => setTimeout(r, 200));
    const started = performance.now();
    const imported = await d.admin('POST', '/admin/v1/overrides/import', { overrides: items('b'), reason: 'second set' });
    const ended = performance.now();
    stream.stop();
    expect(imported.status).toBe(200);
    expect((imported.body as { changed: unknown[] }).changed).toHaveLength(COUNT);
    const during = stream.answeredAt.filter((t) => t > started && t < ended);
    // Answered in between the import's chunks, not only once it is done: answers arrive in each
    // quarter of the time the request took (one long block would leave a quarter without any).
    expect(during.length).toBeGreaterThan(0);
    const quarters = new Set(during.map((t) => Math.min(3, Math.floor((4 * (t - started)) / (ended - started)))));
    expect([...quarters].sort()).toEqual([0, 1, 2, 3]);
    expect(new Set(stream.answers)).toEqual(new Set([`dnslink=/ipfs/${CID}/a7`]));
    expect(await d.metric('dnslinkd_overrides_active')).toBe(2 * COUNT);
  }, 60_000);

  it('one PUT and one DELETE change only their name; the other overrides answer as before', async () => {
    const put = await d.admin('PUT', '/admin/v1/overrides/a1.stall.example', { value: `/ipfs/${CID}/changed`, reason: 'one change' });
    expect(put.status).toBe(200);
    const del = await d.admin('DELETE', '/admin/v1/overrides/b2.stall.example', { reason: 'one removal' });
    expect(del.status).toBe(200);
    const value = async (name: string) => {
      const stream = await queryStream(d.dnsPort, name);
      while (stream.answers.length === 0) await new Promise((r) => setTimeout(r, 10));
      stream.stop();
      return stream.answers[0];
    };
    expect(await value('_dnslink.a1.stall.example')).toBe(`dnslink=/ipfs/${CID}/changed`);
    expect(await value('_dnslink.a2.stall.example')).toBe(`dnslink=/ipfs/${CID}/a2`);
    expect(await value('_dnslink.b1.stall.example')).toBe(`dnslink=/ipfs/${CID}/b1`);
    expect(await value('_dnslink.b2.stall.example')).toBe('');
    expect(await d.metric('dnslinkd_overrides_active')).toBe(2 * COUNT - 1);
  }, 60_000);
});
