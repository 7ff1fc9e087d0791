// Every Extended DNS Error text the ENS stage can produce is printable ASCII: a refused name (viem's
// ENSIP-15 message marks direction with an invisible U+200E), Unicode names and aliases, an
// unsupported or invalid contenthash, failing RPC endpoints and gateways, a fallback.
import { describe, expect, it } from 'vitest';
import { normalize } from 'viem/ens';
import { RRType, Rcode } from '../../../src/dns/constants.js';
import { makeQuestion } from '../../../src/dns/names.js';
import type { Resolution } from '../../../src/dns/resolution.js';
import { CodedError } from '../../../src/errors.js';
import type { EnsClient } from '../../../src/stages/ens/ens-client.js';
import { EnsStage } from '../../../src/stages/ens/ens-stage.js';
import { stageUnderTest } from '../../../src/stages/testing/harness.js';

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const IPFS = hex('e3010170122029f2d17be6139079dc48696d1f582a8530eb9805b561eda517e22a892c7e3f1f');
const SWARM = hex('e40101fa011b20d1de9994b4d039f6548d191eb26786769f580809256b4685ef316805265ea162');
const found = (contenthash: Uint8Array) => ({ found: true, contenthash, resolver: '0x0000000000000000000000000000000000000001', wildcard: false, ccipRead: false, rpc: '#1 http://rpc.test' });
const clientAnswering = (answer: () => Promise<unknown>) => ({ contenthash: answer }) as unknown as EnsClient;
const options = { ttl: 60, suffixes: ['eth'], mirrors: [], mirrorAddresses: { A: [], AAAA: [] }, aliases: { 'shop.example': 'bücher.eth' }, fallback: 'aliases' as const };
const nxdomain: Resolution = { rcode: Rcode.NXDOMAIN, answers: [], authorities: [], additionals: [], source: 'upstream' };

async function edeText(name: string, answer: () => Promise<unknown>): Promise<string | undefined> {
  const { stage } = stageUnderTest(new EnsStage(options, clientAnswering(answer)), nxdomain);
  return (await stage.resolve(makeQuestion(name, RRType.TXT), { caller: 'api' })).ede?.text;
}

describe('EDE texts of the ENS stage', () => {
  it('viem marks text direction in its refusal with U+200E: the case the stage must clean', () => {
    let message = '';
    try {
      normalize('a_b.eth');
    } catch (err) {
      message = (err as { shortMessage?: string }).shortMessage ?? String((err as Error).message);
    }
    expect(message).toContain('\u200e');
  });

  it('are printable ASCII, whatever the name, the contenthash or the failure', async () => {
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['_dnslink.a_b.eth', async () => found(IPFS)],
      ['_dnslink.xn--a-ecp.eth', async () => found(IPFS)], // punycode of a label ENSIP-15 refuses
      ['_dnslink.swarm.eth', async () => found(SWARM)],
      ['_dnslink.bad.eth', async () => found(hex('e301ffff'))],
      ['_dnslink.down.eth', async () => { throw new CodedError('ENS_RPC_FAILED', 'every ENS RPC endpoint failed: #1 http://rpc.test: JSON-RPC error -32000: h\u00e9ader \u200enot found'); }],
      ['_dnslink.gw.eth', async () => { throw new CodedError('CCIP_FAILED', 'CCIP-Read gateway failed: http://gw.test: the answer holds no hex "data"'); }],
      ['_dnslink.odd.eth', async () => { throw new Error('b\u00f6om\nsecond line'); }],
      ['shop.example', async () => found(IPFS)], // the fallback to an alias with a Unicode name
    ];
    const texts: string[] = [];
    for (const [name, answer] of cases) {
      const text = await edeText(name, answer);
      expect(text, name).toBeDefined();
      texts.push(text!);
      expect(text, name).toMatch(PRINTABLE_ASCII);
    }
    expect(texts[0]).toMatch(/^"a_b\.eth" is not a valid ENS name: Invalid label "a_b": underscore allowed only at start$/);
    expect(texts[4]).toContain('h{E9}ader not found');
    expect(texts[7]).toBe('ENS fallback: answered from ENS b{FC}cher.eth (DNS: no such name)');
  });
});
