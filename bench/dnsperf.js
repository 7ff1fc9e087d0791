// One dnsperf run for the bench cases: arguments from a few options, its summary parsed (qps,
// sent, lost, response codes, avg/stddev/min/max latency) and, with `perQuery`, every query's
// latency from `-v` (p50/p99). Output goes to a temp file, read after the run: a pipe the bench
// reads while dnsperf runs could stall dnsperf's writes and make it miss answers (counted lost).
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The q-th quantile (0..1) of an ascending array, in the array's unit. */
export const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

/** Exit code of the command, its stdout written to `file` (null when killed after `timeoutMs`). */
function runToFile(cmd, args, file, timeoutMs) {
  const fd = openSync(file, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', fd, 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      closeSync(fd);
      resolve({ code, stderr });
    });
  });
}

/** Summary lines of dnsperf's output and, from the "> RCODE name type seconds" lines, the answered queries' latencies in ms, ascending. */
async function readOutput(file, perQuery) {
  const summary = [];
  let latencies = new Float64Array(perQuery ? 1 << 16 : 0);
  let count = 0;
  for await (const line of createInterface({ input: createReadStream(file) })) {
    if (!line.startsWith('> ')) {
      summary.push(line);
      continue;
    }
    const seconds = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!perQuery || !Number.isFinite(seconds)) continue; // "> T name type": a lost query, no latency
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = seconds * 1000;
  }
  return { text: summary.join('\n'), latencies: latencies.subarray(0, count).sort() };
}

/**
 * Runs dnsperf against 127.0.0.1:`port` with `queryFile` for `seconds`: `clients` clients, one
 * thread, `outstanding` queries at most (-q, 256), 2 s timeout; `qps` caps the rate (-Q); `extra` is appended.
 */
export async function dnsperf({ port, queryFile, seconds, clients, qps, outstanding = 256, perQuery = false, extra = [] }) {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(seconds), '-c', String(clients), '-T', '1', '-q', String(outstanding), '-t', '2'];
  if (qps) args.push('-Q', String(Math.round(qps)));
  if (perQuery) args.push('-v');
  args.push(...extra);
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-dnsperf-'));
  try {
    const file = join(dir, 'out.txt');
    const { code, stderr } = await runToFile('dnsperf', args, file, (seconds + 30) * 1000);
    const { text, latencies } = await readOutput(file, perQuery);
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
    if (!Number.isFinite(out.qps)) throw new Error(`dnsperf gave no result (exit ${code}):\n${text}\n${stderr}`);
    // p50/p99 over the answered queries (NaN p99 when more than 1% were lost).
    if (perQuery) Object.assign(out, { p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) });
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
