// The prototype's servers, one per process, on 127.0.0.1:PORT (prints "listening" when up):
//   bare-batch ANSWER_HEX BATCH      every query answered with one pre-encoded answer (ID patched),
//                                    read with recvmmsg and sent with sendmmsg (bench/bare-dgram.js
//                                    is the same server on node:dgram)
//   dnslinkd-dgram UPSTREAM_PORT     dnslinkd's core behind its own UDP listener (node:dgram)
//   dnslinkd-batch UPSTREAM_PORT BATCH  the same core.wireHandler.handle behind the batched socket
// Usage: node bench/prototypes/recvmmsg/server.js MODE PORT ARG [BATCH]  (after npm run build and ./build.sh)
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const [mode, portArg, arg, batchArg] = process.argv.slice(2);
const port = Number(portArg);
const batch = Number(batchArg ?? 64);
const dist = new URL('../../../dist/', import.meta.url);

/** Opens the batched socket; `answerBatch(count, view)` fills output slots and returns how many. */
function openBatched(answerBatch) {
  const addon = require('./build/recvmmsg.node');
  let view;
  const sock = addon.open('127.0.0.1', port, batch, (count) => answerBatch(count, view));
  view = {
    in: new Uint8Array(sock.in),
    out: new Uint8Array(sock.out),
    inMeta: new Int32Array(sock.inMeta),
    outMeta: new Int32Array(sock.outMeta),
    slot: sock.slot,
    sendOne: (buf, address, toPort) => addon.sendOne(sock.handle, buf, address, toPort),
  };
  process.on('SIGTERM', () => {
    const [batches, datagrams, sendFailures] = addon.stats(sock.handle);
    console.log(`stats batches=${batches} datagrams=${datagrams} perBatch=${(datagrams / Math.max(1, batches)).toFixed(1)} sendFailures=${sendFailures}`);
    addon.close(sock.handle);
    process.exit(0);
  });
}

async function dnslinkdCore(upstreamPort) {
  const { loadConfig } = await import(new URL('config/load.js', dist).href);
  const { createResolverCore } = await import(new URL('core/resolver-core.js', dist).href);
  const { default: pino } = await import('pino');
  const config = loadConfig({
    env: {},
    flags: { upstreams: [`udp://127.0.0.1:${upstreamPort}`], localRecords: null, dataDir: mkdtempSync(join(tmpdir(), 'dnslinkd-proto-')) },
  });
  return createResolverCore(config, pino({ level: 'warn' }));
}

if (mode === 'bare-batch') {
  const answer = Buffer.from(arg, 'hex');
  openBatched((count, v) => {
    let k = 0;
    for (let i = 0; i < count; i++) {
      const len = v.inMeta[i * 3];
      if (len < 12) continue;
      const at = k * v.slot;
      v.out.set(answer, at);
      v.out[at] = v.in[i * v.slot];
      v.out[at + 1] = v.in[i * v.slot + 1];
      v.outMeta[k * 3] = answer.length;
      v.outMeta[k * 3 + 1] = v.inMeta[i * 3 + 1];
      v.outMeta[k * 3 + 2] = v.inMeta[i * 3 + 2];
      k++;
    }
    return k;
  });
} else if (mode === 'dnslinkd-dgram') {
  const core = await dnslinkdCore(Number(arg));
  const { startUdpListener } = await import(new URL('listeners/udp-listener.js', dist).href);
  const listener = await startUdpListener(core, '127.0.0.1', port);
  process.on('SIGTERM', () => listener.close().then(() => process.exit(0)));
} else if (mode === 'dnslinkd-batch') {
  const core = await dnslinkdCore(Number(arg));
  const { wireHandler } = core;
  openBatched((count, v) => {
    let k = 0;
    for (let i = 0; i < count; i++) {
      const len = v.inMeta[i * 3];
      if (len === 0) continue;
      // A copy: the slot is overwritten by the next batch while a miss is still resolving.
      const packet = Buffer.from(v.in.subarray(i * v.slot, i * v.slot + len));
      const address = v.inMeta[i * 3 + 1];
      const toPort = v.inMeta[i * 3 + 2];
      let out;
      try {
        out = wireHandler.handle(packet, 'udp', true);
      } catch (err) {
        console.error('handle failed', err);
        continue;
      }
      if (out === null) continue;
      if (out instanceof Promise) {
        out.then((late) => late && v.sendOne(late, address, toPort), (err) => console.error('late answer failed', err));
        continue;
      }
      if (out.length > v.slot) continue;
      v.out.set(out, k * v.slot);
      v.outMeta[k * 3] = out.length;
      v.outMeta[k * 3 + 1] = address;
      v.outMeta[k * 3 + 2] = toPort;
      k++;
    }
    return k;
  });
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
console.log(`listening 127.0.0.1:${port} ${mode}`);
