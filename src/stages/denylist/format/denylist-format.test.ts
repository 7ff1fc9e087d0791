// The IPIP-383 compact denylist format against the spec's examples (ipfs/specs
// src/compact-denylist-format.md) and nopfs's tester/test.deny: every rule kind, allow rules, the
// header, bad lines. Double hashes are computed here from the spec's construction (node:crypto and
// multiformats' base58btc), not with the module's own helper.
import { createHash } from 'node:crypto';
import { base58btc } from 'multiformats/bases/base58';
import { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { CodedError } from '../../../errors.js';
import { parseDenylist, parseDenylistAsync, type CompiledDenylist } from './index.js';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
/** The spec's modern double hash: base58btc of the sha2-256 multihash of `text`. */
const modern = (text: string): string => base58btc.baseEncode(Buffer.concat([Buffer.from([0x12, 0x20]), sha256(text)]));
/** The spec's legacy double hash: sha256 hex of `text`. */
const legacy = (text: string): string => sha256(text).toString('hex');
/** The multihash of a CID in base58btc (what `ipfs cid format -f '%M' -b base58btc` prints). */
const b58Multihash = (cid: string): string => base58btc.baseEncode(CID.parse(cid.startsWith('k') ? cid : cid).multihash.bytes);

function compile(lines: string[], name = 'test'): { list: CompiledDenylist; bad: Array<[number, string]> } {
  const bad: Array<[number, string]> = [];
  const list = parseDenylist(`${lines.join('\n')}\n`, { name, onBadLine: (line, message) => bad.push([line, message]) });
  return { list, bad };
}

describe('compact denylist: /ipfs/ rules', () => {
  it('blocks a CID by multihash, whatever its version, codec or base, and not another CID', () => {
    const { list } = compile(['/ipfs/bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq']);
    const rule = { list: 'test', rule: '/ipfs/bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq', line: 1, allow: false };
    expect(list.matchPath('/ipfs/bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq')).toEqual(rule);
    // test.deny's rule1: the same multihash as raw and as CIDv0
    expect(list.matchPath('/ipfs/bafkreihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq')).toEqual(rule);
    expect(list.matchPath('/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo')).toEqual(rule);
    // base36 of the same CID
    const base36 = CID.parse('bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq').toString(base58btc);
    expect(list.matchPath(`/ipfs/${base36}`)).toEqual(rule);
    expect(list.matchPath('/ipfs/bafybeidjwik6im54nrpfg7osdvmx7zojl5oaxqel5cmsz46iuelwf5acja')).toBeUndefined();
    expect(list.entries).toBe(1);
  });

  it('a CID rule decides the paths under it too (a gateway must fetch the root first), unless a later rule on the path allows it', () => {
    const { list } = compile(['/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo', '!/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo/public']);
    expect(list.matchPath('/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo/index.html')).toMatchObject({ line: 1, allow: false });
    expect(list.matchPath('/ipfs/QmesfgDQ3q6prBy2Kg2gKbW4MAGuWiRP2DVuGA5MZSERLo/public/')).toMatchObject({ line: 2, allow: true });
  });

  it('path rules: exact, `*` and `/*` prefixes (the spec example: equivalent rules)', () => {
    const { list } = compile([
      '/ipfs/Qmah2YDTfrox4watLCr3YgKyBwvjq8FJZEFdWY6WtJ3Xt2/test*',
      '/ipfs/QmTuvSQbEDR3sarFAN9kAeXBpiBCyYYNxdxciazBba11eC/test/*',
      '/ipfs/QmdWFA9FL52hx3j9EJZPQP1ZUH8Ygi5tLCX2cRDs6knSf8/*',
      '/ipfs/bafybeihrw75yfhdx5qsqgesdnxejtjybscwuclpusvxkuttep6h7pkgmze/exact/file.txt/',
    ]);
    for (const root of ['Qmah2YDTfrox4watLCr3YgKyBwvjq8FJZEFdWY6WtJ3Xt2', 'QmTuvSQbEDR3sarFAN9kAeXBpiBCyYYNxdxciazBba11eC']) {
      expect(list.matchPath(`/ipfs/${root}/test`)).toBeDefined();
      expect(list.matchPath(`/ipfs/${root}/test/a/b.html`)).toBeDefined();
      expect(list.matchPath(`/ipfs/${root}/testing`)).toBeDefined();
      expect(list.matchPath(`/ipfs/${root}/tes`)).toBeUndefined();
      expect(list.matchPath(`/ipfs/${root}`)).toBeUndefined();
    }
    // `/*` includes the empty path: the CID itself is blocked
    expect(list.matchPath('/ipfs/QmdWFA9FL52hx3j9EJZPQP1ZUH8Ygi5tLCX2cRDs6knSf8')).toMatchObject({ line: 3 });
    expect(list.matchPath('/ipfs/QmdWFA9FL52hx3j9EJZPQP1ZUH8Ygi5tLCX2cRDs6knSf8/x/y')).toMatchObject({ line: 3 });
    expect(list.matchPath('/ipfs/bafybeihrw75yfhdx5qsqgesdnxejtjybscwuclpusvxkuttep6h7pkgmze/exact/file.txt')).toMatchObject({ line: 4 });
    expect(list.matchPath('/ipfs/QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768/exact/file.txt/')).toMatchObject({ line: 4 });
    expect(list.matchPath('/ipfs/bafybeihrw75yfhdx5qsqgesdnxejtjybscwuclpusvxkuttep6h7pkgmze/exact/file.txt2')).toBeUndefined();
    expect(list.matchPath('/ipfs/bafybeihrw75yfhdx5qsqgesdnxejtjybscwuclpusvxkuttep6h7pkgmze')).toBeUndefined();
  });

  it('many prefixes on one root: each decides the paths it starts, the later rule for the same prefix wins', () => {
    const root = '/ipfs/QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768';
    const lines = Array.from({ length: 500 }, (_, i) => `${root}/dir${i}/*`);
    lines.push(`!${root}/dir7/*`, `${root}/a*`, `!${root}/ab*`);
    const { list } = compile(lines);
    expect(list.matchPath(`${root}/dir42/x.html`)).toMatchObject({ line: 43, allow: false });
    expect(list.matchPath(`${root}/dir7/x`)).toMatchObject({ line: 501, allow: true });
    expect(list.matchPath(`${root}/dir`)).toBeUndefined();
    expect(list.matchPath(`${root}/a`)).toMatchObject({ line: 502, allow: false });
    expect(list.matchPath(`${root}/abc`)).toMatchObject({ line: 503, allow: true });
    expect(list.matchPath(`${root}/dir499`)).toMatchObject({ line: 500 });
  });

  it('paths are %-decoded on both sides', () => {
    const { list } = compile(['/ipfs/QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768/my%20file.html']);
    expect(list.matchPath('/ipfs/QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768/my file.html')).toMatchObject({ line: 1 });
    expect(list.matchPath('/ipfs/QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768/my%20file.html')).toMatchObject({ line: 1 });
  });

  it('the last matching rule wins: the spec example of exceptions to a prefix', () => {
    const { list } = compile([
      '/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/blocked*',
      '!/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/blockednot',
      '!/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/blocked/not',
      '!/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/blocked/exceptions*',
    ]);
    const at = (path: string) => list.matchPath(`/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/${path}`);
    expect(at('blocked')).toMatchObject({ line: 1, allow: false });
    expect(at('blocked/yes')).toMatchObject({ line: 1, allow: false });
    expect(at('blockednot')).toEqual({ list: 'test', rule: '!/ipfs/QmUboz9UsQBDeS6Tug1U8jgoFkgYxyYood9NDyVURAY9pK/blockednot', line: 2, allow: true });
    expect(at('blocked/not')).toMatchObject({ line: 3, allow: true });
    expect(at('blocked/exceptions/a')).toMatchObject({ line: 4, allow: true });
    expect(at('other')).toBeUndefined();
  });

  it('skips rules on empty blocks and directories (nopfs\'s safe CIDs): not entries, not bad lines', () => {
    const { list, bad } = compile(['/ipfs/QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn', '/ipfs/bafkqaaa', '/ipfs/QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768']);
    expect(list.matchPath('/ipfs/QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn')).toBeUndefined();
    expect(list.matchPath('/ipfs/bafkqaaa')).toBeUndefined();
    expect(list.entries).toBe(1);
    expect(bad).toEqual([]);
  });
});

describe('compact denylist: /ipns/ rules', () => {
  it('blocks a DNSLink name (case and trailing dot aside), and the paths under it, not its subdomains', () => {
    const { list } = compile(['/ipns/domain.example']);
    expect(list.matchName('domain.example')).toEqual({ list: 'test', rule: '/ipns/domain.example', line: 1, allow: false });
    expect(list.matchName('Domain.EXAMPLE.')).toMatchObject({ line: 1 });
    expect(list.matchPath('/ipns/domain.example/any/path')).toMatchObject({ line: 1 });
    expect(list.matchName('sub.domain.example')).toBeUndefined();
    expect(list.matchName('domain.example.org')).toBeUndefined();
  });

  it('a `*` in a name is a bad line, not a rule that blocks nothing: the format has no wildcard for names', () => {
    const { list, bad } = compile(['/ipns/*', '/ipns/*.example', '/ipns/domain.example', '/ipns/domain.example/docs*']);
    expect(bad.map(([line]) => line)).toEqual([1, 2]);
    expect(bad[0]![1]).toMatch(/no wildcard for names/);
    expect(list.entries).toBe(2);
    expect(list.matchName('domain.example')).toMatchObject({ line: 3 });
    expect(list.matchName('other.example')).toBeUndefined();
  });

  it('a name with a path blocks that path only', () => {
    const { list } = compile(['/ipns/domain2.example/path']);
    expect(list.matchPath('/ipns/domain2.example/path')).toMatchObject({ line: 1 });
    expect(list.matchPath('/ipns/domain2.example/path2')).toBeUndefined();
    expect(list.matchName('domain2.example')).toBeUndefined();
  });

  it('reads a subdomain-gateway label as its DNS name', () => {
    const { list } = compile(['/ipns/en.wikipedia-on-ipfs.org']);
    expect(list.matchName('en-wikipedia--on--ipfs-org')).toMatchObject({ line: 1 });
  });

  it('blocks an IPNS key by multihash: base36, base32 and peer ID forms (test.deny rule8)', () => {
    const { list } = compile(['/ipns/k51qzi5uqu5dhmzyv3zac033i7rl9hkgczxyl81lwoukda2htteop7d3x0y1mf']);
    for (const key of ['k51qzi5uqu5dhmzyv3zac033i7rl9hkgczxyl81lwoukda2htteop7d3x0y1mf', 'bafzaajaiaejcaotjfs57kieazxny5japcmy5p2pgv2cic77tu6ogghttvurnrufx', '12D3KooWDkNqEJNmreF3NYYFK1ws7Ra2fuW6cHBTu567SPV3LdYA']) {
      expect(list.matchPath(`/ipns/${key}`)).toMatchObject({ line: 1, allow: false });
      expect(list.matchName(key)).toMatchObject({ line: 1 });
    }
    expect(list.matchPath('/ipns/k51qzi5uqu5dixwsch9wpd9rolqby1m0uqj5hhxwtxal0dwltastfmh01dlniq')).toBeUndefined();
  });

  it('the spec\'s negated example: a deny after an allow of the same name wins', () => {
    const { list } = compile(['!/ipns/my.domain', '/ipns/my.domain']);
    expect(list.matchName('my.domain')).toMatchObject({ line: 2, allow: false });
    const { list: reversed } = compile(['/ipns/my.domain', '!/ipns/my.domain']);
    expect(reversed.matchName('my.domain')).toMatchObject({ line: 2, allow: true, rule: '!/ipns/my.domain' });
  });
});

describe('compact denylist: //DOUBLE-HASH rules', () => {
  it('modern CID double hash: the spec example computed from its construction', () => {
    const hash = modern(b58Multihash('QmVTF1yEejXd9iMgoRTFDxBv7HAz9kuZcQNBzHrceuK9HR'));
    expect(hash).toBe('QmX9dhRcQcKUw3Ws8485T5a9dtjrSCQaUAHnG4iK9i4ceM');
    const { list } = compile([`//${hash}`]);
    expect(list.matchPath('/ipfs/QmVTF1yEejXd9iMgoRTFDxBv7HAz9kuZcQNBzHrceuK9HR')).toEqual({ list: 'test', rule: `//${hash}`, line: 1, allow: false });
    expect(list.matchPath('/ipfs/bafybeidjwik6im54nrpfg7osdvmx7zojl5oaxqel5cmsz46iuelwf5acja')).toMatchObject({ line: 1 });
    expect(list.matchPath('/ipfs/bafybeidjwik6im54nrpfg7osdvmx7zojl5oaxqel5cmsz46iuelwf5acja/sub')).toMatchObject({ line: 1 });
    expect(list.matchPath('/ipfs/QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768')).toBeUndefined();
  });

  it('modern path double hash: the spec note (QmecDg.../my/path)', () => {
    expect(b58Multihash('bafybeihrw75yfhdx5qsqgesdnxejtjybscwuclpusvxkuttep6h7pkgmze')).toBe('QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768');
    const hash = modern('QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768/my/path');
    expect(hash).toBe('QmSju6XPmYLG611rmK7rEeCMFVuL6EHpqyvmEU6oGx3GR8');
    const { list } = compile([`//${hash}`]);
    expect(list.matchPath('/ipfs/bafybeihrw75yfhdx5qsqgesdnxejtjybscwuclpusvxkuttep6h7pkgmze/my/path')).toMatchObject({ line: 1 });
    expect(list.matchPath('/ipfs/bafybeihrw75yfhdx5qsqgesdnxejtjybscwuclpusvxkuttep6h7pkgmze/my/path/')).toMatchObject({ line: 1 });
    expect(list.matchPath('/ipfs/bafybeihrw75yfhdx5qsqgesdnxejtjybscwuclpusvxkuttep6h7pkgmze/my/path2')).toBeUndefined();
    expect(list.matchPath('/ipfs/bafybeihrw75yfhdx5qsqgesdnxejtjybscwuclpusvxkuttep6h7pkgmze')).toBeUndefined();
  });

  it('modern IPNS double hashes: /ipns/NAME, /ipns/NAME/PATH and keys by multihash (test.deny rule14)', () => {
    expect(modern('/ipns/my.domain.com')).toBe('QmX6zeaAb8mC285YbXe4ac7LmX3jvrHBiFrw8kNnCM1bk4');
    expect(modern('/ipns/my.domain2.com/path')).toBe('QmcwfDuZYijxztHVR7w71WtdDaETsrGUU3ARWbNiYD3Hhp');
    const key = 'k51qzi5uqu5dixwsch9wpd9rolqby1m0uqj5hhxwtxal0dwltastfmh01dabcd';
    const keyHash = modern(b58Multihash(key));
    expect(keyHash).toBe('QmdGtYErkPjfpUPjVMUypoX8XTE9PUTBBF6KE9AwWaBs1e');
    const { list } = compile([`//${modern('/ipns/my.domain.com')}`, `//${modern('/ipns/my.domain2.com/path')}`, `//${keyHash}`]);
    expect(list.matchName('my.domain.com')).toMatchObject({ line: 1, rule: '//QmX6zeaAb8mC285YbXe4ac7LmX3jvrHBiFrw8kNnCM1bk4' });
    expect(list.matchPath('/ipns/my.domain2.com/path')).toMatchObject({ line: 2 });
    expect(list.matchName('my.domain2.com')).toBeUndefined();
    expect(list.matchName(key)).toMatchObject({ line: 3 });
    expect(list.matchName('other.domain.com')).toBeUndefined();
  });

  it('legacy double hashes: CIDv1 base32 with the trailing slash, CID paths, DNSLink names and IPNS keys (spec and test.deny)', () => {
    const cid = 'bafybeiefwqslmf6zyyrxodaxx4vwqircuxpza5ri45ws3y5a62ypxti42e';
    expect(legacy(`${cid}/`)).toBe('d9d295bde21f422d471a90f2a37ec53049fdf3e5fa3ee2e8f20e10003da429e7');
    expect(legacy(`${cid}/path`)).toBe('3f8b9febd851873b3774b937cce126910699ceac56e72e64b866f8e258d09572');
    expect(legacy('bad-domain-name.tld/')).toBe('c555c4de78827ba42527dd3dc5398db38d6c0a8c345a88e0158b2d100f317e50');
    const keyV1 = 'bafzaajaiaejca3vrvdzmu4qntwa2pn6apsd4ug5k63ckdyhnd3g6vdvgvujdw62s';
    const { list } = compile([`//${legacy(`${cid}/`)}`, `//${legacy(`${cid}/path`)}`, `//${legacy('bad-domain-name.tld/')}`, `//${legacy(`${keyV1}/`)}`]);
    expect(list.matchPath(`/ipfs/${cid}`)).toMatchObject({ line: 1, rule: '//d9d295bde21f422d471a90f2a37ec53049fdf3e5fa3ee2e8f20e10003da429e7' });
    expect(list.matchPath(`/ipfs/${CID.parse(cid).toV0().toString()}`)).toMatchObject({ line: 1 });
    expect(list.matchPath(`/ipfs/${cid}/path`)).toMatchObject({ line: 2 });
    expect(list.matchPath(`/ipfs/${cid}/other`)).toMatchObject({ line: 1 }); // the root's rule
    expect(list.matchName('bad-domain-name.tld')).toMatchObject({ line: 3 });
    expect(list.matchName('good-domain-name.tld')).toBeUndefined();
    // test.deny: the key in any form
    expect(list.matchName('k51qzi5uqu5dixwsch9wpd9rolqby1m0uqj5hhxwtxal0dwltastfmh01dlniq')).toMatchObject({ line: 4 });
    expect(list.matchName(keyV1)).toMatchObject({ line: 4 });
  });

  it('an allow rule after a double hash wins over it', () => {
    const { list } = compile([`//${legacy('phish.example/')}`, '!/ipns/phish.example']);
    expect(list.matchName('phish.example')).toMatchObject({ line: 2, allow: true });
  });

  it('the spec\'s blake3 path double hash (test.deny rule13): /path under the multihash, any CID of it, not /path2', () => {
    const { list, bad } = compile(['//gW813G35CnLsy7gRYYHuf63hrz71U1xoLFDVeV7actx6oX']);
    expect(bad).toEqual([]);
    expect(list.matchPath('/ipfs/bafyb4ieqht3b2rssdmc7sjv2cy2gfdilxkfh7623nvndziyqnawkmo266a/path')).toMatchObject({ line: 1, rule: '//gW813G35CnLsy7gRYYHuf63hrz71U1xoLFDVeV7actx6oX' });
    expect(list.matchPath('/ipfs/f01701e20903cf61d46521b05f926ba1634628d0bba8a7ffb5b6d5a3ca310682ca63b5ef0/path')).toMatchObject({ line: 1 });
    expect(list.matchPath('/ipfs/bafyb4ieqht3b2rssdmc7sjv2cy2gfdilxkfh7623nvndziyqnawkmo266a/path2')).toBeUndefined();
    expect(list.matchPath('/ipfs/bafyb4ieqht3b2rssdmc7sjv2cy2gfdilxkfh7623nvndziyqnawkmo266a')).toBeUndefined();
  });

  it('double hashes with another hash function (sha3-256) are matched with it', () => {
    const sha3 = base58btc.baseEncode(Buffer.concat([Buffer.from([0x16, 0x20]), createHash('sha3-256').update('/ipns/sha3.example').digest()]));
    const { list, bad } = compile([`//${sha3}`]);
    expect(bad).toEqual([]);
    expect(list.matchName('sha3.example')).toMatchObject({ line: 1 });
  });
});

describe('compact denylist: header, comments and bad lines', () => {
  it('reads the spec header (version, name, hints), counts its lines, and ignores comments, blank lines, CRLF and hints', () => {
    const text = [
      'version: 1',
      'name: Example IPFSCorp blocking list',
      'description: A collection of bad things we have found in the universe',
      'author: abuse-ipfscorp@example.com',
      'hints:',
      '  hint: value',
      '  hint2: "value 2"',
      '---',
      '# comment',
      '',
      '   ',
      '/ipns/domain.example hint:v1 hintB=v2\r',
      '/ipns/no-such-rule-kind-here nope',
    ].join('\n');
    const list = parseDenylist(text, { name: 'ex' });
    expect(list.header).toEqual({ version: '1', name: 'Example IPFSCorp blocking list', hints: { hint: 'value', hint2: 'value 2' } });
    expect(list.matchName('domain.example')).toEqual({ list: 'ex', rule: '/ipns/domain.example', line: 12, allow: false });
    expect(list.entries).toBe(2);
    expect(list.version).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('reports bad lines with their 1-based numbers (header lines counted) and applies the others', () => {
    const { list, bad } = compile(['name: x', '---', '/ipfs/not-a-cid', '/ipns/ok.example', '//zzz', 'example.com', '/ipfs/', '!/ipfs/QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768/%zz', '/ipns/ok2.example']);
    expect(bad.map(([line]) => line)).toEqual([3, 5, 6, 7, 8]);
    expect(list.badLines).toBe(5);
    expect(list.matchName('ok.example')).toMatchObject({ line: 4 });
    expect(list.matchName('ok2.example')).toMatchObject({ line: 9 });
    expect(list.entries).toBe(2);
  });

  it('an unsupported hash function (md5: 0xd5), a digest of the wrong length or an identity multihash is a bad line', () => {
    const md5 = base58btc.baseEncode(Buffer.concat([Buffer.from([0xd5, 0x01, 16]), createHash('md5').update('/ipns/x.example').digest()]));
    const shortSha = base58btc.baseEncode(Buffer.concat([Buffer.from([0x12, 20]), sha256('x').subarray(0, 20)]));
    const { bad } = compile([`//${md5}`, `//${shortSha}`, `//${base58btc.baseEncode(Buffer.from([0, 4, 1, 2, 3, 4]))}`]);
    expect(bad.map(([line]) => line)).toEqual([1, 2, 3]);
  });

  it('a header that is not YAML, or of another version, aborts the list (the spec says so)', () => {
    expect(() => parseDenylist('version: 2\n---\n/ipns/a.example\n', { name: 'x' })).toThrow(expect.objectContaining({ code: 'DENYLIST_UNSUPPORTED_VERSION' }));
    const err = (() => {
      try {
        parseDenylist('name: x\n  bad: [indent\n"unterminated\n---\n', { name: 'x' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CodedError);
    expect((err as CodedError).code).toBe('DENYLIST_INVALID_HEADER');
  });

  it('without a `---` line in the first MiB there is no header: every line is a rule', () => {
    const filler = Array.from({ length: 60_000 }, (_, i) => `/ipns/n${i}.example`); // 1.2 MB
    const { list, bad } = compile([...filler, '---', '/ipns/after.example']);
    expect(list.header).toEqual({ hints: {} });
    expect(list.matchName('n0.example')).toMatchObject({ line: 1 });
    expect(bad).toEqual([[60_001, expect.any(String)]]);
    expect(list.matchName('after.example')).toMatchObject({ line: 60_002 });
  });

  it('rules after a header that was not one keep their order: the later of two equal rules wins, bad lines come in order', () => {
    const filler = Array.from({ length: 60_000 }, (_, i) => `/ipns/n${i}.example`); // 1.2 MB, no `---`
    const { list, bad } = compile(['/ipns/same.example', 'bad one', ...filler, '!/ipns/same.example', 'bad two']);
    expect(list.matchName('same.example')).toMatchObject({ line: 60_003, allow: true });
    expect(bad.map(([line]) => line)).toEqual([2, 60_004]);
    // a line too long for the header scan ends it the same way
    const long = compile(['/ipns/same.example', `/ipns/${'x'.repeat(2 * 1024 * 1024)}`, '!/ipns/same.example']);
    expect(long.list.matchName('same.example')).toMatchObject({ line: 3, allow: true });
    expect(long.bad.map(([line]) => line)).toEqual([2]);
  });

  it('a line longer than 2 MiB is a bad line', () => {
    const { list, bad } = compile(['/ipns/a.example', `/ipns/${'x'.repeat(2 * 1024 * 1024)}`, '/ipns/b.example']);
    expect(bad.map(([line]) => line)).toEqual([2]);
    expect(list.matchName('b.example')).toMatchObject({ line: 3 });
  });

  it('parseDenylistAsync, fed in pieces cut anywhere, compiles the same list', async () => {
    const lines = ['version: 1', '---', '/ipfs/QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768/a*', `//${legacy('x.example/')}`, '/ipns/ünïcode.example', 'bad'];
    const text = `${lines.join('\n')}\n`;
    const sync = parseDenylist(text, { name: 'p' });
    for (const size of [1, 3, 7, 64]) {
      const bad: number[] = [];
      async function* pieces(): AsyncGenerator<string> {
        for (let at = 0; at < text.length; at += size) yield text.slice(at, at + size);
      }
      const list = await parseDenylistAsync(pieces(), { name: 'p', onBadLine: (line) => bad.push(line) });
      expect(list.version).toBe(sync.version);
      expect(list.entries).toBe(sync.entries);
      expect(bad).toEqual([6]);
      expect(list.matchPath('/ipfs/QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768/abc')).toEqual(sync.matchPath('/ipfs/QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768/abc'));
      expect(list.matchName('x.example')).toMatchObject({ line: 4 });
      expect(list.matchName('ünïcode.example')).toMatchObject({ line: 5, rule: '/ipns/ünïcode.example' });
    }
  });

  it('queries that are not content paths match nothing', () => {
    const { list } = compile(['/ipns/a.example']);
    for (const q of ['', '/', '/ipfs/', '/ipns/', 'a.example', '/ipld/x', '/ipfs/not-a-cid']) expect(list.matchPath(q)).toBeUndefined();
    expect(list.matchName('')).toBeUndefined();
  });
});
