// Plain-data summaries that cross the worker boundary and appear in the UI and CLI JSON.
// No tensors here: only numbers and strings.

export interface AdapterSummary {
  /** Human-readable adapter name, e.g. "NVIDIA H100 (vulkan)" or "SwiftShader (software)". */
  description: string;
  vendor: string;
  architecture: string;
  isSoftware: boolean;
  features: string[];
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
  };
}

export interface TensorSummary {
  /** Hugging Face name as stored in the file. */
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
  file: string;
}

export interface ModelSummary {
  name: string;
  family: string;
  architecture: string;
  parameters: number;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  vocabSize: number;
  dtype: string;
  /** Bytes of the weight files' tensor data. */
  bytes: number;
  /** Bytes the weights take on the GPU in f32 (all of them; streamed models hold a part at a time). */
  gpuBytes: number;
  /** Bytes of weights allowed on the GPU at once (LoadOptions.gpuBudget or the adapter's default). */
  gpuBudget: number;
  /** The weights exceed the budget: they stay on the host and go to the GPU a layer at a time. */
  streamed: boolean;
  files: string[];
  tensors: TensorSummary[];
  hasTokenizer: boolean;
  /** Rotary settings as read from config.json (either transformers form); null for learned positions. */
  rope: RopeParams | null;
  /** config.json's dtype / torch_dtype. */
  configDtype: string | null;
  /** What the load noticed that the user should know (ignored config fields, unused tensors). */
  notes: string[];
  /** Set when the folder had no weight files: every tensor was initialised as the family does (to train from scratch). */
  fresh?: true;
  /** Set when the folder was exported by Prune Studio after pruning (its prune_studio.json). */
  prunedBy: { method: string; target: unknown; sparsity: number } | null;
}

export interface PerplexityOptions {
  seqlen: number;
  /** Keep only the first N windows. */
  maxWindows?: number;
  /** Names decoder layer i in error messages (e.g. "model.layers.3"); default "layers.i". */
  layerLabel?: (i: number) => string;
}

export interface PerplexityResult {
  ppl: number;
  /** Mean NLL per predicted token (nats). */
  nll: number;
  windows: number;
  /** Predicted tokens = windows × (seqlen − 1). */
  tokens: number;
  seconds: number;
  adapter: string;
}

export interface Progress {
  /** What is running, e.g. "perplexity". */
  phase: string;
  done: number;
  total: number;
  /** Free-form detail, e.g. "window 3/40". */
  detail?: string;
  /**
   * How far along by estimated work, when the steps are unequal (pruning: a layer's statistics,
   * each sublayer and the re-forward weighted by their multiply-adds); else done / total is.
   */
  fraction?: number;
  /** Sweeps: the point being measured (1-based) and the number of points. */
  point?: number;
  points?: number;
  /** Downloads (phase "download", done/total in bytes): the file, its bytes and the rate. */
  download?: DownloadProgress;
  /** Training (phase "train", done = steps taken): the loss of step `done`. */
  loss?: number;
  /** Training: a checkpoint of step `checkpoint` was saved. */
  checkpoint?: number;
}

export type ProgressFn = (p: Progress) => void;

export type RopeType = 'default' | 'linear' | 'llama3';

/** The rotary settings after both config forms are merged (transformers 5's rope_parameters). */
export interface RopeParams {
  type: RopeType;
  theta: number;
  /** Share of each head that rotates. */
  partial: number;
  /** linear and llama3 */
  factor?: number;
  /** llama3 */
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositions?: number;
}

/** A download's progress (phase "download"): bytes of all files, the current file, the rate. */
export interface DownloadProgress {
  /** Bytes held of all the files to download (complete files and parts of partial ones). */
  done: number;
  total: number;
  /** The file being downloaded, with its bytes. */
  file: string;
  fileDone: number;
  fileTotal: number;
  /** Download rate over the last seconds (bytes/s); 0 until measured. */
  bytesPerSecond: number;
  /** Files finished, of all. */
  files: number;
  fileCount: number;
}

/**
 * The settings of the training protocol (README, "Training"), as the job, its checkpoints, the
 * float64 oracle and the llm-compressor recipe all hold them.
 */
export interface TrainProtocol {
  steps: number;
  /** Windows per step B. */
  batch: number;
  /** Tokens per window T. */
  seqlen: number;
  lr: number;
  /** Warm-up steps W (then cosine to 0 at step S). */
  warmup: number;
  weightDecay: number;
  /** Global-norm clip (0: none). */
  clip: number;
}

/** Where the loaded model's weights are on the GPU, and how much GPU memory the engine has used. */
export interface GpuMemory {
  /** Bytes of weights allowed on the GPU at once. */
  budget: number;
  /** Every weight's bytes in f32. */
  weightBytes: number;
  /** The weights exceed the budget and go to the GPU a layer at a time. */
  streamed: boolean;
  /** Bytes of weights on the GPU now, and the most there have been. */
  residentBytes: number;
  peakResidentBytes: number;
  /** Every buffer the engine holds now (weights, activations, statistics), and the most at once. */
  liveBytes: number;
  peakBytes: number;
}
