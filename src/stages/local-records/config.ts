// Configuration of the local records stage: the top-level `localRecords` key (a file path, or
// null for none) and its default, the demo records shipped in fixtures/.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The demo records shipped with the package (fixtures/local-records.json). */
export const DEFAULT_LOCAL_RECORDS = fileURLToPath(new URL('../../../fixtures/local-records.json', import.meta.url));

/** Top-level keys owned by the local records stage. */
export const localRecordsRootKeys = {
  /** JSON file of local records; default: the demo records shipped in fixtures/. null: none. */
  localRecords: z.string().nullable().optional(),
};

/** The file to serve: the one configured, the demo file when the key is absent, none for null. */
export function localRecordsPath(configured: string | null | undefined): string | null {
  return configured === undefined ? DEFAULT_LOCAL_RECORDS : configured;
}
