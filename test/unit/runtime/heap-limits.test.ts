// The `memory` keys: their defaults, a bad value named by its key, and the young generation held
// at youngGenerationMb in a fresh process (V8 would grow it to many times that under this load).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

const noResolv = join(tmpdir(), 'dnslinkd-no-such-resolv.conf');
const heapLimits = fileURLToPath(new URL('../../../src/runtime/heap-limits.ts', import.meta.url));

/** The young generation's size (MB) in a fresh Node after allocating ~200 MB that mostly survives a while, the event loop turning. */
async function youngGenerationAfterLoad(youngGenerationMb: number): Promise<number> {
  const script = `
    import v8 from 'node:v8';
    import { applyHeapLimits } from ${JSON.stringify(heapLimits)};
    applyHeapLimits({ heapGrowthPercent: 0, youngGenerationMb: ${youngGenerationMb} });
    let keep = [];
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 20000; i++) keep.push({ i, name: 'n' + i });
      if (keep.length > 200000) keep = [];
      await new Promise((resolve) => setImmediate(resolve));
    }
    console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20);`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
  return Number(stdout.trim());
}

describe('memory keys', () => {
  it('default to 25% old-generation growth and a 16 MB young generation, and name the key of a bad value', () => {
    expect(loadConfig({ env: {}, resolvConf: noResolv }).memory).toEqual({ heapGrowthPercent: 25, youngGenerationMb: 16 });
    expect(loadConfig({ env: { DNSLINKD_MEMORY__YOUNG_GENERATION_MB: '0' }, resolvConf: noResolv }).memory.youngGenerationMb).toBe(0);
    expect(() => loadConfig({ env: { DNSLINKD_MEMORY__HEAP_GROWTH_PERCENT: '500' }, resolvConf: noResolv })).toThrow(/DNSLINKD_MEMORY__HEAP_GROWTH_PERCENT=500: memory\.heapGrowthPercent: /);
  });

  it('keeps the young generation at youngGenerationMb where V8 alone grows it further', async () => {
    const [held, unheld] = await Promise.all([youngGenerationAfterLoad(8), youngGenerationAfterLoad(0)]);
    expect(held).toBeLessThanOrEqual(8);
    expect(unheld).toBeGreaterThan(8);
  }, 60_000);
});
