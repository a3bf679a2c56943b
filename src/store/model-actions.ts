// Loading a model into the engine (the demo, dropped or picked files, a kept or Hub copy): one load
// at a time, a newer one cancels the older; a failed load shows what the engine really kept.
import { Cancelled, MissingFile, NoWebGPU } from '../core/errors';
import type { PendingCall } from '../worker/client';
import { DEMO_MODEL_NAME, type ModelFile, type ModelSource } from '../worker/protocol';
import { getClient } from './client';
import { useEngine } from './engine-status';
import { useErrors } from './errors';
import { parseGpuBudget } from '../core/options';
import { cancelJob, refreshMemory } from './job';
import { useModel } from './model';
import { refreshTokenCount } from './text-actions';
import { useTrain } from './train';

export type { ModelFile };

const demoLabel = `Demo model (${DEMO_MODEL_NAME})`;
let lastLoad: { source: ModelSource; label: string } | null = null;
/** Where the model the engine holds now came from (a failed load keeps the previous one). */
let loadedSource: { source: ModelSource; label: string } | null = null;

/** The source of the loaded model, e.g. for keeping its files in the browser. */
export function loadedModelSource(): { source: ModelSource; label: string } | null {
  return loadedSource;
}
let loadCall: PendingCall<'loadModel'> | null = null;

export function loadDemoModel(): Promise<void> {
  return loadModel({ kind: 'demo' }, demoLabel);
}

/** Files from a folder drop, folder picker or files picker. */
export function loadModelFiles(files: ModelFile[], label: string): Promise<void> {
  if (files.length === 0) {
    useErrors.getState().setError(
      'model',
      new MissingFile('No files arrived. Drop a model folder (config.json, *.safetensors, tokenizer.json) or pick its files.'),
    );
    return Promise.resolve();
  }
  return loadModel({ kind: 'files', files, label }, label);
}

export async function loadModel(source: ModelSource, label: string): Promise<void> {
  const errors = useErrors.getState();
  const model = useModel.getState();
  errors.clearError('model');
  if (useEngine.getState().status !== 'ready') {
    errors.setError('model', new NoWebGPU('Loading a model needs a working WebGPU engine (see the notice at the top of the page).'));
    return;
  }
  // The budget field is checked before anything is cancelled or loaded.
  let gpuBudget: number | undefined;
  try {
    gpuBudget = model.gpuBudgetText.trim() ? parseGpuBudget(model.gpuBudgetText) : undefined;
  } catch (e) {
    errors.setError('model', e);
    return;
  }
  const client = getClient();
  if (loadCall) client.cancel(loadCall.id);
  cancelJob();
  lastLoad = { source, label };

  model.set({ status: 'loading', loadingLabel: label, progress: null });
  const call = client.call({ type: 'loadModel', source, ...(gpuBudget !== undefined ? { gpuBudget } : {}) }, (p) => {
    if (loadCall === call) useModel.getState().set({ progress: p });
  });
  loadCall = call;
  try {
    const summary = await call;
    if (loadCall !== call) return;
    loadedSource = { source, label };
    useModel.getState().set({ status: 'loaded', summary, label, loadingLabel: null, progress: null });
    // A config-only folder has nothing to recover: the Train area starts from scratch.
    if (summary.fresh) useTrain.getState().setSettings({ fromScratch: true });
    refreshMemory();
    void refreshTokenCount();
  } catch (e) {
    if (loadCall !== call) return;
    if (!(e instanceof Cancelled)) errors.setError('model', e);
    // The engine may have kept the previous model; show what it really holds.
    let kept = null;
    try {
      kept = (await client.call({ type: 'getState' })).model;
    } catch {
      kept = null;
    }
    if (loadCall !== call) return;
    const prev = useModel.getState();
    const same = kept && prev.summary && kept.name === prev.summary.name;
    if (!same) loadedSource = null;
    useModel.getState().set({
      status: kept ? 'loaded' : 'empty',
      summary: kept,
      label: kept ? (same ? prev.label : kept.name) : null,
      loadingLabel: null,
      progress: null,
    });
    void refreshTokenCount();
  } finally {
    if (loadCall === call) loadCall = null;
  }
}

export function cancelModelLoad(): void {
  if (loadCall) getClient().cancel(loadCall.id);
}

/** After a restart: the last model asked for (the demo when none was). */
export function reloadLastModel(): Promise<void> {
  return loadModel(lastLoad?.source ?? { kind: 'demo' }, lastLoad?.label ?? demoLabel);
}
