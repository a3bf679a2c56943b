// Engine: the one object the worker and the CLI talk to. It owns the GPU device, the loaded model
// (weights on the GPU) and its tokenizer. All methods are async and report progress through a
// callback; long work checks an AbortSignal between GPU submissions.
import { acquireDevice, lostSignal } from './gpu/device';
import { GpuContext, type ShaderLoader } from './gpu/context';
import { type GpuTensor, destroyTensor, uploadTensor } from './gpu/ops';
import { BadModelFile, DeviceLost, TooLargeForDevice, throwIfCancelled } from './errors';
import type { FileSource } from './io/file-source';
import { openModel } from './model/open';
import type { ModelFolder, OpenFolderOptions } from './model/folder';
import { readTensorF32 } from './model/safetensors';
import { GpuModel } from './nn/model';
import { type HostTensor, WeightStream, checkBudget, streamGroups } from './nn/stream';
import { sumNll } from './eval/perplexity';
import { readTokenizerFiles, type TextTokenizer } from './tokenizer/tokenizer';
import { ggufModel, type GgufModel } from './export/gguf';
import type { GgufType } from './export/gguf-writer';
import { calibrationWindows } from './calib/windows';
import { type DenseBackup, pruneModel } from './prune/driver';
import { type PruneOptions, type PruneReport, checkTarget } from './prune/types';
import { type ExportFile, exportHF } from './export/hf';
import { BadOption } from './errors';
import { currentValues } from './export/hf';
import { type CompressedExport, exportCompressed } from './export/compressed';
import { type ChoiceCache, type SparseChoice, type SparseMode, applySparse, clearSparse, hasSparse } from './sparse/select';
import { type SpeedReport, speedReport } from './sparse/speed';
import { type GenerateOptions, type GenerateResult, type GenerateUpdate, checkContext, checkGenerateOptions, checkWeightsAvailable, continuationText, generate, stableText } from './eval/generate';
import type { AdapterSummary, GpuMemory, ModelSummary, PerplexityOptions, PerplexityResult, ProgressFn } from './types';
import {
  type ContextualScores, type ContextualSelection, applyContextual, restoreContextual, scoreContextual, selectContextual, specialTokenIds,
  sublayerSparsity,
} from './prune/contextual';
import { type StructuredExport, exportStructured, paramCounts } from './export/structured';
import { type ContextualReport, type ContextualRunOptions, contextualReport, emptyScores, selectionOptions } from './prune/contextual-report';
import { formatBytes, now } from './units';
import { type InitSettings, initSettings, initialTensor } from './train/init';

export type { ShaderLoader } from './gpu/context';

export interface EngineOptions {
  /** navigator.gpu in browsers, `create([])` from npm `webgpu` in Node. */
  gpu: GPU;
  /** Returns the WGSL source of shaders/<name>.wgsl. */
  shaders: ShaderLoader;
  /** Page weights and logits in chunks of at most this many bytes (tests of the paging paths). */
  pageBytesOverride?: number;
}

/** How a model is loaded: the folder options, and the GPU budget for its weights. */
export interface LoadOptions extends OpenFolderOptions {
  /**
   * Bytes of weights allowed on the GPU at once; a model larger than this is streamed layer by
   * layer (nn/stream.ts). Default: defaultGpuBudget of the adapter.
   */
  gpuBudget?: number;
}

/**
 * The default GPU budget for weights: four times the largest buffer the adapter allows (WebGPU
 * does not say how much memory a device has; one that allows a buffer of B bytes is taken to hold
 * 4B of weights besides the activations). 4 GiB on SwiftShader.
 */
export function defaultGpuBudget(limits: { maxBufferSize: number }): number {
  return 4 * limits.maxBufferSize;
}

export class Engine {
  private current: {
    folder: ModelFolder;
    model: GpuModel;
    tokenizer: TextTokenizer;
    summary: ModelSummary;
    /** Dense weights of every sublayer a prune run touched (restores the dense model). */
    backup: DenseBackup;
    /** The report of the prune run the weights now reflect (a contextual run's too); null while dense. */
    pruned: PruneReport | ContextualReport | null;
    /** The training run the weights now reflect (every tensor changed: exports read them all). */
    trained: Record<string, unknown> | null;
  } | null = null;
  /**
   * The last contextual run's scores (re-selection without rescoring) and selection (the smaller
   * export), for the model loaded at the time (`of`); cleared by restoreDense.
   */
  private contextualState: { of: object; scores: ContextualScores; sel: ContextualSelection } | null = null;
  private lost: DeviceLost | null = null;
  /** Auto-selected sparse kernels, remembered per shape and sparsity for this device. */
  private readonly sparseChoices: ChoiceCache = new Map();
  private lostCallbacks: Array<(message: string) => void> = [];
  /** dispose() destroys the device on purpose: that loss is not reported. */
  private disposed = false;

  private constructor(readonly ctx: GpuContext) {
    void lostSignal(ctx.device).then((e) => {
      this.lost = e;
      if (!this.disposed) for (const cb of this.lostCallbacks) cb(e.message);
    });
  }

  static async create(opts: EngineOptions): Promise<Engine> {
    const { device, summary } = await acquireDevice(opts.gpu);
    return new Engine(new GpuContext(device, summary, opts.shaders, opts.pageBytesOverride));
  }

  get adapter(): AdapterSummary {
    return this.ctx.adapter;
  }

  get model(): ModelSummary | null {
    return this.current?.summary ?? null;
  }

  /** The loaded GPU model (tests, benchmarks). */
  get gpuModel(): GpuModel | null {
    return this.current?.model ?? null;
  }

  /** The GPU budget of the loaded model's weights, what is on the GPU now, and the peaks; null without a model. */
  memory(): GpuMemory | null {
    const cur = this.current;
    if (!cur) return null;
    const s = cur.model.stream;
    const { bytes, peakBytes } = this.ctx.stats();
    const all = cur.summary.gpuBytes;
    return {
      budget: cur.summary.gpuBudget, weightBytes: all, streamed: !!s,
      residentBytes: s ? s.residentBytes : all, peakResidentBytes: s ? s.peakResidentBytes : all,
      liveBytes: bytes, peakBytes,
    };
  }

  /** The loaded model's folder, file by file (to load it again, or build models from its config). */
  folderFiles(): FileSource[] {
    return [...this.requireModel().folder.files.values()];
  }

  /** The record of the training behind the current weights (steps, settings, what came before), or null. */
  get trainedInfo(): Record<string, unknown> | null {
    return this.current?.trained ?? null;
  }

  get tokenizer(): TextTokenizer | null {
    return this.current?.tokenizer ?? null;
  }

  private check(): void {
    if (this.lost) throw this.lost;
  }

  /** Every plan of a folder read and split into canonical f32 tensors, handed to `take` one plan at a time. */
  private async readPlans(folder: ModelFolder, take: (name: string, data: Float32Array, shape: number[], dtype: string) => void, onProgress?: ProgressFn, signal?: AbortSignal): Promise<void> {
    const total = folder.plans.length;
    for (let i = 0; i < total; i++) {
      throwIfCancelled(signal);
      this.check();
      const plan = folder.plans[i];
      // A config-only folder's tensors are made as the family initialises them (seed 0).
      const info = folder.fresh ? null : folder.tensors.get(plan.hf)!;
      const parts = info ? plan.split(await readTensorF32(info)) : plan.outputs.map((o) => initialTensor(folder.spec, initSettings(folder.spec, folder.config), o.name, o.shape, 0));
      await this.ctx.checked(`uploading ${plan.hf}`, () => plan.outputs.forEach((o, j) => take(o.name, parts[j], o.shape, info?.dtype ?? 'F32')));
      onProgress?.({ phase: 'load', done: i + 1, total, detail: plan.hf });
    }
  }

  /** Every tensor of a folder uploaded (split into canonical tensors); on failure nothing is left. */
  private async upload(folder: ModelFolder, onProgress?: ProgressFn, signal?: AbortSignal): Promise<{ weights: Map<string, GpuTensor>; dtypes: Map<string, string> }> {
    const weights = new Map<string, GpuTensor>();
    const dtypes = new Map<string, string>();
    try {
      await this.readPlans(folder, (name, data, shape, dtype) => {
        weights.set(name, uploadTensor(this.ctx, data, shape, name));
        dtypes.set(name, dtype);
      }, onProgress, signal);
    } catch (e) {
      for (const t of weights.values()) destroyTensor(this.ctx, t);
      throw e;
    }
    return { weights, dtypes };
  }

  /** Every tensor of a folder kept on the host for layer streaming (nothing uploaded yet). */
  private async hostWeights(folder: ModelFolder, onProgress?: ProgressFn, signal?: AbortSignal): Promise<{ host: Map<string, HostTensor>; dtypes: Map<string, string> }> {
    const host = new Map<string, HostTensor>();
    const dtypes = new Map<string, string>();
    await this.readPlans(folder, (name, data, shape, dtype) => {
      host.set(name, { data, shape });
      dtypes.set(name, dtype);
    }, onProgress, signal);
    return { host, dtypes };
  }

  /** Refuse work that needs every weight on the GPU while the model is streamed. */
  private requireResident(what: string): void {
    const s = this.current?.model.stream;
    if (s) {
      throw new TooLargeForDevice(
        `${what} needs the whole model on the GPU (${formatBytes(s.totalBytes)} in f32), and it is streamed layer by layer within a GPU budget of ${formatBytes(s.budget)}. Load it with a budget of at least ${formatBytes(s.totalBytes)} (--gpu-budget) if the GPU has the memory.`,
      );
    }
  }

  /** A teacher for distillation (jobs/finetune.ts): loaded beside the model, with its vocabulary. */
  private teacherModel: GpuModel | null = null;

  get teacher(): GpuModel | null {
    return this.teacherModel;
  }

  /**
   * Load a teacher model beside the current one (knowledge distillation). It must speak the same
   * vocabulary: the same size, and the same ids for a probe text.
   */
  async loadTeacher(files: FileSource[], onProgress?: ProgressFn, signal?: AbortSignal): Promise<void> {
    const cur = this.requireModel();
    this.requireResident('Distillation');
    const { folder, tokenizer } = await openModel(files, { maxBindingBytes: this.ctx.maxBinding });
    const probe = 'Once upon a time, the 3 friends said: "Hello, world!"';
    const a = cur.tokenizer.encode(probe), b = tokenizer.encode(probe);
    if (folder.spec.vocabSize !== cur.model.spec.vocabSize || a.length !== b.length || a.some((id, i) => id !== b[i])) {
      throw new BadModelFile(`The teacher's vocabulary differs from the model's (${folder.spec.vocabSize} vs ${cur.model.spec.vocabSize} tokens, or other ids for the same text): distillation needs the same tokenizer.`);
    }
    const { weights, dtypes } = await this.upload(folder, onProgress, signal);
    this.dropTeacher();
    this.teacherModel = new GpuModel(this.ctx, folder.spec, weights, dtypes);
  }

  /** The model as it was loaded (its folder's weights, before any pruning or training) as the teacher. */
  async loadTeacherFromFolder(onProgress?: ProgressFn, signal?: AbortSignal): Promise<void> {
    const cur = this.requireModel();
    this.requireResident('Distillation');
    const { weights, dtypes } = await this.upload(cur.folder, onProgress, signal);
    this.dropTeacher();
    this.teacherModel = new GpuModel(this.ctx, cur.folder.spec, weights, dtypes);
  }

  dropTeacher(): void {
    if (this.teacherModel) for (const t of this.teacherModel.weights.values()) destroyTensor(this.ctx, t);
    this.teacherModel = null;
  }

  /**
   * Load a model folder: config.json, *.safetensors (+ index), tokenizer files; with `configOnly`,
   * a folder without weight files opens with fresh weights (to train from scratch).
   */
  async loadModel(files: FileSource[], onProgress?: ProgressFn, signal?: AbortSignal, opts?: LoadOptions): Promise<ModelSummary> {
    this.check();
    // Every check that needs no GPU work, and rows that could not fit one binding even paged.
    const { folder, tokenizer } = await openModel(files, { maxBindingBytes: this.ctx.maxBinding }, opts);
    const spec = folder.spec;
    // Past the budget the weights stay on the host and are streamed; a budget smaller than one
    // layer is refused here, before anything is read.
    const budget = opts?.gpuBudget ?? defaultGpuBudget(this.ctx.limits);
    const groups = streamGroups(folder.plans.flatMap((p) => p.outputs.map((o) => [o.name, o.shape] as const)), this.ctx.pageBytes);
    let weightBytes = 0;
    for (const g of groups.values()) weightBytes += g.bytes;
    const streamed = weightBytes > budget;
    if (streamed) checkBudget(groups, budget);
    // Replace the previous model only once the new one is complete: a failed load keeps it.
    let model: GpuModel;
    if (streamed) {
      const { host, dtypes } = await this.hostWeights(folder, onProgress, signal);
      this.unload();
      model = new GpuModel(this.ctx, spec, new Map(), dtypes);
      model.stream = new WeightStream(this.ctx, budget, host, model.weights);
    } else {
      const { weights, dtypes } = await this.upload(folder, onProgress, signal);
      this.unload();
      model = new GpuModel(this.ctx, spec, weights, dtypes);
    }
    let parameters = 0;
    let bytes = 0;
    const tensors = [...folder.tensors.values()].map((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      parameters += n;
      bytes += t.end - t.begin;
      return { name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.end - t.begin, file: t.file.name };
    });
    const gpuBytes = weightBytes;
    const info = folder.files.get('prune_studio.json');
    let prunedBy: ModelSummary['prunedBy'] = null;
    if (info) {
      try {
        const j = JSON.parse(new TextDecoder().decode(await info.slice(0, Math.min(info.size, 1 << 20))));
        if (j?.pruned?.method) prunedBy = { method: String(j.pruned.method), target: j.pruned.target, sparsity: Number(j.pruned.sparsity) };
      } catch {
        // A malformed prune_studio.json only loses the label, never the model.
      }
    }
    const summary: ModelSummary = {
      prunedBy,
      name: folder.name,
      family: spec.family,
      architecture: spec.architecture,
      parameters,
      layers: spec.nLayers,
      hidden: spec.hidden,
      heads: spec.nHeads,
      kvHeads: spec.nKvHeads,
      ffn: spec.ffn,
      vocabSize: spec.vocabSize,
      dtype: spec.dtype,
      bytes,
      gpuBytes,
      gpuBudget: budget,
      streamed,
      files: folder.weightFiles.map((f) => f.name),
      tensors,
      hasTokenizer: true,
      rope: spec.rope ? { ...spec.rope } : null,
      configDtype: spec.configDtype,
      notes: folder.notes,
      ...(folder.fresh ? { fresh: true as const } : {}),
    };
    this.current = { folder, model, tokenizer, summary, backup: new Map(), pruned: null, trained: null };
    return summary;
  }

  private requireModel() {
    this.check();
    if (!this.current) throw new BadModelFile('No model is loaded. Load a model folder first.');
    return this.current;
  }

  /** Number of tokens the loaded tokenizer makes of a text (with its default special tokens). */
  countTokens(text: string): number {
    return this.requireModel().tokenizer.encode(text).length;
  }

  /** Token ids of a text with the tokenizer's defaults. */
  encode(text: string): number[] {
    return this.requireModel().tokenizer.encode(text);
  }

  /** SparseGPT-protocol perplexity of a text. */
  async perplexity(text: string, opts: PerplexityOptions, onProgress?: ProgressFn, signal?: AbortSignal): Promise<PerplexityResult> {
    const { model, tokenizer } = this.requireModel();
    const t0 = now();
    const ids = tokenizer.encode(text);
    // A non-finite loss is an error naming the layer where it starts (never a NaN result).
    const r = await this.guard(() => sumNll(model, ids, { ...opts, layerLabel: (i) => this.layerLabel(i) }, onProgress, signal));
    const nll = r.sum / r.tokens;
    return {
      ppl: Math.exp(nll),
      nll,
      windows: r.windows,
      tokens: r.tokens,
      seconds: (now() - t0) / 1000,
      adapter: this.adapter.description,
    };
  }

  /**
   * The Hugging Face module name of a canonical sublayer ("layers.0.attn.q" →
   * "model.layers.0.self_attn.q_proj"; parts of fused tensors get a suffix: "…c_attn[q]").
   */
  /** Decoder layer i's Hugging Face prefix ("model.layers.3"). */
  layerLabel(i: number): string {
    return this.hfName(`layers.${i}.attn.q`).replace(/\.[^.]*\.[^.]*$/, '');
  }

  hfName(sublayer: string): string {
    const cur = this.requireModel();
    const want = `${sublayer}.weight`;
    for (const p of cur.folder.plans) {
      const j = p.outputs.findIndex((o) => o.name === want);
      if (j < 0) continue;
      const base = p.hf.replace(/\.weight$/, '');
      return p.outputs.length > 1 ? `${base}[${sublayer.split('.').pop()}]` : base;
    }
    return sublayer;
  }

  /** The prune report the loaded weights reflect, or null while they are dense. */
  get pruneState(): PruneReport | ContextualReport | null {
    return this.current?.pruned ?? null;
  }

  /**
   * Prune the loaded model (starting from its dense weights) with calibration text. On failure or
   * cancellation the model is left fully dense; on success it is consistently pruned.
   */
  async prune(calibText: string, opts: PruneOptions, onProgress?: ProgressFn, signal?: AbortSignal): Promise<PruneReport> {
    const cur = this.requireModel();
    // Dense first: whatever fails below (options, text, GPU) leaves the model fully dense.
    this.restoreDense();
    checkTarget(opts.target);
    onProgress?.({ phase: 'prune', done: 0, total: 1, detail: 'tokenizing the calibration text' });
    const windows = calibrationWindows(cur.tokenizer.encode(calibText), opts.calibSamples, opts.seqlen, opts.seed);
    const report = await this.guard(() => pruneModel(cur.model, windows, opts, cur.backup, onProgress, signal));
    for (const l of report.layers) l.hf = this.hfName(l.name);
    cur.pruned = report;
    return report;
  }

  /**
   * Contextual (structured) pruning with the domain text (prune/contextual.ts): restore dense,
   * score every MLP neuron and attention head on the calibration windows of the dense model,
   * select (a fraction per layer or a threshold), zero the removed units (dense values in the
   * backup). On failure or cancellation the model is left fully dense; on success the prune state
   * is the ContextualReport and exportSmaller() can write the smaller model.
   */
  async pruneContextual(calibText: string, opts: ContextualRunOptions, onProgress?: ProgressFn, signal?: AbortSignal): Promise<ContextualReport> {
    const cur = this.requireModel();
    this.requireResident('Contextual pruning');
    // Dense first: the scores describe the dense network, and a failure below leaves it dense.
    this.restoreDense();
    const t0 = now();
    const selOpts = selectionOptions(opts, await specialTokenIds(cur.folder));
    // Bad options are refused before any GPU work (selection on all-zero scores of these sizes).
    selectContextual(emptyScores(cur.model.spec), selOpts);
    onProgress?.({ phase: 'prune', done: 0, total: 1, detail: 'tokenizing the calibration text' });
    const ids = cur.tokenizer.encode(calibText);
    const windows = calibrationWindows(ids, opts.calibSamples, opts.seqlen, opts.seed);
    const scores = await this.guard(() => scoreContextual(cur.model, windows, { countIds: ids }, onProgress, signal));
    throwIfCancelled(signal);
    const sel = selectContextual(scores, selOpts);
    try {
      await this.guard(() => applyContextual(cur.model, sel, cur.backup));
      const report = contextualReport(cur.model.spec, sel, sublayerSparsity(cur.model.spec, sel), paramCounts(cur.folder, sel), {
        windows: scores.windows,
        tokens: scores.tokens,
        seconds: (now() - t0) / 1000,
      });
      for (const l of report.layers) l.hf = this.hfName(l.name);
      cur.pruned = report;
      this.contextualState = { of: cur, scores, sel };
      return report;
    } catch (e) {
      // applyContextual restores on its own failures; this covers the report (and a lost device).
      try {
        this.restoreDense();
      } catch {
        // A lost device: the engine is unusable and the error says so.
      }
      throw e;
    }
  }

  /**
   * The contextual-pruned model as a genuinely smaller Hugging Face folder where the removal is
   * uniform and the family's config can say it (smaller intermediate_size; fewer heads for
   * llama/qwen2), zeros elsewhere with the warnings saying which (model/export-structured.ts).
   * Refused unless the weights are contextual-pruned.
   */
  async exportSmaller(): Promise<StructuredExport> {
    const cur = this.requireModel();
    const st = this.contextualState;
    const r = cur.pruned;
    if (!r || r.method !== 'contextual' || !st || st.of !== cur) {
      throw new BadOption(
        r ? `The weights are pruned by ${r.method}, not by contextual pruning: only a contextual run can be exported as a smaller model.` : 'The weights are dense: run contextual pruning first, then export the smaller model.',
      );
    }
    const info = {
      source: cur.summary.name,
      pruned: { method: 'contextual', target: r.target, sparsity: r.sparsity, mode: r.mode, scoring: r.scoring, gqa: r.gqa, neuronTarget: r.neuronTarget, headTarget: r.headTarget, layers: r.layers },
    };
    return this.guard(() => exportStructured(cur.folder, cur.model, st.sel, info));
  }

  /**
   * The weights the prune run made sparse, by canonical name: linear weights only (sparse kernels
   * and the speed report take nothing else). A contextual run also backs up biases and embedding
   * rows, so its names come from its per-sublayer report.
   */
  private prunedWeightNames(cur: NonNullable<Engine['current']>): string[] {
    if (!cur.pruned) return [];
    if (cur.pruned.method === 'contextual') return cur.pruned.layers.filter((l) => l.sparsity > 0).map((l) => `${l.name}.weight`);
    return [...cur.backup.keys()];
  }

  /**
   * The loaded model as a Hugging Face folder (pruned weights with zeros in place), plus
   * prune_studio.json describing the prune run.
   */
  async exportModel(): Promise<ExportFile[]> {
    const cur = this.requireModel();
    const info = {
      producer: 'Prune Studio',
      source: cur.summary.name,
      pruned: cur.pruned
        ? { method: cur.pruned.method, target: cur.pruned.target, sparsity: cur.pruned.sparsity, layers: cur.pruned.layers }
        : null,
    };
    const changed = new Set(cur.trained ? cur.model.weights.keys() : cur.pruned ? cur.backup.keys() : []);
    return this.guard(() => exportHF(cur.folder, cur.model, changed, cur.trained ? { ...info, trained: cur.trained } : info));
  }

  /**
   * The pruned model in compressed-tensors' sparse-bitmask format: every weight the current prune
   * run pruned stored as shape / compressed / bitmask / row_offsets, the rest dense, and config.json
   * with the sparsity_config (model/export-compressed.ts). Refused while the weights are dense.
   */
  /**
   * The current weights (dense, or pruned with their zeros) as llama.cpp's GGUF, F32 or F16: the
   * metadata and the tensors, read from the GPU one at a time as a writer asks for them.
   */
  async gguf(fileType: GgufType): Promise<GgufModel> {
    const cur = this.requireModel();
    const tokenizer = await readTokenizerFiles(cur.folder.files);
    return ggufModel({ spec: cur.folder.spec, name: cur.summary.name, tokenizer, read: (n) => this.guard(() => cur.model.read(n)) }, fileType);
  }

  async exportCompressed(): Promise<CompressedExport> {
    const cur = this.requireModel();
    const pruned = cur.pruned;
    if (!pruned) {
      throw new BadOption('The weights are dense, so there is nothing to compress. Prune the model first, then export the compressed format.');
    }
    const weights = new Set(pruned.layers.map((l) => `${l.name}.weight`));
    const compress = new Set(cur.folder.plans.filter((p) => p.outputs.some((o) => weights.has(o.name))).map((p) => p.hf));
    const info = {
      producer: 'Prune Studio',
      source: cur.summary.name,
      pruned: { method: pruned.method, target: pruned.target, sparsity: pruned.sparsity, layers: pruned.layers },
    };
    const sparsityStructure = pruned.target.kind === 'nm' ? `${pruned.target.n}:${pruned.target.m}` : 'unstructured';
    const read = currentValues(cur.folder, cur.model, new Set(cur.backup.keys()));
    return this.guard(() => exportCompressed(cur.folder, read, { compress, sparsityStructure, info }));
  }

  /**
   * Measure, on this device, what the current pruning buys: per weight shape, dense vs each sparse
   * format for decode and prefill, bytes per format, and decode tokens/s dense vs sparse.
   */
  async speedReport(onProgress?: ProgressFn, signal?: AbortSignal): Promise<SpeedReport> {
    const cur = this.requireModel();
    this.requireResident('The speed report');
    const names = this.prunedWeightNames(cur);
    return this.guard(() => speedReport(cur.model, names, this.sparseChoices, {}, onProgress, signal));
  }

  /**
   * Continue `prompt` with the dense or the pruned weights: greedy at temperature 0, else seeded
   * temperature sampling (optional top-k). `onUpdate` receives the continuation decoded so far after
   * each token. With weights 'dense' while the model is pruned, the dense backup is uploaded into
   * separate tensors that stand in for the pruned ones during the run; the pruned tensors (and any
   * sparse copies) are never written, so the prune state afterwards is exactly what it was.
   */
  async generate(
    prompt: string,
    options: GenerateOptions,
    onUpdate?: (u: GenerateUpdate) => void,
    signal?: AbortSignal,
  ): Promise<GenerateResult> {
    const cur = this.requireModel();
    const opts = checkGenerateOptions(prompt, options);
    checkWeightsAvailable(opts.weights, cur.pruned !== null);
    const { model, tokenizer } = cur;
    const promptIds = tokenizer.encode(prompt);
    checkContext(promptIds.length, opts.maxNewTokens, model.spec.maxPositions);
    const decode = (ids: number[]) => tokenizer.decode(ids);
    const promptText = decode(promptIds);
    const newIds: number[] = [];
    const run = () =>
      generate(model, promptIds, {
        maxNew: opts.maxNewTokens,
        eos: model.spec.eosTokenId,
        sampling: { temperature: opts.temperature, topK: opts.topK, seed: opts.seed },
        signal,
        onToken: (id) => {
          newIds.push(id);
          onUpdate?.({ text: stableText(continuationText(decode, promptIds, promptText, newIds)), tokens: newIds.length });
        },
      });
    const dense = opts.weights === 'dense' && cur.pruned !== null;
    if (dense) this.requireResident('Generating with the dense weights while the model is pruned');
    const r = await this.guard(() => (dense ? this.withDenseWeights(run) : run()));
    const sparseKernels = !dense && hasSparse(model);
    return {
      weights: opts.weights,
      text: continuationText(decode, promptIds, promptText, newIds),
      promptTokens: promptIds.length,
      tokens: r.newTokens,
      prefillMs: r.prefillMs,
      decodeTokensPerS: r.decodeSteps > 0 && r.decodeMs > 0 ? r.decodeSteps / (r.decodeMs / 1000) : null,
      decodeMs: r.decodeMs,
      stopped: r.stopped,
      sparseKernels,
      temperature: opts.temperature,
      topK: opts.topK,
      seed: opts.seed,
    };
  }

  /**
   * Run `fn` with the dense weights of the pruned sublayers swapped in: the backup is uploaded into
   * fresh tensors that replace the pruned ones in the weight map, and the sparse copies are set
   * aside so every linear layer takes the dense kernel. Afterwards (also on failure or cancel) the
   * original tensors and sparse copies go back and the temporary ones are freed.
   */
  private async withDenseWeights<T>(fn: () => Promise<T>): Promise<T> {
    const { model, backup } = this.requireModel();
    // name → [the pruned tensor, its dense stand-in]
    const swaps: Array<[string, GpuTensor, GpuTensor]> = [];
    const kernels = new Map(model.linearKernels);
    try {
      await this.ctx.checked('uploading the dense weights for generation', () => {
        for (const [name, data] of backup) {
          const t = model.weights.get(name);
          if (t) swaps.push([name, t, uploadTensor(this.ctx, data, t.shape, `${name}.dense`)]);
        }
      });
      model.linearKernels.clear();
      for (const [name, , d] of swaps) model.weights.set(name, d);
      return await fn();
    } finally {
      for (const [name, t] of swaps) model.weights.set(name, t);
      for (const [k, v] of kernels) model.linearKernels.set(k, v);
      // Work recorded with the temporary tensors must reach the GPU before they are destroyed.
      try {
        await this.ctx.finish();
      } catch {
        // A lost device or a GPU error is reported by the run itself.
      }
      for (const [, , d] of swaps) destroyTensor(this.ctx, d);
    }
  }

  /**
   * Hand the loaded model to a training run (jobs/finetune.ts): sparse kernels off, as every step
   * changes the weights. Their zeros stay where they are; what a prune run reported is kept.
   */
  beginTraining(): GpuModel {
    const cur = this.requireModel();
    this.requireResident('Training');
    clearSparse(cur.model);
    return cur.model;
  }

  /**
   * The trained weights become the model's weights: there is no dense backup to go back to (a
   * reload gives the original), the prune report is folded into `info`, and exports read every
   * tensor from the GPU.
   */
  adoptTrained(info: Record<string, unknown>): void {
    const cur = this.requireModel();
    const pruned = cur.pruned ? { method: cur.pruned.method, target: cur.pruned.target, sparsity: cur.pruned.sparsity } : null;
    // An earlier run (or a fresh initialisation) the weights went through stays on record.
    cur.trained = { ...info, ...(pruned ? { pruned_before: pruned } : {}), ...(cur.trained ? { before: cur.trained } : {}) };
    cur.backup.clear();
    cur.pruned = null;
    this.contextualState = null;
  }

  /**
   * Replace every weight by fresh values as Hugging Face initialises a new model of the family
   * (train/init.ts), seeded: a model to train from scratch with the loaded folder's shapes and
   * tokenizer. There is no going back but a reload.
   */
  reinitialize(seed: number): InitSettings {
    const cur = this.requireModel();
    this.requireResident('Training from scratch');
    clearSparse(cur.model);
    const settings = initSettings(cur.model.spec, cur.folder.config);
    for (const [name, t] of cur.model.weights) cur.model.write(name, initialTensor(cur.model.spec, settings, name, t.shape, seed));
    this.adoptTrained({ initialised: { seed, std: settings.std } });
    return settings;
  }

  /** Put the dense weights back (after a prune run of any method, contextual included). */
  restoreDense(): void {
    const cur = this.requireModel();
    clearSparse(cur.model);
    // restoreContextual writes every chunk of a paged tensor (a large embedding whose token rows a
    // contextual run zeroed), where the driver's restoreDense writes chunk 0 only; for single-chunk
    // linear weights the two are the same.
    restoreContextual(cur.model, cur.backup);
    // The GPU holds the dense values again: the next run backs up only what it touches, so lists
    // built from the backup's names (export, sparse kernels) never carry an earlier run's tensors.
    cur.backup.clear();
    cur.pruned = null;
    this.contextualState = null;
  }

  /**
   * Run the pruned weights with sparse kernels: a fixed format, 'auto' (measured once per device,
   * shape and sparsity; the fastest kernel for decode and for prefill), or 'dense' (off).
   */
  async useSparse(mode: SparseMode): Promise<SparseChoice[]> {
    const cur = this.requireModel();
    if (mode !== 'dense') this.requireResident('Sparse kernels');
    const names = this.prunedWeightNames(cur);
    return this.guard(() => applySparse(cur.model, names, mode, this.sparseChoices));
  }

  /** Turn failures caused by a lost device into the DeviceLost error. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (this.lost) throw this.lost;
      throw e;
    }
  }

  /** Called once if the device is lost; the engine is unusable afterwards. */
  onDeviceLost(cb: (message: string) => void): void {
    this.lostCallbacks.push(cb);
    if (this.lost) cb(this.lost.message);
  }

  /** Free the loaded model's GPU memory. */
  unload(): void {
    this.dropTeacher();
    if (!this.current) return;
    clearSparse(this.current.model);
    this.current.model.stream?.release();
    for (const t of this.current.model.weights.values()) destroyTensor(this.ctx, t);
    this.current = null;
  }

  dispose(): void {
    this.disposed = true;
    this.unload();
    this.ctx.dispose();
    this.ctx.device.destroy();
  }
}
