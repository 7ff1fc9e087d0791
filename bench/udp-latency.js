#!/usr/bin/env node
// A UDP client at a fixed rate, for latency over time (bench/snapshot-case.js): TXT queries for
// `<prefix><i>.<zone>`, i drawn at random below `names`, one socket, every query's send time (ms
// since the epoch) and round trip (ms; -1 when no answer came within 2 s, or the answer was not
// NOERROR) written as JSON to stdout when done.
// Run: node bench/udp-latency.js PORT QPS SECONDS NAMES PREFIX ZONE
import { createSocket } from 'node:dgram';

const [port, qps, seconds, names, prefix, zone] = process.argv.slice(2);
const rate = Number(qps);
const total = rate * Number(seconds);
const TIMEOUT_MS = 2000;

function query(id, name) {
  const labels = name.split('.').map((label) => Buffer.from(label, 'latin1'));
  const out = Buffer.alloc(12 + labels.reduce((n, l) => n + l.length + 1, 0) + 5);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(0x0100, 2);
  out.writeUInt16BE(1, 4);
  let at = 12;
  for (const label of labels) {
    out[at++] = label.length;
    at += label.copy(out, at);
  }
  out.writeUInt16BE(16, at + 1); // TXT
  out.writeUInt16BE(1, at + 3); // IN
  return out;
}

const sentAt = new Float64Array(total);
const rtt = new Float64Array(total).fill(-1);
/** Query index by DNS id (ids wrap at 65536: at most 65536 queries in flight). */
const byId = new Int32Array(65536).fill(-1);
const started = new Float64Array(total);
const socket = createSocket('udp4');
socket.on('message', (msg) => {
  const at = performance.now();
  const i = byId[msg.readUInt16BE(0)];
  if (i < 0 || rtt[i] >= 0) return;
  if ((msg[3] & 0x0f) === 0) rtt[i] = at - started[i];
});
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));

let sent = 0;
const t0 = performance.now();
await new Promise((resolve) => {
  const tick = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    for (; sent < due; sent++) {
      const id = sent & 0xffff;
      byId[id] = sent;
      started[sent] = performance.now();
      sentAt[sent] = performance.timeOrigin + started[sent];
      socket.send(query(id, `${prefix}${Math.floor(Math.random() * Number(names))}.${zone}`), Number(port), '127.0.0.1');
    }
    if (sent >= total) {
      clearInterval(tick);
      resolve();
    }
  }, 1);
});
await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS));
socket.close();
for (let i = 0; i < total; i++) if (rtt[i] > TIMEOUT_MS) rtt[i] = -1;
process.stdout.write(JSON.stringify({ sentAt: Array.from(sentAt), rtt: Array.from(rtt, (v) => Math.round(v * 1000) / 1000) }));
