// Suite fixtures for vitest files (not exported from index.ts: the bench imports the support
// helpers without vitest): nsd serving the fixture zones with a dnslinkd in front of it, started
// before the suite's tests and stopped after them.
import { afterAll, beforeAll } from 'vitest';
import { startDnslinkd, type DnslinkdHandle, type DnslinkdOptions } from './dnslinkd.js';
import { startNsd, type NsdHandle } from './nsd.js';
import { stopAll } from './proc.js';

export interface NsdAndDnslinkd {
  nsd: NsdHandle;
  d: DnslinkdHandle;
}

/** Registers beforeAll/afterAll hooks; the returned object is filled in before the first test. */
export function nsdWithDnslinkd(options: Omit<DnslinkdOptions, 'upstreams'> = {}): NsdAndDnslinkd {
  const servers = {} as NsdAndDnslinkd;
  beforeAll(async () => {
    servers.nsd = await startNsd();
    servers.d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${servers.nsd.port}`], ...options });
  });
  afterAll(async () => {
    await servers.d?.stop();
    await servers.nsd?.stop();
    await stopAll();
  });
  return servers;
}

/** Registers beforeAll/afterAll hooks for nsd alone (the suite starts its own servers in front of it). */
export function nsdForSuite(): { nsd: NsdHandle } {
  const servers = {} as { nsd: NsdHandle };
  beforeAll(async () => {
    servers.nsd = await startNsd();
  });
  afterAll(async () => {
    await servers.nsd?.stop();
    await stopAll();
  });
  return servers;
}
