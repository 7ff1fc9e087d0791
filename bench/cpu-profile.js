// Summaries of a V8 .cpuprofile (node --cpu-prof) for the bench's profiles (profile-udp.js,
// profile-doh.js): self time by layer (dnslinkd's folders under dist/, packages, Node's modules,
// GC, idle) and by function, counting only the samples within a window of the monotonic clock.
import { relative } from 'node:path';
import { repoRoot } from '../test/integration/support/index.js';

/** The layer a profile node's code belongs to: dnslinkd's folder under dist/, a package, Node's own, or V8's pseudo-nodes. */
export function layerOf(url, functionName) {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle (waiting for packets)';
    if (functionName === '(program)') return 'native (libuv, syscalls, addon, V8 runtime)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) {
    const mod = url.slice(5).replace(/^internal\//, 'internal/');
    if (/dgram|udp/.test(mod)) return 'node: dgram';
    if (/buffer/.test(mod)) return 'node: buffer';
    if (/timers|task_queues|process\/task|async_hooks|promise/.test(mod)) return 'node: timers, ticks, promises';
    return `node: ${mod.split('/').slice(0, 2).join('/')}`;
  }
  const path = url.replace(/^file:\/\//, '');
  const rel = relative(repoRoot, path);
  if (rel.startsWith('dist/')) {
    const parts = rel.slice(5).split('/');
    return `dnslinkd: ${parts.length > 1 ? parts.slice(0, parts[0] === 'stages' ? 2 : 1).join('/') : parts[0]}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return pkg ? `package: ${pkg[1]}` : rel;
}

/**
 * Self time per layer and per function (ms), from a .cpuprofile, counting only the samples taken
 * within [fromUs, toUs] of the monotonic clock (V8's profile timestamps and process.hrtime share it).
 */
export function summarize(profile, fromUs = -Infinity, toUs = Infinity) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs || at > toUs) continue;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const layers = new Map();
  const functions = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id);
    const layer = layerOf(callFrame.url, callFrame.functionName);
    layers.set(layer, (layers.get(layer) ?? 0) + us);
    const fn = `${callFrame.functionName || '(anonymous)'} ${callFrame.url ? `${relative(repoRoot, callFrame.url.replace(/^file:\/\//, '')).replace(/^dist\//, '')}:${callFrame.lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    total += us;
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, us]) => ({ name: k, ms: us / 1000, share: us / total }));
  return { totalMs: total / 1000, layers: sorted(layers), functions: sorted(functions) };
}

