// Who the DNS listeners answer: dns.allow and its defaults, the open-resolver guard, the config
// errors that name the key, and what the wire handler sends a client the gate stopped.
import * as dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig, type JsonObject } from '../../../src/config/load.js';
import { createResolverCore } from '../../../src/core/resolver-core.js';
import { EdeCode, Flag, Rcode } from '../../../src/dns/constants.js';
import { decodeResponse } from '../../../src/dns/upstream-codec.js';
import { AccessList, openResolverRefusal, unreachableClientsWarning } from '../../../src/listeners/access-control.js';
import { ClientAddress, parseAddressInto } from '../../../src/listeners/client-address.js';
import { Admission } from '../../../src/core/admission.js';

const config = (flags: JsonObject, upstreams: string[] = ['udp://192.0.2.53:53']) =>
  loadConfig({ env: {}, flags: { upstreams, ...flags }, resolvConf: '/nonexistent' });
const admits = (list: AccessList, address: string) => list.admits(parseAddressInto(address, new ClientAddress()));

function query(edns: boolean): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name: '_dnslink.demo.dnslinkd.example', type: 'TXT' }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0 } as dnsPacket.Answer] : [],
  });
}

describe('dns.allow', () => {
  it('admits loopback only when unset, the listed networks when set, everyone with dns.openResolver', () => {
    const loopback = AccessList.fromConfig(config({}).dns);
    expect(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'].map((a) => admits(loopback, a))).toEqual([true, true, true, true]);
    expect(['10.0.0.1', '192.0.2.1', '::2', '2001:db8::1'].map((a) => admits(loopback, a))).toEqual([false, false, false, false]);

    const listed = AccessList.fromConfig(config({ dns: { allow: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'] } }).dns);
    expect(['10.255.0.1', '::ffff:10.1.1.1', '2001:db8:1::1', '192.0.2.7'].map((a) => admits(listed, a))).toEqual([true, true, true, true]);
    expect(['11.0.0.1', '127.0.0.1', '2001:db9::1', '192.0.2.8', 'not-an-address'].map((a) => admits(listed, a))).toEqual([false, false, false, false, false]);

    const open = AccessList.fromConfig(config({ dns: { openResolver: true } }).dns);
    expect(['203.0.113.9', '2001:db8::1'].map((a) => admits(open, a))).toEqual([true, true]);
  });

  it('stops the start on a bad entry or an empty list, naming the key', () => {
    expect(() => config({ dns: { allow: ['10.0.0.0/8', '10.0.0.0/40'] } })).toThrow(/dns\.allow\.1: "10\.0\.0\.0\/40": the prefix length must be 0-32/);
    expect(() => config({ dns: { allow: ['gateway.example'] } })).toThrow(/dns\.allow\.0: "gateway\.example" is not an IPv4 or IPv6 address/);
    expect(() => config({ dns: { allow: [] } })).toThrow(/dns\.allow: list at least one client network; .*dns\.openResolver/);
    expect(() => loadConfig({ env: { DNSLINKD_DNS__RATE_LIMIT__SLIP: '11' }, resolvConf: '/nonexistent' })).toThrow(/dns\.rateLimit\.slip/);
    expect(loadConfig({ env: { DNSLINKD_DNS__ALLOW: '["192.0.2.0/24"]' }, resolvConf: '/nonexistent' }).dns.allow).toEqual(['192.0.2.0/24']);
  });
});

describe('the open-resolver guard', () => {
  it('refuses a non-loopback listener that forwards without dns.allow, naming dns.allow and dns.openResolver', () => {
    for (const listen of ['0.0.0.0:53', '[::]:53', '192.0.2.1:53']) {
      const refusal = openResolverRefusal(config({ dns: { listen } }));
      expect(refusal).toMatch(/dns\.allow is not set/);
      expect(refusal).toMatch(/dns\.openResolver: true/);
    }
    expect(openResolverRefusal(config({ dns: { listen: '0.0.0.0:53', allow: ['0.0.0.0/0'] } }))).toMatch(/dns\.allow admits every address/);
  });

  it('lets it start on loopback, with an allow-list, on purpose, or with nothing to forward to', () => {
    expect(openResolverRefusal(config({ dns: { listen: '127.0.0.1:53' } }))).toBeUndefined();
    expect(openResolverRefusal(config({ dns: { listen: '[::1]:53' } }))).toBeUndefined();
    expect(openResolverRefusal(config({ dns: { listen: '0.0.0.0:53', allow: ['10.0.0.0/8'] } }))).toBeUndefined();
    expect(openResolverRefusal(config({ dns: { listen: '0.0.0.0:53', openResolver: true } }))).toBeUndefined();
    expect(openResolverRefusal(config({ dns: { listen: '0.0.0.0:53' } }, []))).toBeUndefined();
  });

  it('warns when a listener other hosts reach answers loopback only (nothing to forward, no dns.allow)', () => {
    expect(unreachableClientsWarning(config({ dns: { listen: '0.0.0.0:53' } }, []))).toMatch(/only loopback clients are answered.*dns\.allow/);
    expect(unreachableClientsWarning(config({ dns: { listen: '0.0.0.0:53', allow: ['10.0.0.0/8'] } }, []))).toBeUndefined();
    expect(unreachableClientsWarning(config({ dns: { listen: '127.0.0.1:53' } }, []))).toBeUndefined();
  });
});

describe('answers to a client the gate stopped', () => {
  const core = () => createResolverCore(config({}, []), pino({ level: 'silent' }));

  it('REFUSED with EDE 18 (when the client speaks EDNS; its text over TCP only), counted, the question echoed', async () => {
    const c = core();
    // Over UDP the EDE has no text: the refusal is at most 6 bytes larger than the query.
    const udpWire = c.wireHandler.answerStopped(query(true), 'udp', Admission.REFUSE)!;
    expect(decodeResponse(udpWire)).toMatchObject({ id: 4242, rcode: Rcode.REFUSED, ede: { code: EdeCode.PROHIBITED, text: '' } });
    expect(udpWire.length).toBeLessThanOrEqual(query(true).length + 6);
    const tcp = decodeResponse(c.wireHandler.answerStopped(query(true), 'tcp', Admission.REFUSE)!);
    expect(tcp).toMatchObject({ id: 4242, rcode: Rcode.REFUSED, ede: { code: EdeCode.PROHIBITED } });
    expect(tcp.ede?.text).toMatch(/dns\.allow/);
    const plain = c.wireHandler.answerStopped(query(false), 'tcp', Admission.REFUSE)!;
    expect(plain.readUInt16BE(2) & 0xf).toBe(Rcode.REFUSED);
    expect(plain.readUInt16BE(4)).toBe(1);
    expect(await c.metrics.render()).toMatch(/dnslinkd_queries_total\{transport="udp",rcode="REFUSED"\} 1/);
  });

  it('a slip is TC=1 with the question and no records; a drop is nothing', () => {
    const c = core();
    for (const edns of [false, true]) {
      const out = c.wireHandler.answerStopped(query(edns), 'udp', Admission.SLIP)!;
      expect(out.readUInt16BE(2) & Flag.TC).toBe(Flag.TC);
      expect(decodeResponse(out)).toMatchObject({ id: 4242, rcode: Rcode.NOERROR, truncated: true, answers: [] });
      expect(out.length).toBeLessThanOrEqual(query(edns).length + 11);
    }
    expect(c.wireHandler.answerStopped(query(true), 'udp', Admission.DROP)).toBeNull();
  });

  it('the gate refuses outsiders over UDP and TCP and rate limits UDP only', () => {
    const c = createResolverCore(config({ dns: { allow: ['10.0.0.0/8'], rateLimit: { responsesPerSecond: 2, slip: 1 } } }, []), pino({ level: 'silent' }), { now: () => 0 });
    expect(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((a) => c.clientGate.udp(a))).toEqual([Admission.ANSWER, Admission.ANSWER, Admission.SLIP, Admission.SLIP]);
    expect(c.clientGate.udp('192.0.2.1')).toBe(Admission.REFUSE);
    expect(c.clientGate.tcp('10.0.0.1')).toBe(Admission.ANSWER);
    expect(c.clientGate.tcp('192.0.2.1')).toBe(Admission.REFUSE);
    expect(c.clientGate.tcp(undefined)).toBe(Admission.REFUSE);
  });
});
