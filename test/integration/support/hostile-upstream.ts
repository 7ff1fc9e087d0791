// A hostile DNS upstream on 127.0.0.1 (UDP and TCP on one port, in-process): it answers each
// question from a script of its own, the sections as written, so a test can send records owned
// by other names in the answer, authority and additional sections. Questions it has no script for
// get NXDOMAIN. Not exported from index.ts: it builds on the stage tests' fake server (vitest).
import * as dnsPacket from 'dns-packet';
import { startFakeDnsServer } from '../../../src/stages/testing/fake-dns-server.js';

/** What the upstream answers for one question name (any type), sections exactly as given. */
export interface ScriptedAnswer {
  rcode?: number;
  answers?: dnsPacket.Answer[];
  authorities?: dnsPacket.Answer[];
  additionals?: dnsPacket.Answer[];
}

export interface HostileUpstream {
  port: number;
  /** udp://127.0.0.1:<port> */
  url: string;
  /** Questions received for a name (lower-cased), over both transports. */
  asked(name: string): number;
  close(): Promise<void>;
}

/** Starts the upstream; `script` maps lower-cased question names to what is answered. */
export async function startHostileUpstream(script: Readonly<Record<string, ScriptedAnswer>>): Promise<HostileUpstream> {
  const counts = new Map<string, number>();
  const server = await startFakeDnsServer((query) => {
    const question = query.questions?.[0];
    if (!question) return null;
    const name = question.name.toLowerCase();
    counts.set(name, (counts.get(name) ?? 0) + 1);
    const scripted = script[name];
    return [
      dnsPacket.encode({
        type: 'response',
        id: query.id,
        flags: dnsPacket.RECURSION_AVAILABLE | (scripted ? (scripted.rcode ?? 0) : 3),
        questions: [question],
        answers: scripted?.answers ?? [],
        authorities: scripted?.authorities ?? [],
        additionals: scripted?.additionals ?? [],
      }),
    ];
  });
  return {
    port: server.port,
    url: `udp://127.0.0.1:${server.port}`,
    asked: (name) => counts.get(name.toLowerCase()) ?? 0,
    close: () => server.close(),
  };
}
