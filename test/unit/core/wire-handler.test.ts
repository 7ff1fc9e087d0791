// The wire handler over a real core (no network): malformed input, opcodes, EDNS versions, ANY,
// forward off, local records, and SERVFAIL with an Extended DNS Error when no upstream answers.
import * as dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig, type JsonObject } from '../../../src/config/load.js';
import { Registry } from 'prom-client';
import { WireHandler } from '../../../src/core/wire-handler.js';
import { WireMetrics } from '../../../src/core/wire-metrics.js';
import { createResolverCore } from '../../../src/core/resolver-core.js';
import { EdeCode, Flag, Rcode } from '../../../src/dns/constants.js';
import { makeQuestion } from '../../../src/dns/names.js';
import { decodeResponse } from '../../../src/dns/upstream-codec.js';
import { UNLINKED, type Stage } from '../../../src/stages/stage.js';

function core(flags: JsonObject = {}) {
  const config = loadConfig({ env: {}, flags: { upstreams: [], ...flags }, resolvConf: '/nonexistent' });
  return createResolverCore(config, pino({ level: 'silent' }));
}

function query(name: string, type: dnsPacket.RecordType, options: { edns?: boolean; opcode?: number; id?: number } = {}): Buffer {
  const buf = dnsPacket.encode({
    type: 'query',
    id: options.id ?? 99,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type }],
    additionals: options.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0 } as dnsPacket.Answer] : [],
  });
  if (options.opcode) buf.writeUInt16BE(buf.readUInt16BE(2) | (options.opcode << 11), 2);
  return buf;
}

async function ask(c: ReturnType<typeof core>, packet: Buffer, udp = true) {
  const out = await c.wireHandler.handle(packet, 'udp', udp);
  return out;
}

describe('WireHandler', () => {
  it('answers local demo records authoritatively and synchronously', () => {
    const c = core();
    const out = c.wireHandler.handle(query('_dnslink.demo.dnslinkd.example', 'TXT'), 'udp', true);
    expect(out).toBeInstanceOf(Buffer);
    const decoded = dnsPacket.decode(out as Buffer);
    expect(decoded.flags! & Flag.AA).toBeTruthy();
    expect(String((decoded.answers?.[0] as { data?: unknown } | undefined)?.data)).toMatch(/^dnslink=\/ipfs\//);
  });

  it('answers NODATA for a local name asked for a type it lacks', async () => {
    const decoded = decodeResponse((await ask(core(), query('_dnslink.demo.dnslinkd.example', 'MX')))!);
    expect(decoded.rcode).toBe(Rcode.NOERROR);
    expect(decoded.answers).toHaveLength(0);
  });

  it('answers FORMERR for junk with a readable header and drops shorter junk', async () => {
    const c = core();
    const junk = Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff]);
    const out = await ask(c, junk);
    expect(out!.readUInt16BE(0)).toBe(0xabcd);
    expect(out!.readUInt16BE(2) & 0xf).toBe(Rcode.FORMERR);
    expect(await ask(c, Buffer.from([1, 2, 3]))).toBeNull();
    const metrics = await c.metrics.render();
    expect(metrics).toMatch(/dnslinkd_malformed_packets_total\{transport="udp",action="formerr"\} 1/);
    expect(metrics).toMatch(/dnslinkd_malformed_packets_total\{transport="udp",action="drop"\} 1/);
  });

  it('answers NOTIMP for other opcodes and BADVERS for EDNS version 1', async () => {
    const c = core();
    expect(decodeResponse((await ask(c, query('x.example', 'TXT', { opcode: 2 })))!).rcode).toBe(Rcode.NOTIMP);
    const v1 = query('x.example', 'TXT', { edns: true });
    v1[v1.length - 5] = 1; // OPT: ext-rcode, VERSION, flags(2), rdlength(2)
    expect(decodeResponse((await ask(c, v1))!).rcode).toBe(Rcode.BADVERS);
  });

  it('answers ANY with the RFC 8482 HINFO', async () => {
    const decoded = dnsPacket.decode((await ask(core(), query('example.com', 'ANY' as dnsPacket.RecordType)))!);
    expect(decoded.answers?.[0]).toMatchObject({ type: 'HINFO', data: { cpu: 'RFC8482' } });
  });

  it('refuses non-TXT questions when forward is off, with an EDE', async () => {
    const c = core({ dns: { forward: false } });
    const refused = decodeResponse((await ask(c, query('example.com', 'A', { edns: true })))!);
    expect(refused.rcode).toBe(Rcode.REFUSED);
    expect(refused.ede?.code).toBe(EdeCode.PROHIBITED);
    const txt = decodeResponse((await ask(c, query('_dnslink.demo.dnslinkd.example', 'TXT')))!);
    expect(txt.rcode).toBe(Rcode.NOERROR);
  });

  it('answers SERVFAIL with EDE 22 when no upstream can answer', async () => {
    const decoded = decodeResponse((await ask(core(), query('_dnslink.elsewhere.example', 'TXT', { edns: true })))!);
    expect(decoded.rcode).toBe(Rcode.SERVFAIL);
    expect(decoded.ede).toMatchObject({ code: EdeCode.NO_REACHABLE_AUTHORITY, text: expect.stringMatching(/no upstream/) });
  });

  it('counts queries by transport and rcode', async () => {
    const c = core();
    await ask(c, query('_dnslink.demo.dnslinkd.example', 'TXT'));
    expect(await c.metrics.render()).toMatch(/dnslinkd_queries_total\{transport="udp",rcode="NOERROR"\} 1/);
  });

  it('turns a stage that throws or rejects into SERVFAIL with EDE 0, never an exception', async () => {
    const throwing: Stage = { name: 'throwing', next: UNLINKED, resolve: () => { throw new Error('sync boom'); } };
    const rejecting: Stage = { name: 'rejecting', next: UNLINKED, resolve: () => Promise.reject(new Error('async boom')) };
    for (const [stage, text] of [[throwing, 'sync boom'], [rejecting, 'async boom']] as const) {
      const handler = new WireHandler(stage, { udpPayloadSize: 1232 }, new WireMetrics(new Registry()), pino({ level: 'silent' }));
      const wire = decodeResponse((await handler.handle(query('x.example', 'TXT', { edns: true }), 'udp', true))!);
      expect(wire.rcode).toBe(Rcode.SERVFAIL);
      expect(wire.ede).toEqual({ code: EdeCode.OTHER, text: `internal error: ${text}` });
      const res = await handler.answerQuestion(makeQuestion('x.example', 16), 'doh');
      expect(res).toMatchObject({ rcode: Rcode.SERVFAIL, source: 'error', ede: { code: EdeCode.OTHER } });
    }
  });

  it('answers SERVFAIL for a resolution the encoder cannot write, synchronous or late, never a rejection', async () => {
    const unwritable = { rcode: Rcode.NOERROR, answers: [{ name: 'x.example', type: 'MX', ttl: 60, data: 5 }], authorities: [], additionals: [], source: 'upstream' } as never;
    const now: Stage = { name: 'now', next: UNLINKED, resolve: () => unwritable };
    const later: Stage = { name: 'later', next: UNLINKED, resolve: () => Promise.resolve(unwritable) };
    for (const stage of [now, later]) {
      const handler = new WireHandler(stage, { udpPayloadSize: 1232 }, new WireMetrics(new Registry()), pino({ level: 'silent' }));
      const wire = dnsPacket.decode((await handler.handle(query('x.example', 'MX', { id: 4242 }), 'udp', true))!);
      expect(wire.id).toBe(4242);
      expect(wire.flags! & 0xf).toBe(Rcode.SERVFAIL);
      expect(wire.questions).toEqual([{ name: 'x.example', type: 'MX', class: 'IN' }]);
    }
  });
});
