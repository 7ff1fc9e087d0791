#!/usr/bin/env node
// A compact denylist of N rules compiled in process (issue 18): a generated, realistic mix (legacy
// and modern double hashes as Bad Bits writes them, CIDs in both versions, CID paths, path
// prefixes, DNSLink names, comments), compiled with parseDenylistAsync while the event loop's
// delay is watched (perf_hooks), then matched. Prints one JSON line: load time, RSS and heap
// before/after (after a GC, the list's text released), peak RSS, the longest event-loop pause,
// and lookups per second.
// Run (after npm run build): node bench/denylist-load.js generate N FILE (writes the list), then
// node --expose-gc bench/denylist-load.js load FILE N (measures; the list read from FILE as the
// sources do, so that the generator's garbage is not counted).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { base58btc } from 'multiformats/bases/base58';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { parseDenylistAsync } from '../dist/stages/denylist/format/index.js';

const sha256 = (text) => createHash('sha256').update(text).digest();
const mhOf = (i) => Digest.create(0x12, sha256(`content ${i}`));
const cidV1 = (i) => CID.createV1(i % 3 === 0 ? 0x55 : 0x70, mhOf(i)).toString();
const cidV0 = (i) => CID.createV0(mhOf(i)).toString();
const domain = (i) => `phish-${i.toString(36)}.example${i % 7}.com`;

/** Rule i of the mix; `kind` tells the query that the rule blocks. */
export function ruleOf(i) {
  const r = i % 20;
  if (r < 8) return { line: `//${sha256(`${cidV1(i)}/`).toString('hex')}`, query: `/ipfs/${cidV1(i)}` }; // legacy (Bad Bits)
  if (r < 10) return { line: `//${base58btc.baseEncode(Digest.create(0x12, sha256(base58btc.baseEncode(mhOf(i).bytes))).bytes)}`, query: `/ipfs/${cidV1(i)}` };
  if (r < 13) return { line: `/ipfs/${cidV1(i)}`, query: `/ipfs/${cidV0(i)}` };
  if (r < 14) return { line: `/ipfs/${cidV0(i)}`, query: `/ipfs/${cidV1(i)}` };
  if (r < 16) return { line: `/ipfs/${cidV1(i)}/wp-login/index.html`, query: `/ipfs/${cidV1(i)}/wp-login/index.html` };
  if (r < 17) return { line: `/ipfs/${cidV1(i)}/phish*`, query: `/ipfs/${cidV1(i)}/phishing/kit.js` };
  return { line: `/ipns/${domain(i)}`, query: `/ipns/${domain(i)}` };
}

export function generateList(n) {
  const lines = ['version: 1', 'name: generated bench list', 'hints:', '  gateway_status: 410', '---'];
  for (let i = 0; i < n; i++) {
    if (i % 10_000 === 0) lines.push(`# block ${i / 10_000}`);
    lines.push(ruleOf(i).line);
  }
  return `${lines.join('\n')}\n`;
}

const mb = (bytes) => +(bytes / 1024 / 1024).toFixed(1);

async function main() {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === 'generate') {
    writeFileSync(b, generateList(Number(a)));
    return;
  }
  const file = a;
  const n = Number(b);
  globalThis.gc?.();
  const before = process.memoryUsage();
  let text = readFileSync(file, 'utf8');
  const textMb = mb(Buffer.byteLength(text));
  globalThis.gc?.();
  const withText = process.memoryUsage();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let peakRss = withText.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  // A timer that should fire every 5 ms: the longest gap between two of its runs is the longest
  // time the event loop (the DNS port) was held.
  // On a loaded machine a gap also holds the time this process waited for a core: the CPU its main
  // thread used within the gap (process.threadCpuUsage) is what it would hold the loop on its own.
  const threadCpu = () => process.threadCpuUsage();
  let last = performance.now();
  let lastCpu = threadCpu();
  let longestGapMs = 0;
  let longestGapCpuMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    const cpuNow = threadCpu();
    longestGapMs = Math.max(longestGapMs, now - last);
    longestGapCpuMs = Math.max(longestGapCpuMs, (cpuNow.user + cpuNow.system - lastCpu.user - lastCpu.system) / 1000);
    last = now;
    lastCpu = cpuNow;
  }, 5);
  delay.enable();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const list = await parseDenylistAsync(text, { name: 'bench' });
  const loadMs = performance.now() - started;
  const loadCpu = process.cpuUsage(cpu);
  delay.disable();
  clearInterval(ticker);
  clearInterval(sampler);
  text = undefined;
  // Freed ArrayBuffers are released by a sweeper after the GC: give it its turn.
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(200);
  }
  const after = process.memoryUsage();
  if (list.entries !== n || list.badLines !== 0) throw new Error(`compiled ${list.entries} rules, ${list.badLines} bad lines (expected ${n}, 0)`);
  const samples = 20_000;
  let blocked = 0;
  const matchStart = performance.now();
  for (let k = 0; k < samples; k++) if (list.matchPath(ruleOf((k * 7919) % n).query)?.allow === false) blocked++;
  const matchUs = ((performance.now() - matchStart) * 1000) / samples;
  if (blocked !== samples) throw new Error(`${samples - blocked} of ${samples} listed queries not blocked`);
  let missed = 0;
  const missStart = performance.now();
  for (let k = 0; k < samples; k++) if (list.matchName(`unlisted-${k}.example.org`) === undefined) missed++;
  const missUs = ((performance.now() - missStart) * 1000) / samples;
  if (missed !== samples) throw new Error('an unlisted name matched');
  console.log(
    JSON.stringify({
      rules: n,
      textMb,
      loadMs: Math.round(loadMs),
      loadCpuMs: Math.round((loadCpu.user + loadCpu.system) / 1000),
      rssDeltaMb: mb(after.rss - before.rss),
      heapDeltaMb: mb(after.heapUsed - before.heapUsed),
      externalDeltaMb: mb(after.external + after.arrayBuffers - before.external - before.arrayBuffers),
      peakRssDeltaMb: mb(peakRss - before.rss),
      longestPauseMs: +longestGapMs.toFixed(1),
      longestPauseCpuMs: +longestGapCpuMs.toFixed(1),
      eventLoopDelayMaxMs: +(delay.max / 1e6).toFixed(1),
      eventLoopDelayP99Ms: +(delay.percentile(99) / 1e6).toFixed(1),
      matchListedUs: +matchUs.toFixed(2),
      matchUnlistedNameUs: +missUs.toFixed(2),
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
