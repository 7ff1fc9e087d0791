// V8's heap held close to what the process uses (the `memory` keys): the old generation collected
// when it has grown `heapGrowthPercent` past its live bytes (V8 waits for up to 4x: under cache
// eviction that is dead entries by the hundred MB), and the young generation kept from growing
// past `youngGenerationMb` (V8 grows it to 128 MB on a large heap). Both are V8 flags read while
// the process runs, set once at start; applied by every instance (each cluster worker too).
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { MemoryConfig } from './config.js';

/** V8's own growth factor for the young generation (`--semi-space-growth-factor`). */
const V8_YOUNG_GROWTH_FACTOR = 2;

let youngGenerationWatch: PerformanceObserver | undefined;

const youngGenerationBytes = (): number => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;

export function applyHeapLimits(memory: MemoryConfig): void {
  if (memory.heapGrowthPercent > 0) v8.setFlagsFromString(`--heap-growing-percent=${memory.heapGrowthPercent}`);
  youngGenerationWatch?.disconnect();
  youngGenerationWatch = undefined;
  if (memory.youngGenerationMb === 0) return;
  // V8 reads its limit only at start; its growth factor it reads at each growth (a doubling). The
  // collections are seen a moment after they ran, by when V8 may have doubled it once more: growth
  // stops once it reached half the limit, and resumes if V8 shrank it below a quarter.
  const limit = memory.youngGenerationMb * 1024 * 1024;
  let growing = true;
  const check = (): void => {
    const size = youngGenerationBytes();
    if (growing && size >= limit / 2) v8.setFlagsFromString('--semi-space-growth-factor=1');
    else if (!growing && size < limit / 4) v8.setFlagsFromString(`--semi-space-growth-factor=${V8_YOUNG_GROWTH_FACTOR}`);
    else return;
    growing = !growing;
  };
  check();
  youngGenerationWatch = new PerformanceObserver(check);
  youngGenerationWatch.observe({ entryTypes: ['gc'] });
}
