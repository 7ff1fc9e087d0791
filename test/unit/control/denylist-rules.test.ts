// Operator denylist rules in the embedded store and their checks: one rule of the format, bounded,
// with a reason, before anything is stored; a record read back that fails its checks is skipped
// and reported, never served; the configuration's denylist keys refused with the key named.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { EmbeddedStore } from '../../../src/control/embedded-store.js';
import { InvalidRecords } from '../../../src/control/invalid-records.js';
import { parseStoredRule } from '../../../src/control/denylist-rule-records.js';
import { compileOperatorList, operatorRuleProblem, rulesInForce } from '../../../src/stages/denylist/operator-list.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-deny-'));
  dirs.push(dir);
  return dir;
};
const CID = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const rule = (id: string, text: string, extra: Record<string, unknown> = {}) => ({ id, rule: text, reason: 'phishing', by: 'ops', createdAt: '2026-12-01T00:00:00.000Z', ...extra });

describe('operator denylist rules', () => {
  it('takes one rule of the format and refuses anything else, saying why', () => {
    expect(operatorRuleProblem('/ipns/phish.example')).toBeUndefined();
    expect(operatorRuleProblem(`/ipfs/${CID}/path*`)).toBeUndefined();
    expect(operatorRuleProblem(`!/ipfs/${CID}`)).toBeUndefined();
    expect(operatorRuleProblem('/ipns/a.example\n/ipns/b.example')).toMatch(/control character/);
    expect(operatorRuleProblem('# a comment')).toMatch(/comment/);
    expect(operatorRuleProblem('/ipfs/not-a-cid')).toMatch(/not a rule/);
    expect(operatorRuleProblem(' /ipns/a.example')).toMatch(/white space/);
    expect(operatorRuleProblem(`/ipns/${'a'.repeat(5000)}.example`)).toMatch(/at most 4096/);
  });

  it('leaves expired rules out of the list in force, the last one added deciding', () => {
    const now = Date.parse('2026-12-02T00:00:00Z');
    const records = [
      rule('a', '/ipns/phish.example'),
      rule('b', '!/ipns/phish.example', { createdAt: '2026-12-01T01:00:00.000Z', expiresAt: '2026-12-01T12:00:00.000Z' }),
    ];
    expect(rulesInForce(records, now).map((r) => r.id)).toEqual(['a']);
    expect(compileOperatorList(records, now)?.matchName('phish.example')).toMatchObject({ allow: false, list: 'operator' });
    expect(compileOperatorList(records, Date.parse('2026-12-01T06:00:00Z'))?.matchName('phish.example')).toMatchObject({ allow: true });
    expect(compileOperatorList([], now)).toBeUndefined();
  });

  it('stores, reads back and removes a rule with its audit record; skips and reports an invalid one', async () => {
    const dir = tempDir();
    const invalid = new InvalidRecords();
    const store = EmbeddedStore.open(dir, { invalid });
    const audit = { token: 'ops', action: 'denylist.add' as const, name: '/ipns/phish.example', dryRun: false };
    expect(await store.changeDenylistRule({ add: rule('r1', '/ipns/phish.example') }, audit)).toBe(true);
    expect(await store.denylistRules()).toEqual([rule('r1', '/ipns/phish.example')]);
    await store.close();
    // A record written by hand, not by dnslinkd: not one rule.
    const db = new DatabaseSync(join(dir, 'control.db'));
    db.prepare('INSERT INTO denylist_rules (id, record) VALUES (?, ?)').run('bad', JSON.stringify(rule('bad', '/ipns/a.example\n/ipns/b.example')));
    db.close();
    const again = EmbeddedStore.open(dir, { invalid });
    expect((await again.denylistRules()).map((r) => r.id)).toEqual(['r1']);
    expect(invalid.count).toBe(1);
    expect(await again.changeDenylistRule({ remove: 'r1' }, { ...audit, action: 'denylist.remove' })).toBe(true);
    expect(await again.changeDenylistRule({ remove: 'r1' }, { ...audit, action: 'denylist.remove' })).toBe(false);
    expect((await again.audit({ limit: 10 })).map((r) => r.action)).toEqual(['denylist.remove', 'denylist.add']);
    await again.close();
  });

  it('checks a stored record field by field', () => {
    expect(parseStoredRule('r1', JSON.stringify(rule('r1', '/ipns/a.example')))).toHaveProperty('record');
    expect(parseStoredRule('r1', JSON.stringify(rule('r2', '/ipns/a.example')))).toMatchObject({ error: expect.stringMatching(/does not match the field/) });
    expect(parseStoredRule('r1', JSON.stringify({ ...rule('r1', '/ipns/a.example'), reason: '' }))).toMatchObject({ error: expect.stringMatching(/reason/) });
    expect(parseStoredRule('r1', '{nope')).toMatchObject({ error: expect.stringMatching(/not JSON/) });
  });

  it('refuses bad denylist configuration, naming the key', () => {
    const attempt = (denylist: unknown): string => {
      try {
        loadConfig({ env: { DNSLINKD_DENYLIST: JSON.stringify(denylist) }, flags: { upstreams: [], localRecords: null, dataDir: tempDir() } });
        return 'accepted';
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    };
    expect(attempt({ sources: [{ name: 'a', url: 'https://x.example/a.deny', file: '/tmp/a.deny' }] })).toMatch(/denylist\.sources\.0\.url.*exactly one of "url" or "file" \(got both\)/s);
    expect(attempt({ sources: [{ name: 'a', file: '/tmp/a' }, { name: 'a', file: '/tmp/b' }] })).toMatch(/denylist\.sources\.1\.name.*names two sources/s);
    expect(attempt({ sources: [{ name: 'operator', file: '/tmp/a' }] })).toMatch(/denylist\.sources\.0\.name/);
    expect(attempt({ sources: [{ name: 'a', file: '/tmp/a', refreshIntervalMs: 10 }] })).toMatch(/denylist\.sources\.0\.refreshIntervalMs/);
    expect(attempt({ answer: 'servfail' })).toMatch(/denylist\.answer/);
    expect(attempt({ maxNewlyBlockedPercent: 101 })).toMatch(/denylist\.maxNewlyBlockedPercent/);
    expect(attempt({ sources: [{ name: 'badbits', url: 'https://badbits.dwebops.pub/badbits.deny' }] })).toBe('accepted');
  });
});
