// Who the DNS listeners answer (like Unbound's access-control): `dns.allow` compiled once into a
// network set, loopback only when it is unset, everyone with `dns.openResolver`; and the start-time
// guard that refuses to serve other hosts as an open resolver by accident.
import type { Config } from '../config/schema.js';
import { splitHostPort } from '../config/units.js';
import { isLoopback } from '../control/config.js';
import { CodedError } from '../errors.js';
import { NetworkSet, parseNetwork, type ClientAddress, type ClientNetwork } from './client-address.js';
import type { ClientPolicyConfig } from './client-policy-config.js';

/** Unbound's default: only this host's own clients. */
const LOOPBACK_NETWORKS = ['127.0.0.0/8', '::1/128'] as const;

/** The clients the DNS listeners answer, tested per packet without allocating. */
export class AccessList {
  private constructor(
    /** null: every client. */
    private readonly networks: NetworkSet | null,
    /** What the start log says about it. */
    readonly description: string,
  ) {}

  static fromConfig(dns: Pick<ClientPolicyConfig, 'allow' | 'openResolver'>): AccessList {
    if (dns.allow) return new AccessList(new NetworkSet(dns.allow.map(compiledNetwork)), `dns.allow: ${dns.allow.join(', ')}`);
    if (dns.openResolver) return new AccessList(null, 'every client (dns.openResolver)');
    return new AccessList(new NetworkSet(LOOPBACK_NETWORKS.map(compiledNetwork)), 'loopback only (dns.allow unset)');
  }

  admits(address: ClientAddress): boolean {
    return this.networks === null || this.networks.has(address);
  }
}

function compiledNetwork(text: string): ClientNetwork {
  const network = parseNetwork(text);
  // The schema checked every entry: a string here is a bug, not an operator's mistake.
  if (typeof network === 'string') throw new Error(`dns.allow: ${network}`);
  return network;
}

/** The allow-list admits any address at all (0.0.0.0/0 or ::/0): an open resolver by another name. */
function admitsEveryone(allow: readonly string[]): boolean {
  const set = new NetworkSet(allow.map(compiledNetwork));
  return set.coversAllV4 || set.coversAllV6;
}

/**
 * Why this configuration must not start, or undefined: a DNS listener other hosts can reach, with
 * upstreams to forward to, that would answer anyone, without `dns.openResolver: true` saying so.
 */
export function openResolverRefusal(config: Pick<Config, 'dns' | 'upstreams'>): string | undefined {
  const { dns } = config;
  if (dns.openResolver || config.upstreams.length === 0 || isLoopback(splitHostPort(dns.listen).host)) return undefined;
  if (dns.allow && !admitsEveryone(dns.allow)) return undefined;
  const why = dns.allow ? `dns.allow admits every address (${dns.allow.join(', ')})` : 'dns.allow is not set';
  return (
    `dns.listen ${dns.listen} is reachable from other hosts and forwards to upstreams, and ${why}: ` +
    'that is an open resolver (amplification, cache snooping). Set dns.allow to your clients\' networks ' +
    '(e.g. ["10.0.0.0/8", "2001:db8::/32"]), or dns.openResolver: true to serve everyone on purpose'
  );
}

/**
 * What the start log should warn about, or undefined: a listener other hosts can reach that
 * answers loopback only (no upstreams, so the guard let it start, but no dns.allow either).
 */
export function unreachableClientsWarning(config: Pick<Config, 'dns'>): string | undefined {
  const { dns } = config;
  if (dns.allow || dns.openResolver || isLoopback(splitHostPort(dns.listen).host)) return undefined;
  return `dns.listen ${dns.listen} is reachable from other hosts, but dns.allow is not set: only loopback clients are answered (others get REFUSED); list your clients' networks in dns.allow`;
}

/** Throws CONFIG_INVALID when `openResolverRefusal` has a reason (the CLI prints it and exits 1). */
export function assertNotAccidentallyOpen(config: Pick<Config, 'dns' | 'upstreams'>): void {
  const refusal = openResolverRefusal(config);
  if (refusal) throw new CodedError('CONFIG_INVALID', refusal);
}
