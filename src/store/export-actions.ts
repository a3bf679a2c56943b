// Exports from the Results area: the model as a Hugging Face folder (dense with zeros) or in
// compressed-tensors' sparse-bitmask format, the runs as CSV or JSON, and an llm-compressor recipe
// per run. Every action is called straight from a click: the save dialog or folder picker opens
// first (it needs the user's gesture), then the content is built (store/save.ts). The chart's
// SVG/PNG export lives next to the chart (src/ui/prune/chart-export.ts) and reports here.
import { create } from 'zustand';
import { version as APP_VERSION } from '../../package.json';
import { BadOption } from '../core/errors';
import { llmCompressorRecipe, type RecipeInput, type RecipeTraining } from '../core/export/recipe';
import { OPTIONS } from '../core/options';
import { targetLabel } from '../core/prune/types';
import { saveFile, saveFolder, type SaveFileOptions, type SaveResult } from './save';
import type { ExportedFile } from '../worker/protocol';
import { getClient } from './client';
import { useErrors } from './errors';
import { useModel } from './model';
import { exportFolderName } from './prune-actions';
import { formatBytes } from '../core/units';
import { anyJobBusy } from './job';
import { usePrune, type ExportStatus, type RunRecord } from './prune';
import { resultsCsv, resultsJson } from './results-export';
import { runOptions } from './run-options';

export { APP_VERSION };

export type FileExportKind = 'csv' | 'json' | 'svg' | 'png' | 'recipe' | 'gguf';

export interface FileExportStatus {
  kind: FileExportKind;
  message: string;
  files: string[];
}

interface FileExportsState {
  /** The export being written now. */
  busy: FileExportKind | null;
  /** The last finished one (a cancelled dialog leaves it as it was). */
  last: FileExportStatus | null;
  /** What the last GGUF export said about the file (how llama.cpp will differ, if at all). */
  notes: string[];
}

export const useFileExports = create<FileExportsState>()(() => ({ busy: null, last: null, notes: [] }));

function modelName(): string {
  return useModel.getState().summary?.name ?? 'model';
}

export const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

function describe(result: Exclude<SaveResult, { status: 'cancelled' }>): string {
  const what = result.files.join(', ');
  return result.how === 'picker' ? `Saved ${what} (${result.where}).` : `Downloaded ${what}.`;
}

/**
 * Run one small export (CSV, JSON, chart, recipe) with its status and errors: errors go to the
 * Results area, a cancelled dialog changes nothing.
 */
export async function runFileExport(
  kind: FileExportKind,
  opts: SaveFileOptions,
  make: () => Promise<FileExportData> | FileExportData,
  /** Throws a named error when there is nothing to export; runs before any dialog opens. */
  check?: () => void,
): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('results');
  if (useFileExports.getState().busy) return;
  useFileExports.setState({ busy: kind });
  try {
    check?.();
    const result = await saveFile(opts, make);
    if (result.status === 'saved') useFileExports.setState({ last: { kind, message: describe(result), files: result.files } });
  } catch (e) {
    errors.setError('results', e);
  } finally {
    useFileExports.setState({ busy: null });
  }
}

type FileExportData = Blob | Uint8Array<ArrayBuffer> | string;

function requireRuns(): RunRecord[] {
  const runs = usePrune.getState().runs;
  if (!runs.length) throw new BadOption('There are no runs to export yet: prune or run a sweep first.');
  return runs;
}

export function saveResultsCsv(): Promise<void> {
  return runFileExport(
    'csv',
    { name: `${safeName(modelName())}-results.csv`, type: 'text/csv', description: 'CSV table', extensions: ['.csv'] },
    () => resultsCsv(requireRuns(), usePrune.getState().dense),
    requireRuns,
  );
}

export function saveResultsJson(): Promise<void> {
  return runFileExport(
    'json',
    { name: `${safeName(modelName())}-results.json`, type: 'application/json', description: 'JSON results', extensions: ['.json'] },
    () => {
      const s = usePrune.getState();
      return resultsJson(requireRuns(), {
        model: useModel.getState().summary?.name ?? null,
        appVersion: APP_VERSION,
        date: new Date().toISOString(),
        dense: s.dense,
        hfNames: s.hfNames,
        options: (id) => {
          const r = s.runs.find((x) => x.id === id);
          return r ? runOptions(r) : null;
        },
      });
    },
    requireRuns,
  );
}

/** The recipe text of a run: a pruned run's one-shot stage; a training run's train stage (after its one-shot run's stage). */
export function recipeOf(run: RunRecord): string {
  if (run.method === 'trained') return trainedRecipe(run);
  if (run.method === 'dense' || !run.target) throw new BadOption('The dense reference has no pruning recipe; pick a pruned run.');
  return pruneRecipe(run);
}

function pruneRecipe(run: RunRecord, training?: RecipeTraining, about?: Partial<NonNullable<RecipeInput['about']>>): string {
  if (run.method === 'dense' || run.method === 'trained' || !run.target) throw new BadOption(`Run ${run.id} is not a pruned run.`);
  const o = runOptions(run);
  if (!o) throw new BadOption(`The calibration settings of run ${run.id} are unknown, so no recipe can repeat it.`);
  const hfNames = usePrune.getState().hfNames;
  const summary = useModel.getState().summary;
  const notes = o.recorded ? [] : ['Dampening, block size and skipped layers were not recorded with this run: the defaults are shown.'];
  return llmCompressorRecipe({
    method: run.method,
    target: run.target,
    calibSamples: o.calibSamples,
    seqlen: o.seqlen,
    seed: o.seed,
    percdamp: o.percdamp,
    blocksize: o.blocksize,
    skipLayers: o.skipLayers,
    family: summary?.family,
    modules: run.layers.map((l) => l.hf ?? hfNames[l.name] ?? l.name),
    ...(training ? { training } : {}),
    about: {
      model: summary?.name,
      appVersion: APP_VERSION,
      date: new Date().toISOString().slice(0, 10),
      achievedSparsity: run.sparsity,
      ppl: run.ppl,
      evalLabel: run.evalLabel,
      calibLabel: run.calibLabel,
      notes,
      ...about,
    },
  });
}

function trainedRecipe(run: RunRecord): string {
  const t = run.trained;
  if (!t || t.windows === undefined || !t.modules) throw new BadOption(`Run ${run.id} was saved without its training details, so no recipe can repeat it.`);
  const training: RecipeTraining = {
    mode: t.mode, steps: t.steps, batch: t.batch, seqlen: t.seqlen, lr: t.lr, warmup: t.warmup, weightDecay: t.weightDecay ?? OPTIONS.weightDecay.default, clip: t.clip ?? OPTIONS.clip.default, windows: t.windows, ...(t.gmp ? { gmp: t.gmp } : {}),
  };
  const measured = { achievedSparsity: run.sparsity, ppl: run.ppl, evalLabel: run.evalLabel };
  if (t.mode === 'recover') {
    const origin = t.fromRunId !== null ? usePrune.getState().runs.find((r) => r.id === t.fromRunId) : undefined;
    if (!origin) throw new BadOption(`Run ${run.id} recovered weights (${t.from}) that are not a run in the table, so there is no one-shot stage to put before its train stage.`);
    return pruneRecipe(origin, training, { ...measured, notes: [`Then trained (studio run ${run.id}): the measured figures above are after training.`] });
  }
  const summary = useModel.getState().summary;
  return llmCompressorRecipe({
    method: 'magnitude',
    target: { kind: 'unstructured', sparsity: t.gmp?.final ?? run.sparsity },
    calibSamples: OPTIONS.calibSamples.default,
    seqlen: t.seqlen,
    family: summary?.family,
    modules: t.modules,
    training,
    about: { model: summary?.name, appVersion: APP_VERSION, date: new Date().toISOString().slice(0, 10), ...measured },
  });
}

export function saveRecipe(runId: number): Promise<void> {
  const run = usePrune.getState().runs.find((r) => r.id === runId);
  const what = run && run.target ? `${run.method}-${targetLabel(run.target).replace(':', 'of').replace('%', 'pct')}` : 'run';
  let text = '';
  return runFileExport(
    'recipe',
    { name: `${safeName(`${modelName()}-${what}`)}-recipe.yaml`, type: 'application/yaml', description: 'llm-compressor recipe', extensions: ['.yaml', '.yml'] },
    () => text,
    () => {
      if (!run) throw new BadOption(`Run ${runId} is no longer in the list.`);
      text = recipeOf(run);
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Model folders (status in usePrune.exportStatus, shown by the Export section)

/**
 * Save a model folder the worker builds: the folder picker first (it needs the click), then the
 * files; the status goes through `setStatus` (idle again on a closed picker or a failure, whose
 * error lands in `area`). `build` returns the files and a sentence about them.
 */
export async function exportModelFolder(
  folder: string,
  build: () => Promise<{ files: ExportedFile[]; note: string }>,
  setStatus: (s: ExportStatus) => void,
  opts: { area: 'results' | 'contextual'; loadable: boolean },
): Promise<void> {
  let note = '';
  try {
    const result = await saveFolder(
      folder,
      async () => {
        setStatus({ status: 'exporting' });
        const r = await build();
        note = r.note;
        return r.files.map((f) => ({ name: f.name, data: f.bytes }));
      },
      { id: 'prune-studio-export' },
    );
    if (result.status === 'cancelled') {
      setStatus({ status: 'idle' });
      return;
    }
    const n = result.files.length;
    const message =
      result.how === 'picker'
        ? `Saved ${n} files to ${result.where}.${note}`
        : `Downloaded ${n} files. Put them together in one folder (e.g. ${folder}/)${opts.loadable ? ': that folder loads in Hugging Face transformers and back into this page.' : '.'}${note}`;
    setStatus({ status: 'done', files: result.files, message });
  } catch (e) {
    setStatus({ status: 'idle' });
    useErrors.getState().setError(opts.area, e);
  }
}

async function runModelExport(kind: 'dense' | 'compressed'): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('results');
  const s = usePrune.getState();
  if (s.exportStatus.status === 'exporting') return;
  const busy = anyJobBusy();
  if (busy) {
    errors.setError('results', new BadOption(busy));
    return;
  }
  const folder = exportFolderName(modelName(), s.weights) + (kind === 'compressed' ? '-sparse-bitmask' : '');
  const build = async () => {
    if (kind === 'dense') return { files: (await getClient().call({ type: 'export' })).files, note: '' };
    const r = await getClient().call({ type: 'exportCompressed' });
    const { denseTensorBytes: d, compressedTensorBytes: c } = r.stats;
    const note = ` The weights take ${formatBytes(c)} instead of ${formatBytes(d)} dense (${((100 * c) / d).toFixed(1)} %); load the folder with transformers or vLLM and the compressed-tensors package.`;
    return { files: r.files, note };
  };
  await exportModelFolder(folder, build, (exportStatus) => usePrune.getState().set({ exportStatus }), { area: 'results', loadable: kind === 'dense' });
}

/** The current weights as a Hugging Face folder, zeros in place. */
export function saveModelFolder(): Promise<void> {
  return runModelExport('dense');
}

/** The current pruned weights in compressed-tensors' sparse-bitmask format. */
export function saveCompressedModel(): Promise<void> {
  return runModelExport('compressed');
}

/**
 * The current weights (dense, or pruned with the zeros kept) as one GGUF file for llama.cpp and
 * Ollama, F32 or F16. Allowed while dense too: a model opened from the Hub can be converted as it is.
 */
export function saveGguf(fileType: 'F32' | 'F16'): Promise<void> {
  const weights = usePrune.getState().weights;
  const name = `${safeName(exportFolderName(modelName(), weights))}-${fileType.toLowerCase()}.gguf`;
  return runFileExport(
    'gguf',
    { name, type: 'application/octet-stream', description: 'GGUF model (llama.cpp)', extensions: ['.gguf'] },
    async () => {
      const r = await getClient().call({ type: 'exportGguf', fileType });
      if (r.notes.length) useFileExports.setState({ notes: r.notes });
      return r.file.bytes;
    },
    () => {
      useFileExports.setState({ notes: [] });
      const busy = anyJobBusy();
      if (busy) throw new BadOption(busy);
    },
  );
}
