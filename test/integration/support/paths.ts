// Paths shared by the integration helpers.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const zonesDir = join(repoRoot, 'fixtures', 'zones');
export const localRecordsFile = join(repoRoot, 'fixtures', 'local-records.json');
export const cliEntry = join(repoRoot, 'bin', 'dnslinkd.js');
export const builtMain = join(repoRoot, 'dist', 'cli', 'main.js');

interface NameFixture {
  name: string;
  values?: string[];
  ttl?: number;
  cid?: string;
  [k: string]: unknown;
}

export interface ZoneManifest {
  origin: string;
  soaMinimum: number;
  names: Record<string, NameFixture> & {
    plain: NameFixture & { values: string[]; ttl: number; cid: string };
    long: NameFixture & { value: string; strings: string[] };
    multi: NameFixture & { strings: string[]; cid: string };
    utf8: NameFixture & { values: string[]; cid: string };
    bare: NameFixture & { values: string[]; cid: string };
    two: NameFixture & { values: string[] };
    big: NameFixture & { values: string[] };
    huge: NameFixture & { values: string[] };
    www: NameFixture & { a: string; aaaa: string };
    missing: NameFixture & { bare: string };
  };
}

/** Expected values for fixtures/zones/dnslink.test.zone (both written by fixtures/zones/generate.mjs). */
export const zone: ZoneManifest = JSON.parse(
  readFileSync(join(zonesDir, 'dnslink.test.json'), 'utf8'),
) as ZoneManifest;
