// The denylists kept in the data dir: <dataDir>/denylists/<name>.deny (the newest version read),
// <name>.previous.deny (the one before it) and <name>.meta.json (their versions, the source they
// came from and its ETag / Last-Modified), so that a restart without network still blocks and a
// version held by the guard and the one applied both survive it. Writes are atomic (temp + rename).
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface KeptMeta {
  /** The URL or file the kept versions came from. */
  source: string;
  version: string;
  etag?: string;
  lastModified?: string;
  previousVersion?: string;
  /** The version the stage applied, copied to <name>.applied.deny: kept however many newer ones the guard holds. */
  appliedVersion?: string;
  savedAt: string;
}

export class KeptLists {
  readonly dir: string;
  constructor(
    dataDir: string,
    private readonly name: string,
  ) {
    this.dir = join(dataDir, 'denylists');
  }

  private file(which: 'current' | 'previous' | 'applied' | 'meta'): string {
    return join(this.dir, which === 'meta' ? `${this.name}.meta.json` : which === 'current' ? `${this.name}.deny` : `${this.name}.${which}.deny`);
  }

  async readMeta(): Promise<KeptMeta | undefined> {
    try {
      const meta = JSON.parse(await readFile(this.file('meta'), 'utf8')) as Partial<KeptMeta>;
      if (typeof meta.source !== 'string' || typeof meta.version !== 'string') return undefined;
      return meta as KeptMeta;
    } catch {
      return undefined;
    }
  }

  /**
   * The kept bytes of `version` (the newest or the previous one); undefined when not kept. The
   * caller checks them: compiled, they must give `version` again.
   */
  async read(version: string): Promise<Buffer | undefined> {
    const meta = await this.readMeta();
    const which = meta?.version === version ? 'current' : meta?.previousVersion === version ? 'previous' : meta?.appliedVersion === version ? 'applied' : undefined;
    if (which === undefined) return undefined;
    try {
      return await readFile(this.file(which));
    } catch {
      return undefined;
    }
  }

  /** Keeps `text` as the newest version (the newest so far becomes the previous one). */
  async save(content: readonly Uint8Array[], meta: Omit<KeptMeta, 'previousVersion' | 'savedAt'>): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const old = await this.readMeta();
    let previousVersion: string | undefined;
    if (old !== undefined && old.version !== meta.version) {
      await rename(this.file('current'), this.file('previous')).then(
        () => (previousVersion = old.version),
        () => undefined,
      );
    } else previousVersion = old?.previousVersion;
    if (old?.version !== meta.version) await writeAtomic(this.file('current'), content);
    const saved: KeptMeta = { ...meta, ...(previousVersion ? { previousVersion } : {}), ...(old?.appliedVersion ? { appliedVersion: old.appliedVersion } : {}), savedAt: new Date().toISOString() };
    await writeAtomic(this.file('meta'), [Buffer.from(`${JSON.stringify(saved, null, 2)}\n`)]);
  }

  /**
   * Keeps `version` (the newest or the previous one) as the applied one, in its own file: two
   * versions held in a row would otherwise push it out, and a restart offline would block by none.
   */
  async pinApplied(version: string): Promise<void> {
    const meta = await this.readMeta();
    if (meta === undefined || meta.appliedVersion === version) return;
    const content = await this.read(version);
    if (content === undefined) return;
    await writeAtomic(this.file('applied'), [content]);
    await writeAtomic(this.file('meta'), [Buffer.from(`${JSON.stringify({ ...meta, appliedVersion: version }, null, 2)}\n`)]);
  }

  /** Updates the validators (ETag, Last-Modified) of the newest version after a 304 or an unchanged body. */
  async touch(validators: { etag?: string; lastModified?: string }): Promise<void> {
    const old = await this.readMeta();
    if (old === undefined) return;
    const { etag: _e, lastModified: _l, ...rest } = old;
    await writeAtomic(this.file('meta'), [Buffer.from(`${JSON.stringify({ ...rest, ...validators, savedAt: new Date().toISOString() }, null, 2)}\n`)]);
  }
}

/** Writes `file` through a temporary file renamed over it (fsynced first), mode 0600. */
async function writeAtomic(file: string, content: readonly Uint8Array[]): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    for (const chunk of content) await handle.write(chunk);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}
