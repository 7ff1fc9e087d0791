// The one rule for upstream URLs, used by the configuration check and by the client:
// udp://host:port, tcp://host:port, https://host/dns-query (RFC 8484), http:// for loopback tests.
import { CodedError } from '../../errors.js';

export interface UpstreamEndpoint {
  url: string;
  protocol: 'udp' | 'tcp' | 'https' | 'http';
  host: string;
  port: number;
}

const DEFAULT_PORTS = { udp: 53, tcp: 53, https: 443, http: 80 } as const;
export const UPSTREAM_URL_FORMS = 'udp://host:port, tcp://host:port or https://host/dns-query';

/** Parses an upstream URL; throws CodedError(UPSTREAM_URL_INVALID) saying what is wrong. */
export function parseUpstreamUrl(raw: string): UpstreamEndpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CodedError('UPSTREAM_URL_INVALID', `upstream "${raw}" is not a URL`);
  }
  const protocol = url.protocol.slice(0, -1);
  if (protocol !== 'udp' && protocol !== 'tcp' && protocol !== 'https' && protocol !== 'http') {
    throw new CodedError('UPSTREAM_URL_INVALID', `upstream "${raw}" has unsupported scheme "${protocol}" (udp, tcp, https, http)`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new CodedError('UPSTREAM_URL_INVALID', `upstream "${raw}" has no host`);
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[protocol];
  return { url: raw, protocol, host, port };
}
