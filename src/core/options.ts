// Every user option the CLI and the page share, written once: its name on the command line, its
// label in the page, its range and its default, and one parser that gives the same message in
// both ("Dampening: --percdamp must be above 0 and at most 10 …; got "0"."). Core functions take
// parsed values and check their own preconditions once, at their entry, with the same specs.
//
// Also the pruning vocabulary every layer speaks: the methods, a target (a sparsity or N:M), its
// label, and per-sublayer overrides.
import { BadOption } from './errors';
import { parseBytes } from './units';

export interface NumberOption {
  /** The CLI flag, without "--". */
  flag: string;
  /** The page's label. */
  label: string;
  integer: boolean;
  min: number;
  /** min itself is not allowed (a positive real). */
  minExclusive?: boolean;
  max: number;
  /** The value when the option is not given (undefined: the option is optional and has none). */
  default?: number;
  /** What the number means, added to the message. */
  hint?: string;
}

export const OPTIONS = {
  /** Tokens per window, for calibration and evaluation alike. */
  seqlen: { flag: 'seqlen', label: 'Sequence length', integer: true, min: 2, max: 1 << 20, default: 256 },
  /** Keep only the first N evaluation windows. */
  maxWindows: { flag: 'max-windows', label: 'Max windows', integer: true, min: 1, max: 1e9 },
  /** Calibration windows (SparseGPT's nsamples). */
  calibSamples: { flag: 'calib-samples', label: 'Calibration samples', integer: true, min: 1, max: 100_000, default: 32 },
  /** Random calibration windows with this seed (default: the first windows of the text). */
  seed: { flag: 'seed', label: 'Seed', integer: true, min: 0, max: 2 ** 32 - 1 },
  /** SparseGPT's percdamp: λ = percdamp · mean(diag H). */
  percdamp: { flag: 'percdamp', label: 'Dampening', integer: false, min: 0, minExclusive: true, max: 10, default: 0.01, hint: 'a fraction of the mean Hessian diagonal, usually 0.01' },
  /** SparseGPT's block size (columns per lazy update). */
  blocksize: { flag: 'blocksize', label: 'Block size', integer: true, min: 1, max: 65_536, default: 128 },
  /** A decoder layer index (layers to skip). */
  skipLayer: { flag: 'skip-layers', label: 'Layers to skip', integer: true, min: 0, max: 4095 },
  /** SparseLLM alternations (the authors' 4). */
  sparsellmIterations: { flag: 'sparsellm-iterations', label: 'SparseLLM alternations', integer: true, min: 1, max: 50, default: 4 },

  // Training (finetune): the protocol's defaults (README, "Training").
  /** Optimizer steps S. */
  steps: { flag: 'steps', label: 'Steps', integer: true, min: 1, max: 10_000_000, default: 100 },
  /** Windows per step B (accumulated over micro-batches when they do not fit at once). */
  batch: { flag: 'batch', label: 'Batch (windows per step)', integer: true, min: 1, max: 65_536, default: 8 },
  /** Tokens per training window T. */
  trainSeqlen: { flag: 'seqlen', label: 'Training sequence length', integer: true, min: 2, max: 1 << 20, default: 128 },
  /** Peak learning rate of AdamW. */
  lr: { flag: 'lr', label: 'Learning rate', integer: false, min: 0, minExclusive: true, max: 1, default: 1e-3 },
  /** Linear warm-up steps W (then cosine decay to 0 at step S). */
  warmup: { flag: 'warmup', label: 'Warm-up steps', integer: true, min: 0, max: 10_000_000, default: 10 },
  /** AdamW's decoupled weight decay. */
  weightDecay: { flag: 'weight-decay', label: 'Weight decay', integer: false, min: 0, max: 1, default: 0 },
  /** Global gradient-norm clip (0: none). */
  clip: { flag: 'clip', label: 'Gradient clip (global norm)', integer: false, min: 0, max: 1e6, default: 0 },
  /** Evaluation windows of a training run (before and after). */
  evalSeqlen: { flag: 'eval-seqlen', label: 'Evaluation sequence length', integer: true, min: 2, max: 1 << 20, default: 256 },
  /** Measure the held-out perplexity every N steps too. */
  evalEvery: { flag: 'eval-every', label: 'Evaluate every (steps)', integer: true, min: 1, max: 10_000_000 },
  /** Steps between training checkpoints (weights, moments, masks, step). */
  checkpointEvery: { flag: 'checkpoint-every', label: 'Checkpoint every (steps)', integer: true, min: 1, max: 10_000_000 },
  /** Gradual magnitude pruning: the final sparsity s_f. */
  gmp: { flag: 'gmp', label: 'Final sparsity', integer: false, min: 0, max: 0.99 },
  /** GMP: the first pruning step t0. */
  gmpT0: { flag: 'gmp-t0', label: 'First pruning step', integer: true, min: 0, max: 10_000_000, default: 0 },
  /** GMP: steps between pruning steps Δt. */
  gmpDt: { flag: 'gmp-dt', label: 'Steps between prunings', integer: true, min: 1, max: 10_000_000, default: 10 },
  /** GMP: pruning steps after t0 (n; n + 1 prunings in all). */
  gmpN: { flag: 'gmp-n', label: 'Pruning steps', integer: true, min: 0, max: 100_000, default: 7 },
} as const satisfies Record<string, NumberOption>;

function rangeText(o: NumberOption): string {
  if (o.integer) return o.min >= 1 ? `a positive integer ${o.min === 1 ? 'up to' : `from ${o.min} to`} ${o.max}` : `a whole number from ${o.min} to ${o.max}`;
  return `${o.minExclusive ? 'above' : 'at least'} ${o.min} and at most ${o.max}`;
}

/** The named error for a value outside an option's range. */
export function optionError(o: NumberOption, raw: unknown): BadOption {
  const shown = typeof raw === 'string' ? `"${raw.slice(0, 40)}"` : String(raw);
  return new BadOption(`${o.label}: --${o.flag} must be ${rangeText(o)}${o.hint ? ` (${o.hint})` : ''}; got ${shown}.`);
}

/** Check a number against an option's range (the core's entry checks). */
export function checkOption(o: NumberOption, v: number): number {
  const ok = Number.isFinite(v) && (!o.integer || Number.isInteger(v)) && (o.minExclusive ? v > o.min : v >= o.min) && v <= o.max;
  if (!ok) throw optionError(o, v);
  return v;
}

/**
 * Parse an option from text (a CLI value or a page field): empty or absent gives the default
 * (undefined when it has none); anything else must be a number in range.
 */
export function parseOption<O extends NumberOption>(o: O, raw: string | undefined): O extends { default: number } ? number : number | undefined;
export function parseOption(o: NumberOption, raw: string | undefined): number | undefined {
  const s = (raw ?? '').trim();
  if (s === '') return o.default;
  if (o.integer ? !/^\d+$/.test(s) : !/^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) throw optionError(o, raw);
  return checkOption(o, Number(s));
}

// ---------------------------------------------------------------------------------------------
// Pruning vocabulary

export const METHODS = ['magnitude', 'wanda', 'sparsegpt', 'sparsellm'] as const;
export type PruneMethod = (typeof METHODS)[number];

/** Unstructured sparsity (fraction of weights removed) or N:M (N of every M consecutive inputs). */
export type Target = { kind: 'unstructured'; sparsity: number } | { kind: 'nm'; n: number; m: number };

/** What a one-shot pruning run is: the part of its options a recipe records too. */
export interface PruneRun {
  method: PruneMethod;
  target: Target;
  calibSamples: number;
  seqlen: number;
  /** Random calibration windows with this seed; default: the first windows of the text. */
  seed?: number;
  /** SparseGPT dampening, as a fraction of mean(diag H) (default: OPTIONS.percdamp). */
  percdamp?: number;
  /** SparseGPT block size in columns (default: OPTIONS.blocksize). */
  blocksize?: number;
  /**
   * Where SparseGPT factorises H, and where magnitude's and Wanda's masks are chosen (default:
   * defaultFactorisation of the adapter).
   */
  factorisation?: Factorisation;
  /** Decoder layers left dense. */
  skipLayers?: number[];
}

/**
 * SparseGPT's factorisation of H + λI into the upper factor of its inverse: on the GPU in f32 (the
 * published code's precision on CUDA), or in float64 on the CPU (the tests' oracle; cubic in the
 * width on one CPU thread). The same switch says where magnitude's and Wanda's masks are chosen
 * (the same masks either way; the GPU path has no readback of the weights).
 */
export const FACTORISATIONS = ['gpu', 'cpu'] as const;
export type Factorisation = (typeof FACTORISATIONS)[number];
/**
 * The default where: the GPU on a hardware adapter; the CPU on a software one, where the same f32
 * work runs 2–3× slower than float64 JavaScript (measured: bench prune, d = 768 and 2048).
 */
export function defaultFactorisation(softwareAdapter: boolean): Factorisation {
  return softwareAdapter ? 'cpu' : 'gpu';
}

export function parseFactorisation(raw: string): Factorisation {
  const v = raw.trim().toLowerCase();
  if (!(FACTORISATIONS as readonly string[]).includes(v)) {
    throw new BadOption(`--factorisation takes gpu (f32 on the GPU, as the published code) or cpu (float64 on the CPU); got "${raw.slice(0, 40)}".`);
  }
  return v as Factorisation;
}

export function parseMethod(m: string): PruneMethod {
  if (!(METHODS as readonly string[]).includes(m)) throw new BadOption(`Unknown method "${m.slice(0, 40)}"; choose one of ${METHODS.join(', ')}.`);
  return m as PruneMethod;
}

/** Parse "0.5" / "2:4" style targets and check their ranges. */
export function parseTarget(s: { sparsity?: number | string; pattern?: string }): Target {
  if (s.pattern !== undefined && s.sparsity !== undefined) throw new BadOption('Give either a sparsity or an N:M pattern, not both.');
  if (s.pattern !== undefined) {
    const m = /^(\d+):(\d+)$/.exec(s.pattern.trim());
    if (!m) throw new BadOption(`The pattern must look like N:M (e.g. 2:4); got "${s.pattern}".`);
    return checkTarget({ kind: 'nm', n: Number(m[1]), m: Number(m[2]) });
  }
  if (s.sparsity === undefined) throw new BadOption('Give a sparsity (e.g. 0.5) or an N:M pattern (e.g. 2:4).');
  return checkTarget({ kind: 'unstructured', sparsity: Number(s.sparsity) });
}

export function checkTarget(t: Target): Target {
  if (t.kind === 'unstructured') {
    if (!(t.sparsity >= 0 && t.sparsity < 1)) throw new BadOption(`Sparsity must be in [0, 1); got ${t.sparsity}.`);
  } else {
    if (!Number.isInteger(t.n) || !Number.isInteger(t.m) || t.n < 1 || t.m < 2) throw new BadOption(`N:M needs integers N ≥ 1 and M ≥ 2; got ${t.n}:${t.m}.`);
    if (t.n >= t.m) throw new BadOption(`N:M needs N < M (N of every M weights are pruned); got ${t.n}:${t.m}.`);
    if (t.m > 32) throw new BadOption(`M of an N:M pattern can be at most 32; got ${t.m}.`);
  }
  return t;
}

export function targetLabel(t: Target): string {
  return t.kind === 'nm' ? `${t.n}:${t.m}` : `${Math.round(t.sparsity * 1000) / 10}%`;
}

/**
 * "mlp.down=30%, layers.0.attn.q=2:4" → per-sublayer targets. Keys are canonical sublayer names
 * ("layers.3.mlp.down") or their layer-free suffix ("mlp.down", every layer); values a percent,
 * a fraction below 1, or an N:M pattern.
 */
export function parseOverrides(raw: string): Record<string, Target> {
  const out: Record<string, Target> = {};
  for (const part of raw.split(/[,;\n]+/).map((x) => x.trim()).filter(Boolean)) {
    const m = /^([\w.]+)\s*=\s*(\S+)$/.exec(part);
    if (!m) throw new BadOption(`Per-layer override "${part}" should look like "mlp.down=30%" or "layers.0.attn.q=2:4".`);
    const [, name, v] = m;
    let t: Target;
    if (/^\d+:\d+$/.test(v)) t = parseTarget({ pattern: v });
    else {
      const pct = v.endsWith('%');
      const x = Number(pct ? v.slice(0, -1) : v);
      if (!Number.isFinite(x)) throw new BadOption(`Per-layer override "${part}": "${v}" is not a sparsity (30%, 0.3) or an N:M pattern (2:4).`);
      if (!pct && x >= 1) throw new BadOption(`Per-layer override "${part}": sparsities are fractions below 1 (0.3) or percents (30%).`);
      t = checkTarget({ kind: 'unstructured', sparsity: pct ? x / 100 : x });
    }
    if (name in out) throw new BadOption(`Per-layer override for ${name} is given twice.`);
    out[name] = t;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Training vocabulary

/** Distillation terms a training run can add to its cross-entropy (a teacher gives both). */
export const DISTILL_TERMS = ['kl', 'squarehead'] as const;
export type DistillTerm = (typeof DISTILL_TERMS)[number];

/**
 * "kl", "squarehead" or "kl,squarehead": KL(teacher ‖ model) per predicted token, SquareHead's
 * per-layer normalised MSE to the teacher's hidden states, or both. Returned in DISTILL_TERMS order.
 */
export function parseDistill(raw: string): DistillTerm[] {
  const parts = raw.split(/[,+]/).map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = parts.filter((p) => !(DISTILL_TERMS as readonly string[]).includes(p));
  if (!parts.length || bad.length) {
    throw new BadOption(`--distill takes kl (KL divergence to the teacher's next-token distribution), squarehead (per-layer hidden-state distillation, SquareHead) or kl,squarehead; got "${raw.slice(0, 40)}".`);
  }
  return DISTILL_TERMS.filter((t) => parts.includes(t));
}

/** The terms as one label ("kl", "squarehead", "kl+squarehead"), or null without distillation. */
export function distillLabel(terms: readonly DistillTerm[] | undefined): string | null {
  return terms?.length ? DISTILL_TERMS.filter((t) => terms.includes(t)).join('+') : null;
}

/**
 * --gpu-budget SIZE (the page's GPU budget field): bytes of weights allowed on the GPU at once;
 * a larger model is streamed layer by layer (nn/stream.ts).
 */
export function parseGpuBudget(text: string): number {
  const n = parseBytes(text);
  if (!Number.isFinite(n) || n <= 0) throw new BadOption(`The GPU budget (--gpu-budget) must be a size such as 1GiB, 4GB or 512MiB; got "${text.slice(0, 40)}".`);
  return Math.floor(n);
}
