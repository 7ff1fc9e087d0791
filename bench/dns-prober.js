#!/usr/bin/env node
// A steady stream of UDP queries to one name, from a process of its own (so the bench's own work
// does not delay it): one query every PROBE_INTERVAL_MS; on the message 'stop' it reports, over
// IPC, the queries sent and answered, the latencies and the longest gap between two answers.
// Used by bench/overrides-case.js: node bench/dns-prober.js <port> <qname> (forked).
import { createSocket } from 'node:dgram';
import { encodeQuery } from '../test/integration/support/raw.js';

const [port, qname] = [Number(process.argv[2]), process.argv[3]];
const intervalMs = Number(process.env.PROBE_INTERVAL_MS ?? 2);
const socket = createSocket('udp4');
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
const sentAt = new Map();
let latencies = [];
let sent = 0;
let lastAnswer;
let longestGap = 0;
socket.on('message', (msg) => {
  const at = sentAt.get(msg.readUInt16BE(0));
  if (at === undefined) return;
  sentAt.delete(msg.readUInt16BE(0));
  const now = performance.now();
  latencies.push(now - at);
  if (lastAnswer !== undefined) longestGap = Math.max(longestGap, now - lastAnswer);
  lastAnswer = now;
});
let id = 0;
const ticker = setInterval(() => {
  id = (id + 1) & 0xffff;
  sentAt.set(id, performance.now());
  sent++;
  socket.send(encodeQuery(id, qname, 'TXT'), port, '127.0.0.1');
}, intervalMs);
process.on('message', (msg) => {
  if (msg === 'reset') {
    latencies = [];
    sent = 0;
    longestGap = 0;
    lastAnswer = undefined;
    process.send({ reset: true });
  } else if (msg === 'stop') {
    clearInterval(ticker);
    setTimeout(() => {
      socket.close();
      process.send({ sent, answered: latencies.length, latencies, longestGap }, () => process.exit(0));
    }, 300);
  }
});
// The bench gone (it failed or was stopped): stop too.
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
