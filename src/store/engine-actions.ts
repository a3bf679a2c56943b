// The GPU engine: start the worker and its device, follow a lost device, restart (fresh worker and
// device, the last model loaded again).
import { NoWebGPU } from '../core/errors';
import { baseUrl } from './base-url';
import { getClient, hasClient, replaceClient } from './client';
import { useEngine } from './engine-status';
import { useErrors } from './errors';
import { cancelJob } from './job';
import { useModel } from './model';
import { reloadLastModel } from './model-actions';
import { useTexts, type TokenCount } from './texts';

let unsubscribeDeviceLost: (() => void) | null = null;

function setAllTokens(tokens: TokenCount): void {
  for (const slot of ['calib', 'eval'] as const) useTexts.getState().setSlot(slot, { tokens });
}

function onDeviceLost(message: string): void {
  useEngine.getState().set({ status: 'lost', message });
  useModel.getState().set({ status: 'empty', summary: null, label: null, progress: null, loadingLabel: null });
  setAllTokens({ status: 'unavailable', reason: 'The GPU device was lost; restart the engine.' });
}

/** Start the worker and its GPU device. Resolves true when the engine is ready. */
export async function startEngine(): Promise<boolean> {
  const eng = useEngine.getState();
  const errors = useErrors.getState();
  errors.clearError('engine');
  eng.set({ status: 'starting', message: null, adapter: null });

  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) {
    eng.set({ status: 'no-webgpu', message: 'This browser does not expose WebGPU (navigator.gpu is missing).' });
    setAllTokens({ status: 'unavailable', reason: 'Counting tokens needs a loaded model, which needs WebGPU.' });
    return false;
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch {
    adapter = null;
  }
  if (!adapter) {
    eng.set({
      status: 'no-adapter',
      message: 'WebGPU is present, but the browser offered no GPU adapter (the GPU or driver may be blocklisted, or WebGPU disabled in settings).',
    });
    setAllTokens({ status: 'unavailable', reason: 'Counting tokens needs a loaded model, which needs a GPU adapter.' });
    return false;
  }

  const client = hasClient() ? replaceClient() : getClient();
  unsubscribeDeviceLost?.();
  unsubscribeDeviceLost = client.onDeviceLost(onDeviceLost);
  try {
    const r = await client.call({ type: 'init', baseUrl: baseUrl() });
    eng.set({ status: 'ready', adapter: r.adapter, shaders: r.shaders, message: null });
    return true;
  } catch (e) {
    if (e instanceof NoWebGPU) {
      eng.set({ status: 'no-adapter', message: e.message });
    } else {
      eng.set({ status: 'failed', message: null });
      errors.setError('engine', e);
    }
    setAllTokens({ status: 'unavailable', reason: 'The GPU engine did not start.' });
    return false;
  }
}

/** After a lost device (or a failed start): fresh worker and device, then reload the last model. */
export async function restartEngine(): Promise<void> {
  cancelJob();
  if (await startEngine()) await reloadLastModel();
}
