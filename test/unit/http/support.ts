// In-process HTTP app for unit tests: a resolver core with local records only (no upstream), so
// every answer is deterministic, and fastify's inject() instead of sockets.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { createResolverCore, type ResolverCore } from '../../../src/core/resolver-core.js';
import { buildHttpApp } from '../../../src/listeners/http/http-listener.js';

export const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
export const CID2 = 'bafkreiadj22nmzm5o7uqd43fhkcvnko4o2kh3npx54yfo76fyor4d6kgje';

/** Local records the unit tests resolve. */
export const RECORDS = [
  { name: '_dnslink.plain.example', type: 'TXT', ttl: 60, data: `dnslink=/ipfs/${CID}` },
  { name: '_dnslink.hop1.example', type: 'TXT', ttl: 300, data: 'dnslink=/ipns/hop2.example/one' },
  { name: '_dnslink.hop2.example', type: 'TXT', ttl: 120, data: 'dnslink=/ipns/hop3.example/two' },
  { name: '_dnslink.hop3.example', type: 'TXT', ttl: 45, data: `dnslink=/ipfs/${CID2}/three` },
  { name: '_dnslink.two.example', type: 'TXT', ttl: 60, data: `dnslink=/ipfs/${CID}` },
  { name: '_dnslink.two.example', type: 'TXT', ttl: 60, data: `dnslink=/ipfs/${CID2}` },
  { name: '_dnslink.none.example', type: 'TXT', ttl: 60, data: 'hello=world' },
  { name: '_dnslink.loop-a.example', type: 'TXT', ttl: 60, data: 'dnslink=/ipns/loop-b.example' },
  { name: '_dnslink.loop-b.example', type: 'TXT', ttl: 60, data: 'dnslink=/ipns/loop-a.example' },
  { name: '_dnslink.multi.example', type: 'TXT', ttl: 60, data: ['dnslink=/ipfs/', CID, 'say "hi"\\'] },
  { name: '_dnslink.en.wikipedia-on-ipfs.example', type: 'TXT', ttl: 60, data: `dnslink=/ipfs/${CID}/wiki/` },
  { name: 'www.example', type: 'A', ttl: 30, data: '192.0.2.1' },
  { name: 'www.example', type: 'AAAA', ttl: 20, data: '2001:db8::1' },
];

export interface TestApp {
  app: FastifyInstance;
  core: ResolverCore;
  close(): Promise<void>;
}

/** `upstreams` defaults to none, so that every answer is deterministic. */
export async function buildTestApp(overrides: Record<string, unknown> = {}, upstreams: string[] = []): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-http-'));
  const file = join(dir, 'records.json');
  writeFileSync(file, JSON.stringify(RECORDS));
  const config = { ...configSchema.parse({ logLevel: 'silent', ...overrides }), upstreams, localRecords: file } as Config;
  const core = createResolverCore(config, pino({ level: 'silent' }));
  const app = await buildHttpApp(core, { bodyLimit: config.http.bodyLimit });
  return {
    app,
    core,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A DNS query in wire format (ID 0, RD, optional EDNS), ASCII name. */
export function wireQuery(name: string, type: number, opts: { id?: number; edns?: boolean } = {}): Buffer {
  const labels = name.split('.').filter(Boolean);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(opts.id ?? 0, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  if (opts.edns) header.writeUInt16BE(1, 10);
  parts.push(header);
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'utf8'));
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3);
  parts.push(tail);
  if (opts.edns) parts.push(Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]));
  return Buffer.concat(parts);
}
