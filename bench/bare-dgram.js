// Lower bound for any Node DNS server: node:dgram answering each query with one pre-encoded
// answer, only the ID patched. Usage: node bench/bare-dgram.js PORT ANSWER_HEX
import { createSocket } from 'node:dgram';

const [portArg, hex] = process.argv.slice(2);
const answer = Buffer.from(hex ?? '', 'hex');
const sock = createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  if (msg.length < 12) return;
  const out = Buffer.from(answer);
  out[0] = msg[0];
  out[1] = msg[1];
  sock.send(out, rinfo.port, rinfo.address);
});
sock.bind(Number(portArg), '127.0.0.1', () => console.log(`listening 127.0.0.1:${portArg}`));
process.on('SIGTERM', () => sock.close(() => process.exit(0)));
