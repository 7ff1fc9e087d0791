// An address a listener cannot use, as the operator's problem: which listener, what went wrong
// (in use, not permitted, not on this host) and the setting, flag and variable that move it.
import { CodedError } from '../errors.js';

/** What a listener is for and what moves it, for the error when its address cannot be used. */
export interface ListenerRole {
  what: string;
  /** The setting, then the flag and variable that set it. */
  setting: string;
}

export const LISTENER_ROLES = {
  udp: { what: 'DNS over UDP', setting: 'dns.listen (--dns, DNSLINKD_DNS)' },
  tcp: { what: 'DNS over TCP', setting: 'dns.listen (--dns, DNSLINKD_DNS)' },
  http: { what: 'HTTP (DoH, /v1/dnslink, /metrics)', setting: 'http.listen (--http, DNSLINKD_HTTP)' },
  https: { what: 'HTTPS (DoH, /v1/dnslink)', setting: 'http.tls.listen (DNSLINKD_HTTP__TLS__LISTEN)' },
  admin: { what: 'the admin API', setting: 'admin.listen (--admin, DNSLINKD_ADMIN__LISTEN)' },
} as const satisfies Record<string, ListenerRole>;

/** System errors of binding an address, as the operator's problem: a code and what it means. */
const LISTEN_ERRORS: Record<string, { code: string; why: string }> = {
  EADDRINUSE: { code: 'ADDRESS_IN_USE', why: 'address already in use (EADDRINUSE: another process holds it)' },
  EACCES: { code: 'ADDRESS_NOT_PERMITTED', why: 'permission denied (EACCES: ports below 1024 need root or CAP_NET_BIND_SERVICE)' },
  EADDRNOTAVAIL: { code: 'ADDRESS_NOT_AVAILABLE', why: 'address not available (EADDRNOTAVAIL: no network interface of this host has it)' },
};

function listenErrorOf(err: unknown): { code: string; why: string } | undefined {
  const { code, syscall } = (err ?? {}) as NodeJS.ErrnoException;
  return (syscall === 'bind' || syscall === 'listen') && code ? LISTEN_ERRORS[code] : undefined;
}

const shownAddress = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Starts a listener; an address it cannot use becomes one CodedError naming the setting to change. */
export async function listenAs<T>(role: ListenerRole, host: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const known = listenErrorOf(err);
    if (!known) throw err;
    throw new CodedError(known.code, `cannot listen on ${shownAddress(host, port)} for ${role.what}: ${known.why}; choose another address with ${role.setting}`, { cause: err });
  }
}

