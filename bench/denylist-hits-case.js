#!/usr/bin/env node
// The denylist hits case, in process (no sockets): cache hits (wireHandler.handle over N cached names)
// with no list in force and with a 1,000,000-rule list in force (a mix of CIDs, CID paths, DNSLink
// names and double hashes), alternated in the same run; the list's parse time and the RSS it adds;
// and the longest event-loop stall while a version is applied (the cache walk that evicts what it
// changes). Run (after npm run build): node bench/denylist-hits-case.js [rules=1000000] [names=100000]
// bench/run.js runs it in a child process of its own (runDenylistCaseInChild: a clean RSS);
// BENCH_DENYLIST_RULES (1000000) and BENCH_DENYLIST_NAMES (100000) size it.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as dnsPacket from 'dns-packet';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { create as digestOf } from 'multiformats/hashes/digest';

const dist = new URL('../dist/', import.meta.url);

/** A list of `rules` rules: 60% /ipfs/CID, 10% /ipfs/CID/path, 15% /ipns/name, 15% //hash (legacy hex). */
export function denylistText(rules) {
  const lines = [];
  for (let i = 0; i < rules; i++) {
    const kind = i % 20;
    if (kind < 12 || (kind >= 12 && kind < 14)) {
      const hash = createHash('sha256').update(`cid ${i}`).digest();
      const cid = CID.create(1, raw.code, digestOf(0x12, hash)).toString();
      lines.push(kind < 12 ? `/ipfs/${cid}` : `/ipfs/${cid}/path/${i}`);
    } else if (kind < 17) lines.push(`/ipns/blocked${i}.example.org`);
    else lines.push(`//${createHash('sha256').update(`hash ${i}`).digest('hex')}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runDenylistHitsCase({ rules = 1_000_000, names = 100_000, rounds = 30, hitsPerRound = 100_000 } = {}) {
  const { loadConfig } = await import(new URL('config/load.js', dist).href);
  const { createResolverCore } = await import(new URL('core/resolver-core.js', dist).href);
  const { makeQuestion } = await import(new URL('dns/names.js', dist).href);
  const { parseDenylistAsync } = await import(new URL('stages/denylist/format/index.js', dist).href);
  const { default: pino } = await import('pino');
  const config = loadConfig({ env: {}, flags: { upstreams: ['udp://127.0.0.1:9'], localRecords: null, dataDir: mkdtempSync(join(tmpdir(), 'dnslinkd-deny-')) } });
  const core = await createResolverCore(config, pino({ level: 'warn' }));
  const nameOf = (i) => `_dnslink.n${i}.mem.test`;
  const packets = [];
  for (let i = 0; i < names; i++) {
    if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
    core.stages.cache.store.put(makeQuestion(nameOf(i), 16).key, {
      rcode: 0, source: 'upstream', upstream: 'udp://127.0.0.1:9', authorities: [], additionals: [],
      answers: [{ name: nameOf(i), type: 'TXT', class: 'IN', ttl: 3600, data: [`dnslink=/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/${i}`] }],
    });
    packets.push(dnsPacket.encode({ id: i & 0xffff, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: nameOf(i), type: 'TXT' }] }));
  }
  const { wireHandler } = core;
  const round = (count) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      const out = wireHandler.handle(packets[i % names], 'udp', true);
      if (out instanceof Promise) throw new Error('a hit went async');
    }
    return Number(process.hrtime.bigint() - started) / count;
  };
  for (let i = 0; i < 20; i++) round(10_000);

  // The list: generated, then parsed (in slices) while the event loop is watched.
  const text = denylistText(rules);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const parseStarted = performance.now();
  const list = await parseDenylistAsync(text, { name: 'bench' });
  const parseSeconds = (performance.now() - parseStarted) / 1000;
  global.gc?.();
  const rssListMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;

  // Applied as a new version (the guard skipped: an operator list): the walk over the cache yields.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const applyStarted = performance.now();
  await core.denylist.setOperatorList(list);
  const applySeconds = (performance.now() - applyStarted) / 1000;
  delay.disable();
  const applyMaxStallMs = delay.max / 1e6;
  const inForce = core.stages.denylist.lists.all;

  // Alternated: no list, then the list, `rounds` times; the medians compared.
  const none = [];
  const withList = [];
  for (let r = 0; r < rounds; r++) {
    core.stages.denylist.lists.replace([]);
    none.push(round(hitsPerRound));
    core.stages.denylist.lists.replace(inForce);
    withList.push(round(hitsPerRound));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // Short rounds, many of them, alternated: a busy machine slows some rounds of either kind; the
  // fastest round of each (and the median beside it) is what the code costs.
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const nsNone = Math.min(...none);
  const nsList = Math.min(...withList);
  const result = {
    rules,
    entries: list.entries,
    badLines: list.badLines,
    names,
    parseSeconds: +parseSeconds.toFixed(2),
    rssListMb: +rssListMb.toFixed(0),
    applySeconds: +applySeconds.toFixed(2),
    applyMaxStallMs: +applyMaxStallMs.toFixed(1),
    rounds,
    hitsPerRound,
    nsPerHitNone: +nsNone.toFixed(1),
    nsPerHitWithList: +nsList.toFixed(1),
    medianNsPerHitNone: +median(none).toFixed(1),
    medianNsPerHitWithList: +median(withList).toFixed(1),
    hitCostRatio: +(nsList / nsNone).toFixed(3),
    withinFivePercent: nsList <= nsNone * 1.05,
  };
  await core.denylist.stop();
  return result;
}

/** The case in a child process (its own heap and RSS); prints and resolves to its figures. */
export function runDenylistHitsCaseInChild({ rules = Number(process.env.BENCH_DENYLIST_RULES ?? 1_000_000), names = Number(process.env.BENCH_DENYLIST_NAMES ?? 100_000) } = {}) {
  console.log(`denylist hits: cache hits over ${names} names with no list and with a ${rules}-rule list in force (alternated, same run); parse time, RSS, apply stall`);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), String(rules), String(names)], { timeout: 30 * 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`denylist case failed: ${stderr || err.message}`));
      const result = JSON.parse(stdout.trim().split('\n').pop());
      console.log(`  parse ${result.parseSeconds} s, +${result.rssListMb} MB RSS, applied in ${result.applySeconds} s (longest stall ${result.applyMaxStallMs} ms); hit ${result.nsPerHitNone} ns without, ${result.nsPerHitWithList} ns with (fastest of ${result.rounds} alternated rounds; medians ${result.medianNsPerHitNone} and ${result.medianNsPerHitWithList}) (x${result.hitCostRatio}: ${result.withinFivePercent ? 'within' : 'NOT within'} 5%)`);
      resolve(result);
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runDenylistHitsCase({ rules: Number(process.argv[2] ?? 1_000_000), names: Number(process.argv[3] ?? 100_000) });
  console.log(JSON.stringify(result));
  process.exit(0);
}
