// The in-process benchmarks (memory-store.js, hit-handle.js) take V8's heap settings from the
// environment, imported first: V8_FLAGS (any V8 flags), HEAP_LIMITS=growth,youngMb (the daemon's
// memory.heapGrowthPercent and memory.youngGenerationMb, e.g. 25,16); unset: V8's defaults.
import v8 from 'node:v8';
import { applyHeapLimits } from '../dist/runtime/heap-limits.js';

if (process.env.V8_FLAGS) v8.setFlagsFromString(process.env.V8_FLAGS);
if (process.env.HEAP_LIMITS) {
  const [heapGrowthPercent, youngGenerationMb] = process.env.HEAP_LIMITS.split(',').map(Number);
  applyHeapLimits({ heapGrowthPercent, youngGenerationMb });
}
