// Sustained cache-hit load on dnslinkd at 70% of its measured peak: UDP with dnsperf -Q (answers
// lost and p50/p99 from every query's latency, dnsperf -v) and DoH GET over HTTP/2 with TLS with
// h2load --rps (p50/p99 from its per-request log, --log-file; dnsperf 2.10's DoH mode fails against
// Node's HTTP/2 answers: "frame received when already having a dns msg").
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digAt, freePort, runTool, startDnslinkd } from '../test/integration/support/index.js';
import { makeSelfSignedCert } from '../test/integration/support/tls.js';
import { dohQuery } from './doh-case.js';
import { dnsperf, quantile } from './dnsperf.js';

const LOAD = 0.7;
const DOH_CONNECTIONS = 8;
const DOH_STREAMS = 16;
/**
 * dnsperf for the fixed-rate run: up to 4096 queries in flight, so latency spikes on a shared box do
 * not hold the rate below the one asked, and a 4 MB socket buffer (-b, KB): with the default one,
 * answers dnsperf is too busy to read are dropped at the client and counted as lost.
 */
const UDP_OUTSTANDING = 4096;
const UDP_CLIENT_BUFFER_KB = 4096;

/**
 * h2load over h2+TLS. Peak: as fast as it goes for `seconds`. With `rps` (per connection): exactly
 * rps x connections x seconds requests, so none is cut off in flight by the end of a duration and
 * every one not answered is lost, and p50/p99 from the per-request log. Returns req/s, lost and per-request times.
 */
async function h2loadTls(url, { seconds, rps }) {
  const logDir = mkdtempSync(join(tmpdir(), 'dnslinkd-h2load-'));
  const logFile = join(logDir, 'requests.tsv');
  const load = rps ? [`--rps=${rps}`, '-n', String(rps * DOH_CONNECTIONS * seconds), `--log-file=${logFile}`] : ['-D', String(seconds), '--warm-up-time=1'];
  const args = ['-c', String(DOH_CONNECTIONS), '-m', String(DOH_STREAMS), '-t', '1', ...load, url];
  const r = await runTool('h2load', args, (seconds * 2 + 30) * 1000);
  let percentiles = {};
  if (rps) {
    const durations = Float64Array.from(
      readFileSync(logFile, 'utf8').split('\n').flatMap((row) => {
        const [, status, micros] = row.split('\t');
        return status === '200' ? [Number(micros) / 1000] : [];
      }),
    ).sort();
    percentiles = { p50Ms: quantile(durations, 0.5), p99Ms: quantile(durations, 0.99) };
  }
  rmSync(logDir, { recursive: true, force: true });
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(r.stdout);
  const rate = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(r.stdout)?.[1] ?? NaN);
  if (!requests || !Number.isFinite(rate)) throw new Error(`h2load gave no result (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  const [, total, started, , succeeded, failed, errored, timeout] = requests.map(Number);
  const toMs = (v) => (v.endsWith('us') ? Number(v.slice(0, -2)) / 1000 : v.endsWith('ms') ? Number(v.slice(0, -2)) : Number(v.slice(0, -1)) * 1000);
  const times = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(r.stdout)?.slice(1).map(toMs) ?? [];
  const [minMs, maxMs, meanMs, stddevMs] = times;
  return { rps: rate, total, started, succeeded, lost: total - succeeded, failed, errored, timeout, minMs, maxMs, meanMs, stddevMs, ...percentiles };
}

/**
 * Runs the sustained case against one dnslinkd (UDP and a TLS listener) forwarding to `upstreams`.
 * `udpPeakQps`: the UDP peak measured earlier in the run (measured here for 5 s when absent).
 */
export async function runSustainedCase({ upstreams, queryFile, qname, seconds, clients, udpPeakQps, log = console.log }) {
  const cert = makeSelfSignedCert();
  const tlsPort = await freePort();
  const d = await startDnslinkd({ upstreams, config: { http: { tls: { listen: `127.0.0.1:${tlsPort}`, cert: cert.cert, key: cert.key } } } });
  try {
    const status = (await digAt(d.dnsPort, qname, 'TXT')).parsed?.status;
    if (status !== 'NOERROR') throw new Error(`sustained: dnslinkd answered ${status}`);
    const peak = udpPeakQps ?? (await dnsperf({ port: d.dnsPort, queryFile, seconds: 5, clients })).qps;
    const udpRate = Math.round(peak * LOAD);
    log(`sustained UDP: ${seconds}s at ${udpRate} qps (${LOAD * 100}% of ${Math.round(peak)})`);
    const udp = { rate: udpRate, ...(await dnsperf({ port: d.dnsPort, queryFile, seconds, clients, qps: udpRate, outstanding: UDP_OUTSTANDING, perQuery: true, extra: ['-b', String(UDP_CLIENT_BUFFER_KB)] })) };
    log(`  achieved ${Math.round(udp.qps)} qps, lost ${udp.lost} of ${udp.sent}, p50 ${udp.p50Ms.toFixed(3)} ms, p99 ${udp.p99Ms.toFixed(3)} ms, max ${udp.maxMs.toFixed(3)} ms (${udp.rcodes})`);

    const url = `https://127.0.0.1:${tlsPort}/dns-query?dns=${dohQuery(qname)}`;
    const dohPeak = (await h2loadTls(url, { seconds: 5 })).rps;
    const perConnection = Math.max(1, Math.round((dohPeak * LOAD) / DOH_CONNECTIONS));
    log(`sustained DoH (h2+TLS, GET, ${DOH_CONNECTIONS} connections): ${seconds}s at ${perConnection * DOH_CONNECTIONS} req/s (${LOAD * 100}% of ${Math.round(dohPeak)})`);
    const doh = { rate: perConnection * DOH_CONNECTIONS, peak: dohPeak, ...(await h2loadTls(url, { seconds, rps: perConnection })) };
    log(`  achieved ${Math.round(doh.rps)} req/s, lost ${doh.lost} of ${doh.total}, p50 ${doh.p50Ms.toFixed(3)} ms, p99 ${doh.p99Ms.toFixed(3)} ms, mean ${doh.meanMs?.toFixed(3)} ms, max ${doh.maxMs?.toFixed(3)} ms`);
    return { seconds, load: LOAD, udp: { peak, ...udp }, doh };
  } finally {
    await d.stop();
    cert.remove();
  }
}
