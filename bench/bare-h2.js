// Lower bound for any Node DoH server over HTTP/2 with TLS: a node:http2 secure server answering
// every stream with one fixed answer and the headers a DoH answer carries (raw stream API).
// Usage: node bench/bare-h2.js PORT ANSWER_HEX CERT_FILE KEY_FILE
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';

const [portArg, hex, certFile, keyFile] = process.argv.slice(2);
const answer = Buffer.from(hex ?? '', 'hex');
const server = http2.createSecureServer({ cert: readFileSync(certFile ?? ''), key: readFileSync(keyFile ?? '') });
server.on('stream', (stream) => {
  stream.respond({
    ':status': 200,
    'content-type': 'application/dns-message',
    'content-length': answer.length,
    'cache-control': 'max-age=60',
    'access-control-allow-origin': '*',
  });
  stream.end(answer);
});
server.listen(Number(portArg), '127.0.0.1', () => console.log(`listening 127.0.0.1:${portArg}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
