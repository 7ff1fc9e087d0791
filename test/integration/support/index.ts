// Integration-test helpers: real DNS servers (nsd, unbound) and clients (dig, kdig) on 127.0.0.1.
export * from './binaries.js';
export * from './counting-proxy.js';
export * from './dig.js';
export * from './dnslinkd.js';
export * from './hostile-dns.js';
export * from './metrics.js';
export * from './nsd.js';
export * from './paths.js';
export * from './ports.js';
export * from './proc.js';
export * from './raw.js';
export * from './redis.js';
export * from './unbound.js';
