// The instance part of `dnslinkd status`: version, uptime, chain, listeners, workers, the cache,
// the upstreams and the ENS endpoints, a line or a few each. Every section may be missing (an
// older dnslinkd) and is then left out; the ENS section of /admin/v1/status is read loosely (its
// endpoints with a state and a last error, when it has them). Pure: an object in, lines out.
import type { StatusReport } from '../control/status-report.js';

/** 3725 -> "1h02m05s". */
export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  if (d > 0) return `${d}d${String(h).padStart(2, '0')}h${String(m).padStart(2, '0')}m`;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`;
  return m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

/** 1536 -> "1.5 KiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const pad = (rows: string[][]): string[] => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => `    ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd());
};

interface LooseEndpoint {
  url?: unknown;
  endpoint?: unknown;
  state?: unknown;
  healthy?: unknown;
  failing?: unknown;
  lastError?: unknown;
  lastErrorAt?: unknown;
  cause?: unknown;
}

/** An endpoint's last error as one line: the ENS stage's {cause, message, at}, or a plain string. */
function errorText(error: unknown, at: unknown): string {
  if (error === undefined || error === null) return '';
  if (typeof error === 'object') {
    const e = error as { cause?: unknown; message?: unknown; at?: unknown };
    const cause = typeof e.cause === 'string' ? e.cause : undefined;
    const message = typeof e.message === 'string' ? e.message : undefined;
    const when = typeof e.at === 'string' ? e.at : typeof at === 'string' ? at : undefined;
    if (cause !== undefined || message !== undefined) return `last error ${[cause, message].filter((x) => x !== undefined).join(': ')}${when ? ` at ${when}` : ''}`;
  }
  return `last error ${typeof error === 'string' ? error : JSON.stringify(error)}${typeof at === 'string' ? ` at ${at}` : ''}`;
}

/** The ENS section as the ENS stage reports it (its shape read loosely), or the endpoints configured. */
function ensLines(s: Partial<StatusReport> & { ens?: unknown }): string[] {
  const section = s.ens as { endpoints?: unknown; degraded?: unknown; enabled?: unknown } | undefined;
  const reported = section && Array.isArray(section.endpoints) ? (section.endpoints as LooseEndpoint[]) : undefined;
  if (reported && reported.length > 0) {
    const head = `ens:        ${reported.length} RPC endpoint${reported.length === 1 ? '' : 's'}${section?.degraded === true ? ', DEGRADED (every endpoint failing)' : ''}`;
    const rows = reported.map((e) => {
      const state = typeof e.state === 'string' ? e.state : e.healthy === false || e.failing === true ? 'failing' : e.healthy === true || e.failing === false ? 'ok' : '-';
      const error = e.lastError ?? e.cause;
      return [String(e.url ?? e.endpoint ?? '?'), state, errorText(error, e.lastErrorAt)];
    });
    return [head, ...pad(rows)];
  }
  const configured = s.ensEndpoints;
  if (!configured) return [];
  if (!configured.enabled) return ['ens:        off (no ens.rpc configured)'];
  return [`ens:        on, ${configured.endpoints.length} RPC endpoint${configured.endpoints.length === 1 ? '' : 's'}: ${configured.endpoints.join(', ')} (no health reported by this dnslinkd)`];
}

/** The lines before the control store's: empty when the status has no instance section. */
export function instanceLines(s: Partial<StatusReport> & { ens?: unknown }): string[] {
  const i = s.instance;
  if (!i) return [];
  const lines = [
    `dnslinkd:   ${i.version}, pid ${i.pid}, up ${duration(i.uptimeSeconds)} (since ${i.startedAt})`,
    `chain:      ${i.chain.join(' > ')}`,
    `listeners:  ${Object.entries(i.listeners).map(([role, at]) => `${role === 'dns' ? 'dns (udp+tcp)' : role} ${at}`).join(', ') || '-'}`,
  ];
  const processes = s.processes ?? [];
  lines.push(
    i.workers > 1 || processes.some((p) => p.worker !== undefined)
      ? `workers:    ${i.workers} (${processes.map((p) => `worker ${p.worker ?? '?'} pid ${p.pid}, up ${duration(p.uptimeSeconds)}`).join('; ')})`
      : 'workers:    1 (no --workers)',
  );
  const c = s.cache;
  if (c) {
    const ratio = c.hitRatio === null ? 'no questions yet' : `hit ratio ${(c.hitRatio * 100).toFixed(1)}% (${c.hits} hits, ${c.misses} misses)`;
    lines.push(`cache:      ${c.entries} entries, ${bytes(c.bytes)} of ${bytes(c.maxBytes)}; ${ratio}; ${c.staleServed} stale answers served`);
    if (processes.length > 1) lines.push(...pad(processes.map((p) => [`worker ${p.worker ?? '?'}`, `${p.cache.entries} entries`, bytes(p.cache.bytes), p.cache.hitRatio === null ? '-' : `hit ratio ${(p.cache.hitRatio * 100).toFixed(1)}%`, `${p.cache.staleServed} stale served`])));
  }
  if (s.upstreams) {
    lines.push(`upstreams:  ${s.upstreams.length ? `${s.upstreams.filter((u) => u.state === 'failing').length} of ${s.upstreams.length} failing` : 'none configured'}`);
    lines.push(
      ...pad(
        s.upstreams.map((u) => [
          u.url,
          u.state,
          u.lastAnswerAt ? `last answer ${u.lastAnswerAt}` : 'no answer yet',
          u.lastErrorAt ? `last error ${u.lastError ?? '?'} at ${u.lastErrorAt}` : '',
        ]),
      ),
    );
  }
  lines.push(...ensLines(s));
  return lines;
}
