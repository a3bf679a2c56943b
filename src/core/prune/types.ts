// Pruning options and reports shared by the methods, the driver, the worker and the CLI (the
// vocabulary of methods and targets is the options module's: ../options.ts).
import { BadOption } from '../errors';
import type { PruneMethod, PruneRun, Target } from '../options';
import type { SparseLlmOptions } from './sparsellm';

export { METHODS, type PruneMethod, type Target, checkTarget, parseMethod, parseOverrides, parseTarget, targetLabel } from '../options';

export interface PruneOptions extends PruneRun {
  /** Per-sublayer targets by canonical name ("layers.3.mlp.down") or suffix ("mlp.down"). */
  overrides?: Record<string, Target>;
  /** SparseLLM only: alternations, penalty weights, which alternation to keep (see sparsellm.ts). */
  sparsellm?: Partial<SparseLlmOptions>;
}

export interface SublayerReport {
  /** Canonical sublayer name, e.g. "layers.0.attn.q". */
  name: string;
  /** Hugging Face module name, e.g. "model.layers.0.self_attn.q_proj" (set by the engine). */
  hf?: string;
  /** Fraction of zeros after pruning. */
  sparsity: number;
  /** ||WX − ŴX||² / ||WX||² over the calibration inputs. */
  rel_error: number;
  /** SparseGPT: the dampening used (λ = percdamp · mean diag H, ×10 per retry). */
  damp?: number;
  note?: string;
  /** SparseLLM (on the MLP's down sublayer): the MLP output error ‖Y − Ŷ‖²/‖Y‖² after each alternation. */
  history?: number[];
  /** SparseLLM: the alternation whose weights were kept. */
  kept?: number;
}

export interface PhaseTimes {
  statistics: number;
  factorisation: number;
  sweep: number;
  reforward: number;
}

export interface PruneReport {
  method: PruneMethod;
  target: Target;
  /** Achieved sparsity over all pruned sublayers (zeros / weights). */
  sparsity: number;
  layers: SublayerReport[];
  seconds: number;
  /** Seconds per phase per decoder layer (benchmarks). */
  phases: PhaseTimes[];
  /** SparseGPT factorisations (one per distinct H per layer: q/k/v share one, gate/up one); 0 for the other methods. */
  factorisations: number;
  warnings: string[];
}

/** An N:M target needs the sublayer's input width (and SparseGPT's block size) divisible by M. */
export function checkTargetFits(t: Target, name: string, C: number, blocksize: number): void {
  if (t.kind !== 'nm') return;
  if (C % t.m !== 0) throw new BadOption(`${t.n}:${t.m} needs input widths divisible by ${t.m}, but ${name} has ${C} inputs.`);
  if (blocksize % t.m !== 0) throw new BadOption(`${t.n}:${t.m} needs a block size divisible by ${t.m}; got ${blocksize}.`);
}

/** Every override key must name at least one sublayer that is pruned (typos would be ignored). */
export function checkOverrides(overrides: Record<string, Target>, sublayers: string[]): void {
  const short = new Set(sublayers.map((n) => n.replace(/^layers\.\d+\./, '')));
  const full = new Set(sublayers);
  for (const key of Object.keys(overrides)) {
    if (!full.has(key) && !short.has(key)) {
      const examples = [...short].join(', ');
      throw new BadOption(`Per-layer override "${key}" matches no pruned sublayer. Use a sublayer name such as ${examples}, optionally with a layer: "layers.0.${[...short][0] ?? 'mlp.down'}".`);
    }
  }
}
