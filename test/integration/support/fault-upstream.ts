// A fault-injecting DNS upstream on 127.0.0.1 (UDP and TCP on one port, in-process) in front of a
// real server (nsd): it passes each question through, or fails the way its mode says, switchable
// at run time. Forged messages carry FORGED_VALUE, so a test can see one served or cached.
// Not exported from index.ts: it builds on the stage tests' fake server, which needs vitest.
import * as dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { startFakeDnsServer, type FakeClient, type FakeDnsServer, type FakeReply } from '../../../src/stages/testing/fake-dns-server.js';
import { sleep } from './proc.js';
import { tcpExchange, udpExchange } from './raw.js';

/** Every way the upstream can fail, as the tests run them. */
export const FAULTS = [
  'down', // port closed (UDP: ICMP unreachable; TCP: connection refused)
  'silent', // questions dropped
  'servfail',
  'refused',
  'formerr', // as an upstream that rejects EDNS would answer
  'truncated', // TC=1 over UDP with no records; TCP answers normally
  'wrong-id', // a forged answer with another ID
  'wrong-question', // a forged answer to another name
  'wrong-source', // a forged answer, right ID and question, from another address and from another port
  'late', // a forged answer, right ID and question, after the client's deadline
  'garbage', // bytes that start like the answer (its ID, QR set) and are not DNS
] as const;
export type Fault = (typeof FAULTS)[number];
export type FaultMode = 'pass' | Fault;

/** The TXT value of every forged answer: no real name holds it. */
export const FORGED_VALUE = 'dnslink=/ipfs/forged-by-the-fault-upstream';

export interface FaultUpstreamOptions {
  /** The real server questions are passed to (UDP and TCP on one port, on 127.0.0.1). */
  targetPort: number;
  /** How long a `late` answer waits: more than the client's upstream timeout. */
  lateMs: number;
}

export interface FaultUpstream {
  port: number;
  /** udp://127.0.0.1:<port> */
  url: string;
  readonly mode: FaultMode;
  /** Switches the mode; `down` closes the port, any other mode opens it again (same number). */
  setMode(mode: FaultMode): Promise<void>;
  /** Questions received (while up), by transport. */
  received: { udp: number; tcp: number };
  /** Where `wrong-source` answers come from: another port, and this port on 127.0.0.2 where it exists. */
  sources: string[];
  /** Forged messages sent (wrong ID, question or source, late, garbage). */
  forged: number;
  close(): Promise<void>;
}

const OTHER_LOOPBACK = '127.0.0.2';

function response(query: dnsPacket.DecodedPacket, extra: Partial<dnsPacket.Packet>): Buffer {
  return dnsPacket.encode({ type: 'response', id: query.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: query.questions, ...extra });
}

/** An answer to `query` (or to `name` instead of its question) holding the forged value. */
function forgedAnswer(query: dnsPacket.DecodedPacket, overrides: { id?: number; name?: string } = {}): Buffer {
  const q = query.questions![0]!;
  const name = overrides.name ?? q.name;
  return dnsPacket.encode({
    type: 'response',
    id: overrides.id ?? query.id,
    flags: dnsPacket.RECURSION_AVAILABLE,
    questions: [{ ...q, name }],
    answers: [{ name, type: 'TXT', class: 'IN', ttl: 3600, data: [FORGED_VALUE] }],
  });
}

/** Starts like an answer to `query` (its ID, QR set): random bytes, and a real-looking header cut short. */
function garbage(query: dnsPacket.DecodedPacket): Buffer[] {
  const noise = randomBytes(12 + Math.floor(Math.random() * 300));
  noise.writeUInt16BE(query.id ?? 0, 0);
  noise[2] = noise[2]! | 0x80;
  const forged = forgedAnswer(query);
  const cut = forged.subarray(0, forged.length - 7); // the TXT rdata runs past the end
  return [noise, cut];
}

export async function startFaultUpstream(options: FaultUpstreamOptions): Promise<FaultUpstream> {
  const received = { udp: 0, tcp: 0 };
  // Forged answers from elsewhere: another port on the upstream's own address, and its port number
  // on another loopback address (Linux routes all of 127/8 to lo; macOS has 127.0.0.1 only).
  const elsewhere: dgram.Socket[] = [];
  let server: FakeDnsServer | undefined;
  let mode: FaultMode = 'pass';

  const sendForged = (message: Buffer, client: FakeClient): void => {
    for (const socket of elsewhere) socket.send(message, client.port, client.address);
    handle.forged += elsewhere.length;
  };

  const reply: FakeReply = async (query, transport, client, raw) => {
    received[transport]++;
    switch (mode) {
      case 'pass':
      case 'down':
        break;
      case 'silent':
        return null;
      case 'servfail':
        return [response(query, { flags: dnsPacket.RECURSION_AVAILABLE | 2 })];
      case 'refused':
        return [response(query, { flags: dnsPacket.RECURSION_AVAILABLE | 5 })];
      case 'formerr':
        return [response(query, { flags: dnsPacket.RECURSION_AVAILABLE | 1 })];
      case 'truncated':
        if (transport === 'udp') return [response(query, { flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.TRUNCATED_RESPONSE })];
        break;
      case 'wrong-id':
        handle.forged++;
        return [forgedAnswer(query, { id: ((query.id ?? 0) + 1) & 0xffff })];
      case 'wrong-question':
        handle.forged++;
        return [forgedAnswer(query, { name: `forged.${query.questions?.[0]?.name ?? ''}` })];
      case 'wrong-source':
        if (transport === 'udp') sendForged(forgedAnswer(query), client);
        return null;
      case 'late':
        await sleep(options.lateMs);
        handle.forged++;
        return [forgedAnswer(query)];
      case 'garbage':
        handle.forged += 2;
        return garbage(query);
    }
    if (transport === 'udp') {
      const answer = await udpExchange(options.targetPort, raw, 2000);
      return answer ? [answer] : null;
    }
    return tcpExchange(options.targetPort, [raw], 2000).catch(() => null);
  };

  server = await startFakeDnsServer(reply);
  const port = server.port;
  for (const [address, sourcePort] of [['127.0.0.1', 0], [OTHER_LOOPBACK, port]] as const) {
    const socket = dgram.createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(sourcePort, address, () => resolve(true));
    });
    if (bound) elsewhere.push(socket);
    else if (address === '127.0.0.1') throw new Error('fault upstream: no UDP port free on 127.0.0.1');
    else socket.close();
  }

  const handle: FaultUpstream = {
    port,
    url: `udp://127.0.0.1:${port}`,
    get mode() {
      return mode;
    },
    received,
    sources: elsewhere.map((socket) => `${socket.address().address}:${socket.address().port}`),
    forged: 0,
    async setMode(next) {
      if (next === 'down' && server) {
        await server.close();
        server = undefined;
      } else if (next !== 'down' && !server) {
        server = await startFakeDnsServer(reply, port);
      }
      mode = next;
    },
    async close() {
      await server?.close();
      await Promise.all(elsewhere.map((socket) => new Promise<void>((r) => socket.close(() => r()))));
    },
  };
  return handle;
}
