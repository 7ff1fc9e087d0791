// A stand-in for the IPIP-383 parser in the stage's unit tests: `/ipns/NAME`, `/ipfs/CID` (and
// `/ipfs/CID/PATH`) lines and their `!` allow forms, exact matches only, the last match deciding.
// Test support only (excluded from the build).
import { createHash } from 'node:crypto';
import type { CompiledDenylist, DenylistRuleRef } from '../list-types.js';

export function tinyList(name: string, text: string): CompiledDenylist {
  const rules: Array<{ rule: string; subject: string; line: number; allow: boolean }> = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const allow = line.startsWith('!');
    const rule = allow ? line.slice(1) : line;
    rules.push({ rule: line, subject: rule.toLowerCase(), line: i + 1, allow });
  });
  const last = (subject: string): DenylistRuleRef | undefined => {
    let found: DenylistRuleRef | undefined;
    for (const r of rules) if (r.subject === subject) found = { list: name, rule: r.rule, line: r.line, allow: r.allow };
    return found;
  };
  return {
    name,
    version: createHash('sha256').update(text).digest('hex'),
    entries: rules.length,
    header: { hints: {} },
    badLines: 0,
    matchName: (n) => last(`/ipns/${n.toLowerCase()}`),
    matchPath: (p) => last(p.toLowerCase()),
  };
}
