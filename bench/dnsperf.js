// One dnsperf run for the bench cases: arguments from a few options, its summary parsed (qps,
// sent, lost, response codes, avg/stddev/min/max latency) and, with `perQuery`, every query's
// latency read from `-v` as it streams (p50/p99), so long runs do not buffer their output.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** The q-th quantile (0..1) of an ascending array, in the array's unit. */
export const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

/**
 * Runs dnsperf against 127.0.0.1:`port` with `queryFile` for `seconds`: `clients` clients, one
 * thread, `outstanding` queries at most (-q, 256), 2 s timeout; `qps` caps the rate (-Q); `extra` is appended.
 */
export function dnsperf({ port, queryFile, seconds, clients, qps, outstanding = 256, perQuery = false, extra = [] }) {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(seconds), '-c', String(clients), '-T', '1', '-q', String(outstanding), '-t', '2'];
  if (qps) args.push('-Q', String(Math.round(qps)));
  if (perQuery) args.push('-v');
  args.push(...extra);
  return new Promise((resolve, reject) => {
    const child = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    const summary = [];
    let stderr = '';
    let latencies = perQuery ? new Float64Array(1 << 16) : undefined;
    let count = 0;
    child.stderr.on('data', (chunk) => (stderr += chunk));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('> ')) return summary.push(line);
      if (!latencies) return;
      const seconds = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (!Number.isFinite(seconds)) return; // "> T name type": a lost query, no latency (p50/p99 are over answered ones)
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = seconds * 1000;
    });
    child.on('error', (err) => reject(err));
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = summary.join('\n');
      const num = (re) => Number(re.exec(text)?.[1] ?? NaN);
      const out = {
        qps: num(/Queries per second:\s+([\d.]+)/),
        sent: num(/Queries sent:\s+(\d+)/),
        completed: num(/Queries completed:\s+(\d+)/),
        lost: num(/Queries lost:\s+(\d+)/),
        rcodes: /Response codes:\s+(.*)/.exec(text)?.[1] ?? '',
        latencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
        minMs: num(/Average Latency \(s\):.*\(min ([\d.]+)/) * 1000,
        maxMs: num(/Average Latency \(s\):.*max ([\d.]+)\)/) * 1000,
        stddevMs: num(/Latency StdDev \(s\):\s+([\d.]+)/) * 1000,
      };
      if (!Number.isFinite(out.qps)) return reject(new Error(`dnsperf gave no result (exit ${code}):\n${text}\n${stderr}`));
      if (latencies) {
        const sorted = latencies.subarray(0, count).sort();
        Object.assign(out, { p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) });
      }
      resolve(out);
    });
  });
}
