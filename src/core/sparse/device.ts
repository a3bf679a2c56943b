// A device with the optional features the sparse kernels can use. acquireDevice (gpu/device.ts)
// asks for none; gemv_subgroup.wgsl needs `subgroups`. Until device.ts requests it, this helper
// re-requests the device with it where the adapter has it (benchmarks and tests).
import { type AcquiredDevice, acquireDevice } from '../gpu/device';

/** Optional features used by src/core/sparse (each with a fallback). */
export const SPARSE_FEATURES = ['subgroups'] as const;

/** acquireDevice, plus SPARSE_FEATURES where the adapter has them. */
export async function acquireSparseDevice(gpu: GPU): Promise<AcquiredDevice> {
  const base = await acquireDevice(gpu);
  const want = SPARSE_FEATURES.filter((f) => base.adapter.features.has(f) && !base.device.features.has(f));
  if (!want.length) return base;
  // Same limits as the device acquireDevice made (the adapter's real values).
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS) {
    const v = (base.device.limits as unknown as Record<string, number>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  base.device.destroy();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return acquireDevice(gpu);
  const requiredFeatures = [...base.device.features, ...want].filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'prune-studio' });
  const summary = { ...base.summary, features: [...adapter.features].sort() };
  return { adapter, device, summary };
}

const LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;
