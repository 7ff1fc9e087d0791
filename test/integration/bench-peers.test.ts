// The bench's peers (bench/peers/*.js): each starts on 127.0.0.1 in front of the fixture nsd and
// answers the plain fixture name with nsd's TXT value, twice (the second from its cache), so a
// ratio in `npm run bench` is never taken against a server that answers SERVFAIL. A peer whose
// Debian package is not installed is skipped (they are bench-only, not required by CI).
import { describe, expect, it } from 'vitest';
import { digAt, findBinary, requireBinaries, txtValue, zone } from './support/index.js';
import { nsdForSuite } from './support/suite.js';

const ok = requireBinaries('nsd', 'dig');
const plain = zone.names.plain;

interface PeerOptions {
  zone: string;
  upstreamPort: number;
  readyName: string;
}
type StartPeer = (opts: PeerOptions) => Promise<{ port: number; stop(): Promise<void> }>;

/** A bench module's start function (plain JS, loaded at run time so the type checker does not need declarations for it). */
async function peerStarter(file: string, exportName: string): Promise<StartPeer> {
  const mod = (await import(new URL(`../../bench/peers/${file}`, import.meta.url).href)) as Record<string, StartPeer>;
  const start = mod[exportName];
  if (!start) throw new Error(`bench/peers/${file} has no ${exportName}`);
  return start;
}

const peers: { file: string; exportName: string; binary?: string }[] = [
  { file: 'pdns-recursor.js', exportName: 'startPdnsRecursor', binary: 'pdns_recursor' },
  { file: 'dnsdist.js', exportName: 'startDnsdist', binary: 'dnsdist' },
  { file: 'kresd.js', exportName: 'startKresd', binary: 'kresd' },
  { file: 'dns2.js', exportName: 'startDns2' },
];

describe.skipIf(!ok)('bench peers answer the fixture name like nsd', () => {
  const servers = nsdForSuite();

  for (const peer of peers) {
    it.skipIf(peer.binary !== undefined && !findBinary(peer.binary))(`${peer.file}`, async () => {
      const start = await peerStarter(peer.file, peer.exportName);
      const server = await start({ zone: 'dnslink.test', upstreamPort: servers.nsd.port, readyName: plain.name });
      try {
        for (let i = 0; i < 2; i++) {
          const r = await digAt(server.port, plain.name, 'TXT');
          expect(r.parsed?.status).toBe('NOERROR');
          expect(r.parsed?.answers.map((a) => [a.type, txtValue(a.data)])).toEqual([['TXT', plain.values[0]]]);
        }
      } finally {
        await server.stop();
      }
    });
  }
});
