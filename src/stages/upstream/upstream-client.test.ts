// Upstream client and pool against an in-process fake server: answers accepted only when ID and
// question match, TC=1 retried over TCP, timeouts, failover with the answering upstream reported.
import * as dgram from 'node:dgram';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { RRType } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import { joinTxtStrings } from '../../dns/txt-strings.js';
import { answerTxt, useFakeDnsServers } from '../testing/fake-dns-server.js';
import { exchange } from './upstream-exchange.js';
import { UpstreamPool } from './upstream-pool.js';
import { parseUpstreamUrl } from './upstream-url.js';

const server = useFakeDnsServers();
const question = makeQuestion('_dnslink.example.com', RRType.TXT);

const extraSockets: dgram.Socket[] = [];
const httpServers: Server[] = [];
afterEach(async () => {
  for (const socket of extraSockets.splice(0)) socket.close();
  await Promise.all(
    httpServers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
});
/** A DoH upstream answering every request with `answer`, as the http:// upstream URL. */
async function dohUpstream(answer: (res: ServerResponse) => void): Promise<string> {
  const s = createServer((req, res) => req.resume().on('end', () => answer(res)));
  httpServers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/dns-query`;
}
/** A UDP socket of the test's own (closed after each test). */
async function bindUdp(address: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, address, () => resolve());
  });
  extraSockets.push(socket);
  return socket;
}

describe('upstream URLs', () => {
  it('parses udp, tcp, https and http URLs with default ports', () => {
    expect(parseUpstreamUrl('udp://127.0.0.1:5300')).toMatchObject({ protocol: 'udp', host: '127.0.0.1', port: 5300 });
    expect(parseUpstreamUrl('tcp://[::1]')).toMatchObject({ protocol: 'tcp', host: '::1', port: 53 });
    expect(parseUpstreamUrl('https://dns.example/dns-query')).toMatchObject({ protocol: 'https', port: 443 });
  });
  it('rejects other schemes and junk with a coded error', () => {
    expect(() => parseUpstreamUrl('ftp://x')).toThrow(/unsupported scheme/);
    expect(() => parseUpstreamUrl('not a url')).toThrow(/not a URL/);
  });
});

describe('exchange', () => {
  it('ignores answers with the wrong ID or question and takes the matching one', async () => {
    const s = await server((q) => {
      const spoofId = answerTxt({ ...q, id: (q.id! + 1) & 0xffff }, ['dnslink=/ipfs/spoofed']);
      const wrongName = answerTxt({ ...q, questions: [{ name: 'evil.example', type: 'TXT' }] }, ['dnslink=/ipfs/evil']);
      return [spoofId, wrongName, answerTxt(q, ['dnslink=/ipfs/real'])];
    });
    const res = await exchange(parseUpstreamUrl(`udp://127.0.0.1:${s.port}`), question, 1000);
    expect(joinTxtStrings((res.answers[0] as { data: unknown }).data)).toBe('dnslink=/ipfs/real');
  });

  it('ignores an answer from another address or port, however well it matches (the socket is connected)', async () => {
    // Spoofers: the upstream's own port number on another loopback address, and another port on its address.
    const elsewhere = await bindUdp('127.0.0.1', 0);
    let sameportOtherAddress: dgram.Socket | undefined;
    const s = await server(async (q, _transport, client) => {
      const spoof = answerTxt(q, ['dnslink=/ipfs/spoofed']);
      sameportOtherAddress?.send(spoof, client.port, client.address);
      elsewhere.send(spoof, client.port, client.address);
      await new Promise((r) => setTimeout(r, 50)); // the spoofs arrive first
      return [answerTxt(q, ['dnslink=/ipfs/real'])];
    });
    // Linux routes all of 127/8 to lo; where 127.0.0.2 does not exist (macOS), the other port only.
    sameportOtherAddress = await bindUdp('127.0.0.2', s.port).catch(() => undefined);
    const res = await exchange(parseUpstreamUrl(`udp://127.0.0.1:${s.port}`), question, 1000);
    expect(joinTxtStrings((res.answers[0] as { data: unknown }).data)).toBe('dnslink=/ipfs/real');
  });

  it('fails at once with UPSTREAM_NETWORK when the UDP port is closed (ICMP unreachable), not after the timeout', async () => {
    const closed = await bindUdp('127.0.0.1', 0);
    const port = closed.address().port;
    await new Promise<void>((r) => closed.close(() => r()));
    extraSockets.splice(extraSockets.indexOf(closed), 1);
    await expect(exchange(parseUpstreamUrl(`udp://127.0.0.1:${port}`), question, 10_000)).rejects.toMatchObject({ code: 'UPSTREAM_NETWORK', message: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('drops a matching answer whose records run past its end, and takes the whole one', async () => {
    const s = await server((q) => {
      const cut = answerTxt(q, ['dnslink=/ipfs/cut-short-by-the-upstream']);
      return [cut.subarray(0, cut.length - 7), answerTxt(q, ['dnslink=/ipfs/real'])];
    });
    const res = await exchange(parseUpstreamUrl(`udp://127.0.0.1:${s.port}`), question, 1000);
    expect(joinTxtStrings((res.answers[0] as { data: unknown }).data)).toBe('dnslink=/ipfs/real');
  });

  it('uses a random query ID', async () => {
    const s = await server((q) => [answerTxt(q, ['v'])]);
    for (let i = 0; i < 5; i++) await exchange(parseUpstreamUrl(`udp://127.0.0.1:${s.port}`), question, 1000);
    expect(new Set(s.queries.map((q) => q.id)).size).toBeGreaterThan(1);
  });

  it('retries over TCP when the UDP answer is truncated, and joins long TXT strings', async () => {
    const long = 'dnslink=/ipfs/' + 'z'.repeat(600);
    const s = await server((q, transport) => {
      if (transport === 'udp') return [answerTxt(q, [], { flags: dnsPacket.TRUNCATED_RESPONSE })];
      const name = q.questions![0]!.name;
      return [
        dnsPacket.encode({
          type: 'response',
          id: q.id,
          questions: q.questions,
          answers: [{ name, type: 'TXT', class: 'IN', ttl: 60, data: [long.slice(0, 255), long.slice(255, 510), long.slice(510)] }],
        }),
      ];
    });
    const res = await exchange(parseUpstreamUrl(`udp://127.0.0.1:${s.port}`), question, 1000);
    expect(s.queries.map((q) => q.transport)).toEqual(['udp', 'tcp']);
    expect(joinTxtStrings((res.answers[0] as { data: unknown }).data)).toBe(long);
  });

  it('sends raw UTF-8 labels unchanged', async () => {
    const s = await server((q) => [answerTxt(q, ['x'])]);
    await exchange(parseUpstreamUrl(`tcp://127.0.0.1:${s.port}`), makeQuestion('_dnslink.ünï.example', RRType.TXT), 1000);
    expect(s.queries[0]!.name).toBe('_dnslink.ünï.example');
  });

  it('times out with UPSTREAM_TIMEOUT when nothing answers', async () => {
    const s = await server(() => null);
    await expect(exchange(parseUpstreamUrl(`udp://127.0.0.1:${s.port}`), question, 100)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
  });
});

describe('exchange over DoH with a failing upstream', () => {
  const dnsMessage = (res: ServerResponse, status = 200) => res.writeHead(status, { 'content-type': 'application/dns-message' });

  it('HTTP 500: UPSTREAM_HTTP', async () => {
    const url = await dohUpstream((res) => {
      dnsMessage(res, 500);
      res.end('told to fail');
    });
    await expect(exchange(parseUpstreamUrl(url), question, 1000)).rejects.toMatchObject({ code: 'UPSTREAM_HTTP', message: `${url}: HTTP 500` });
  });

  it('garbage for a body: UPSTREAM_BAD_RESPONSE', async () => {
    const url = await dohUpstream((res) => {
      dnsMessage(res);
      res.end(Buffer.from('<html>not DNS</html>'));
    });
    await expect(exchange(parseUpstreamUrl(url), question, 1000)).rejects.toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
  });

  it('a body larger than a DNS message, declared or streamed: UPSTREAM_BAD_RESPONSE, the rest never read', async () => {
    const declared = await dohUpstream((res) => {
      res.writeHead(200, { 'content-type': 'application/dns-message', 'content-length': String(10 * 1024 * 1024) });
      res.write(Buffer.alloc(1024));
    });
    let streamed = 0;
    const endless = await dohUpstream((res) => {
      dnsMessage(res);
      const more = () => {
        while (streamed < 64 * 1024 * 1024 && res.write(Buffer.alloc(16 * 1024))) streamed += 16 * 1024;
      };
      res.on('drain', more);
      more();
    });
    for (const url of [declared, endless]) {
      await expect(exchange(parseUpstreamUrl(url), question, 5000)).rejects.toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', message: `${url}: answer larger than 65535 bytes` });
    }
    expect(streamed).toBeLessThan(64 * 1024 * 1024);
  });

  it('a body that never ends: UPSTREAM_TIMEOUT', async () => {
    const url = await dohUpstream((res) => {
      dnsMessage(res);
      res.write(Buffer.alloc(10));
    });
    await expect(exchange(parseUpstreamUrl(url), question, 200)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
  });
});

describe('UpstreamPool', () => {
  it('fails over to the next upstream and reports which one answered', async () => {
    const silent = await server(() => null);
    const broken = await server((q) => [answerTxt(q, [], { flags: 2 /* SERVFAIL */ })]);
    const good = await server((q) => [answerTxt(q, ['dnslink=/ipfs/ok'])]);
    const errors: string[] = [];
    const pool = new UpstreamPool(
      [`udp://127.0.0.1:${silent.port}`, `udp://127.0.0.1:${broken.port}`, `udp://127.0.0.1:${good.port}`],
      { timeoutMs: 100, observer: { onError: (u, code) => errors.push(`${u} ${code}`) } },
    );
    const answer = await pool.query(question);
    expect(answer.upstream).toBe(`udp://127.0.0.1:${good.port}`);
    expect(errors).toEqual([`udp://127.0.0.1:${silent.port} UPSTREAM_TIMEOUT`]);
    // Failed upstreams are tried last for a while: the next query goes to the good one first.
    const before = silent.queries.length + broken.queries.length;
    await pool.query(question);
    expect(silent.queries.length + broken.queries.length).toBe(before);
  });

  it('throws UPSTREAMS_FAILED naming every failure', async () => {
    const silent = await server(() => null);
    const pool = new UpstreamPool([`udp://127.0.0.1:${silent.port}`, `tcp://127.0.0.1:1`], { timeoutMs: 100 });
    await expect(pool.query(question)).rejects.toMatchObject({ code: 'UPSTREAMS_FAILED', message: expect.stringMatching(/within 100 ms.*tcp:\/\/127\.0\.0\.1:1/) });
  });

  it('passes the rcode on, marked unusable, when every upstream answers REFUSED', async () => {
    const refusing = await server((q) => [answerTxt(q, [], { flags: 5 /* REFUSED */ })]);
    const answer = await new UpstreamPool([`udp://127.0.0.1:${refusing.port}`], { timeoutMs: 200 }).query(question);
    expect(answer).toMatchObject({ usable: false, response: { rcode: 5 }, failures: [expect.stringMatching(/answered REFUSED/)] });
  });

  it('fails over on FORMERR and NOTIMP; when every upstream gives one, the last is passed on, marked unusable, naming each', async () => {
    const formerr = await server((q) => [answerTxt(q, [], { flags: 1 /* FORMERR */ })]);
    const notimp = await server((q) => [answerTxt(q, [], { flags: 4 /* NOTIMP */ })]);
    const good = await server((q) => [answerTxt(q, ['dnslink=/ipfs/ok'])]);
    const urls = [formerr, notimp].map((s) => `udp://127.0.0.1:${s.port}`);
    const answer = await new UpstreamPool([...urls, `udp://127.0.0.1:${good.port}`], { timeoutMs: 200 }).query(question);
    expect(answer).toMatchObject({ usable: true, upstream: `udp://127.0.0.1:${good.port}`, failures: [`${urls[0]}: answered FORMERR`, `${urls[1]}: answered NOTIMP`] });
    expect(await new UpstreamPool(urls, { timeoutMs: 200 }).query(question)).toMatchObject({
      usable: false,
      response: { rcode: 4 },
      failures: [`${urls[0]}: answered FORMERR`, `${urls[1]}: answered NOTIMP`],
    });
  });

  it('throws NO_UPSTREAMS when none are configured', async () => {
    await expect(new UpstreamPool([], { timeoutMs: 100 }).query(question)).rejects.toMatchObject({ code: 'NO_UPSTREAMS' });
  });
});
