// WebGPU in Node through Dawn (npm `webgpu`). Finds an adapter by itself: the machine's GPU, or,
// where there is none, a software Vulkan adapter that is installed (Chromium's SwiftShader). Dawn
// reads VK_ICD_FILENAMES when an instance is created, so setting it in-process and calling
// create() again is enough; no environment variable is needed from the user.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NoWebGPU } from '../core/errors';

const SOFTWARE_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

let cached: Promise<GPU> | null = null;

async function tryCreate(create: (flags: string[]) => GPU): Promise<GPU | null> {
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  return adapter ? gpu : null;
}

/** A GPU object (navigator.gpu equivalent) for Node, with WebGPU globals installed. */
export function nodeGpu(): Promise<GPU> {
  cached ??= (async () => {
    // SwiftShader's Vulkan WSI complains on stderr when XDG_RUNTIME_DIR is unset; give it one.
    if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-studio-'));
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const hw = process.env.VK_ICD_FILENAMES ? null : await tryCreate(create);
    if (hw) return hw;
    if (!process.env.VK_ICD_FILENAMES) {
      const icd = SOFTWARE_ICDS.find((p) => fs.existsSync(p));
      if (icd) process.env.VK_ICD_FILENAMES = icd;
    }
    const sw = await tryCreate(create);
    if (sw) return sw;
    throw new NoWebGPU(
      'No WebGPU adapter found: no GPU driver answered, and no software Vulkan adapter is installed. On Debian/Ubuntu: `sudo apt-get install -y chromium libvulkan1` (for SwiftShader), or install your GPU\'s Vulkan driver.',
    );
  })();
  return cached;
}
