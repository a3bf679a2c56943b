// One place for adapters, devices, limits and features (as in webgpu-samples): everything the
// engine needs to know about the GPU is probed here and carried in a GpuContext.
import { DeviceLost, NoWebGPU } from '../errors';
import type { AdapterSummary } from '../types';

/** Limits the engine asks for: the adapter's real values, never the defaults. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Optional features the kernels use where the adapter has them (each kernel has a fallback). */
export const OPTIONAL_FEATURES = ['subgroups'] as const satisfies readonly string[];

export interface AcquiredDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  summary: AdapterSummary;
}

function describe(adapter: GPUAdapter): AdapterSummary {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const desc = info?.description ?? '';
  const text = `${vendor} ${architecture} ${device} ${desc}`.toLowerCase();
  const fallback = (info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined)?.isFallbackAdapter === true;
  const isSoftware = fallback || text.includes('swiftshader') || text.includes('llvmpipe') || text.includes('lavapipe');
  // Dawn in Node names the driver ("SwiftShader driver 5.0.0"); browsers often give only the
  // vendor and architecture ("google", "swiftshader").
  const named = desc || device;
  let description = named
    ? `${named}${vendor && !named.toLowerCase().includes(vendor.toLowerCase()) ? ` (${vendor})` : ''}`
    : [vendor, architecture].filter(Boolean).join(' ');
  if (!description) description = isSoftware ? 'software adapter' : 'unnamed GPU adapter';
  if (isSoftware && !/software/i.test(description)) description += ' [software]';
  return {
    description,
    vendor,
    architecture,
    isSoftware,
    features: [...adapter.features].sort(),
    limits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: adapter.limits.maxComputeWorkgroupsPerDimension,
    },
  };
}

/** Request the high-performance adapter and a device with the adapter's real limits. */
export async function acquireDevice(gpu: GPU | undefined): Promise<AcquiredDevice> {
  if (!gpu) {
    throw new NoWebGPU(
      'This browser has no WebGPU (navigator.gpu is missing). Use Chrome or Edge 113+, Safari 26+, or Firefox 141+ on Windows; on Linux, Chrome with WebGPU enabled (chrome://flags/#enable-unsafe-webgpu).',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new NoWebGPU(
      'WebGPU is present but no GPU adapter is available (the GPU may be blocklisted or the driver missing). Try another browser, update the GPU driver, or enable WebGPU in the browser flags.',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'prune-studio' });
  return { adapter, device, summary: describe(adapter) };
}

/** Resolves with a DeviceLost error when the device is lost (never rejects). */
export function lostSignal(device: GPUDevice): Promise<DeviceLost> {
  return device.lost.then((info) => new DeviceLost(`The GPU device was lost (${info.reason}): ${info.message || 'no details'}. Reload the model to continue; finished results are kept.`));
}
