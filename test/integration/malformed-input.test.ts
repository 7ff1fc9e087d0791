// Hostile input never crashes dnslinkd: thousands of random and mutated packets over UDP and
// TCP (bounded in count and time), after which the process is alive, answers a real query, and
// has logged no error. Malformed input gets FORMERR or silence, never an exception.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { digAt, encodeQuery, requireBinaries, requireBuild, zone } from './support/index.js';
import { nsdWithDnslinkd } from './support/suite.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const n = zone.names;
const PACKETS = 3000;

/** A valid query with 1-4 random bytes overwritten, or pure random bytes of random length. */
function junk(i: number): Buffer {
  if (i % 2 === 0) return randomBytes(i % 600);
  const q = Buffer.from(encodeQuery(i & 0xffff, n.plain.name, 'TXT'));
  for (let k = 0; k < 1 + (i % 4); k++) q[(i * 7 + k * 13) % q.length] = randomBytes(1)[0]!;
  return q;
}

describe.skipIf(!ok)('malformed input', () => {
  const servers = nsdWithDnslinkd();

  it(`survives ${PACKETS} random and mutated UDP packets`, async () => {
    const sock = createSocket('udp4');
    let replies = 0;
    sock.on('message', () => replies++);
    for (let i = 0; i < PACKETS; i++) {
      sock.send(junk(i), servers.d.dnsPort, '127.0.0.1');
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5)); // let the server keep up
    }
    await new Promise((r) => setTimeout(r, 500));
    sock.close();
    expect(replies).toBeGreaterThan(0); // FORMERR (or answers to mutations that stayed valid)
    const r = await digAt(servers.d.dnsPort, n.plain.name, 'TXT');
    expect(r.parsed?.status).toBe('NOERROR');
  });

  it('survives random TCP streams, including absurd length prefixes and half frames', async () => {
    for (let c = 0; c < 30; c++) {
      await new Promise<void>((resolve) => {
        const s = connect(servers.d.dnsPort, '127.0.0.1', () => {
          const body = randomBytes(50 + c * 20);
          if (c % 3 === 0) body.writeUInt16BE(0xffff, 0); // claims 65535 bytes, sends few
          s.end(body);
        });
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.setTimeout(1000, () => s.destroy());
      });
    }
    const r = await digAt(servers.d.dnsPort, n.plain.name, 'TXT', ['+tcp']);
    expect(r.parsed?.status).toBe('NOERROR');
  });

  it('logged no error and counted the malformed packets', async () => {
    expect(servers.d.logs()).not.toMatch(/"level":(50|60)/);
    expect(await servers.d.metric('dnslinkd_malformed_packets_total')).toBeGreaterThan(0);
  });
});
