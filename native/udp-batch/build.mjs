// Builds native/udp-batch/build/udp-batch.node, dnslinkd's batched UDP transport, with the C++
// compiler straight (no node-gyp: it would download Node's headers, and Node's own headers are
// already on disk). Run by `npm install` (the prepare script); never fails the install: without a
// compiler or headers it prints one line and dnslinkd uses the node:dgram path (dns.udpBatching: auto).
// Headers: Node-API is ABI-stable and libuv 1.x keeps its ABI, so any Node's include/node works.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(dirname(here));
export const ADDON_PATH = join(here, 'build', 'udp-batch.node');

/** Where Node's headers (node_api.h and uv.h) may be: the first folder holding both is used. */
export function headerCandidates(env = process.env) {
  return [
    env.DNSLINKD_NODE_INCLUDE,
    // The official Node layout: bin/node beside include/node.
    join(dirname(dirname(process.execPath)), 'include', 'node'),
    // The npm `node` package (the project's Node 24) ships the whole Node tarball, headers included.
    join(root, 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`, 'include', 'node'),
    // Debian's libnode-dev (and the nodejs packages that ship headers).
    '/usr/include/node',
  ].filter((dir) => typeof dir === 'string' && dir.length > 0);
}

export function findHeaders(env = process.env) {
  return headerCandidates(env).find((dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'uv.h')));
}

/** Builds the addon; resolves to { built: true, path } or { built: false, reason } (never throws). */
export function buildAddon(env = process.env, out = ADDON_PATH) {
  // A build that fails leaves no addon from an earlier one: what runs is what this install built.
  rmSync(out, { force: true });
  if (process.platform !== 'linux') return { built: false, reason: `recvmmsg/sendmmsg are Linux-only (this is ${process.platform})` };
  const include = findHeaders(env);
  if (!include) return { built: false, reason: `no Node headers (node_api.h and uv.h) in ${headerCandidates(env).join(', ')}; set DNSLINKD_NODE_INCLUDE or install libnode-dev` };
  const cxx = env.CXX || 'g++';
  const tmp = `${out}.${process.pid}.tmp`;
  mkdirSync(dirname(out), { recursive: true });
  const args = ['-O2', '-std=c++17', '-shared', '-fPIC', '-Wall', '-Wno-missing-field-initializers', '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=udp_batch', `-I${include}`, '-o', tmp, join(here, 'udp-batch.cc')];
  const run = spawnSync(cxx, args, { env, encoding: 'utf8', timeout: 120_000 });
  if (run.error || run.status !== 0) {
    rmSync(tmp, { force: true });
    const why = run.error ? run.error.message : (run.stderr || '').trim().split('\n').slice(-3).join(' | ') || `exit ${run.status}`;
    return { built: false, reason: `${cxx} failed: ${why}` };
  }
  renameSync(tmp, out);
  return { built: true, path: out, include };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // --out FILE: build there instead (tests).
  const at = process.argv.indexOf('--out');
  const result = buildAddon(process.env, at > 0 && process.argv[at + 1] ? process.argv[at + 1] : ADDON_PATH);
  if (result.built) console.log(`dnslinkd: batched UDP addon built (${result.path}, headers ${result.include})`);
  else console.log(`dnslinkd: batched UDP addon not built, the node:dgram path will be used: ${result.reason}`);
}
