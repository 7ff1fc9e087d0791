// dns2 (the Node DNS library people reach for first) as a bench peer: its UDP server answering
// from a Map of upstream answers (asked once per name and type with dns2's own client), run as a
// child process. Standalone: node bench/peers/dns2.js --serve PORT UPSTREAM_PORT
import { fileURLToPath } from 'node:url';
import { digAt, exitedWith, spawnManaged, startOnFreePort, waitFor } from '../../test/integration/support/index.js';

const self = fileURLToPath(import.meta.url);
const TS_SUPPORT = new URL('../ts-support.mjs', import.meta.url).href;

/** Child-process mode: dns2.createServer, answers cached by "name type" in a Map. */
async function serve(port, upstreamPort) {
  const { default: DNS } = await import('dns2');
  const upstream = new DNS({ nameServers: ['127.0.0.1'], port: upstreamPort, recursive: false });
  /** "name type" -> the upstream's answer records (in flight: the promise of them). */
  const cache = new Map();
  const server = DNS.createServer({
    udp: true,
    handle: async (request, send) => {
      const response = DNS.Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const type = Object.keys(DNS.Packet.TYPE).find((k) => DNS.Packet.TYPE[k] === question.type);
      const key = `${question.name.toLowerCase()} ${type}`;
      let answers = cache.get(key);
      if (!answers) {
        answers = upstream.resolve(question.name, type).then((r) => r.answers);
        cache.set(key, answers);
        answers.catch(() => cache.delete(key));
      }
      response.answers = await answers;
      send(response);
    },
  });
  await server.listen({ udp: { port, address: '127.0.0.1', type: 'udp4' } });
  console.log('listening');
}

/** Starts the dns2 server in front of 127.0.0.1:`upstreamPort`; ready once `readyName` (TXT) answers NOERROR. */
export function startDns2({ upstreamPort, readyName }) {
  return startOnFreePort(
    undefined,
    (port) => {
      const proc = spawnManaged('dns2', process.execPath, ['--import', TS_SUPPORT, self, '--serve', String(port), String(upstreamPort)]);
      return { port, proc, stop: () => proc.stop() };
    },
    (handle, port) =>
      waitFor('dns2', async () => (await digAt(port, readyName, 'TXT')).parsed?.status === 'NOERROR', 10_000, { abortIf: exitedWith(handle.proc) }),
  );
}

if (process.argv[2] === '--serve') await serve(Number(process.argv[3]), Number(process.argv[4]));
