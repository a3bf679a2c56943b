// Shared pieces of the family mappings: reading config fields safely and describing how HF
// tensors become canonical tensors (see ../spec.ts for the canonical names and layouts).
import { BadModelFile } from '../../errors';
import type { ConfigFields, ConfigFieldTable } from '../config';
import type { Family, ModelSpec } from '../spec';

/** One HF tensor and the canonical tensor(s) made from it. */
export interface TensorPlan {
  hf: string;
  /** The HF tensor's stored shape (a config-only folder's tensors are written in it). */
  hfShape: number[];
  outputs: Array<{ name: string; shape: number[] }>;
  /** Turn the HF tensor's f32 data (row-major in its stored shape) into the outputs, in order. */
  split(data: Float32Array): Float32Array[];
  /** The inverse of split: the outputs back into the HF tensor's layout (export). */
  merge(parts: Float32Array[]): Float32Array;
}

export interface FamilyDef {
  family: Family;
  modelTypes: string[];
  /** The config fields this family reads and those that cannot change its logits. */
  fields: ConfigFieldTable;
  spec(config: ConfigFields, tensorNames: Set<string>): ModelSpec;
  plan(spec: ModelSpec, tensorNames: Set<string>): TensorPlan[];
}

export { type HFConfig } from '../config';

/**
 * The decoder layer count: every layer has several tensors, so a count above the number of
 * tensors in the checkpoint is a wrong or hostile config (and would make per-layer tables huge).
 */
export function layerCount(c: ConfigFields, key: string, tensorNames: Set<string>): number {
  const n = c.dim(key, undefined, 4096);
  if (n > tensorNames.size) {
    throw new BadModelFile(`config.json: field "${key}" = ${n} layers, but the weights hold only ${tensorNames.size} tensors; the config does not belong to these weights.`);
  }
  return n;
}

/** A tensor copied as it is (shape checked by the loader against the HF header). */
export function same(hf: string, name: string, shape: number[]): TensorPlan {
  return { hf, hfShape: shape, outputs: [{ name, shape }], split: (d) => [d], merge: (p) => p[0] };
}

/** Conv1D (GPT-2) stores (in, out); canonical linears are (out, in). */
export function transposed(hf: string, name: string, outF: number, inF: number): TensorPlan {
  return {
    hf,
    hfShape: [inF, outF],
    outputs: [{ name, shape: [outF, inF] }],
    split: (d) => [transpose(d, inF, outF)],
    merge: (p) => transpose(p[0], outF, inF),
  };
}

/** x: (rows, cols) -> (cols, rows). */
export function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}

/**
 * Add plans for a weight and, when the config gives the module a bias, its bias. As in
 * transformers, the config decides: a bias the config does not declare is not loaded (it is
 * listed among the unused tensors), and a declared one missing from the weights is an error.
 */
export function linear(plans: TensorPlan[], hfBase: string, name: string, outF: number, inF: number, bias: boolean): void {
  plans.push(same(`${hfBase}.weight`, `${name}.weight`, [outF, inF]));
  if (bias) plans.push(same(`${hfBase}.bias`, `${name}.bias`, [outF]));
}

/** Add plans for a norm's weight and (LayerNorm) bias. */
export function norm(plans: TensorPlan[], hfBase: string, name: string, C: number, bias: boolean): void {
  plans.push(same(`${hfBase}.weight`, `${name}.weight`, [C]));
  if (bias) plans.push(same(`${hfBase}.bias`, `${name}.bias`, [C]));
}

/** The first prefix p (from candidates) for which `${p}${probe}` is in the checkpoint. */
export function findPrefix(names: Set<string>, candidates: string[], probe: string, family: string): string {
  for (const p of candidates) if (names.has(p + probe)) return p;
  throw new BadModelFile(
    `the weights have no tensor "${candidates[0]}${probe}"${candidates.length > 1 ? ` (nor ${candidates.slice(1).map((p) => `"${p}${probe}"`).join(', ')})` : ''}, which every ${family} checkpoint has. Are these the weights that belong to this config.json?`,
  );
}

export function uniformScale(nLayers: number, headDim: number): number[] {
  return new Array(nLayers).fill(1 / Math.sqrt(headDim));
}

/** Concatenate row-major parts. */
export function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
