// The container's health check (`node dist/cli/healthcheck.js`): asks /livez on the HTTP listener
// the configuration names (DNSLINKD_CONFIG's file, then DNSLINKD_* variables, as `serve` reads
// them), so it follows a changed port. Exit 0 when alive; 1 with one line on stderr otherwise.
import { loadConfig } from '../config/load.js';
import { splitHostPort } from '../config/units.js';
import { CodedError } from '../errors.js';

const TIMEOUT_MS = 2_000;

/** Where to ask: the configured listener, with a wildcard address asked on loopback. */
function livenessUrl(listen: string): string {
  const { host, port } = splitHostPort(listen);
  const target = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${target.includes(':') ? `[${target}]` : target}:${port}/livez`;
}

/** Runs the check once: the exit code, and the line to print. */
async function checkLiveness(env: NodeJS.ProcessEnv = process.env): Promise<{ code: 0 | 1; line: string }> {
  let url: string;
  try {
    url = livenessUrl(loadConfig({ env }).http.listen);
  } catch (err) {
    const what = err instanceof CodedError ? `[${err.code}] ${err.message}` : String(err);
    return { code: 1, line: `dnslinkd healthcheck: cannot read the configuration: ${what}` };
  }
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.arrayBuffer();
    return res.ok ? { code: 0, line: `dnslinkd healthcheck: ${url} answered ${res.status}` } : { code: 1, line: `dnslinkd healthcheck: ${url} answered ${res.status}` };
  } catch (err) {
    const inner = (err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
    const cause = inner?.code ?? inner?.errors?.[0]?.code ?? inner?.message ?? (err as Error).name;
    return { code: 1, line: `dnslinkd healthcheck: ${url} did not answer (${cause})` };
  }
}

const result = await checkLiveness();
(result.code === 0 ? process.stdout : process.stderr).write(`${result.line}\n`);
process.exitCode = result.code;
