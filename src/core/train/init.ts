// Fresh weights as Hugging Face initialises a new model of each family (PreTrainedModel
// _init_weights): every Linear and Embedding weight ~ N(0, std²) with std = initializer_range
// (OPT: init_std; 0.02 when absent), linear biases 0, norm weights 1 and biases 0, the padding
// token's embedding row 0 where the family's embedding has a padding index (llama, qwen2, opt:
// pad_token_id); GPT-2 also scales its residual projections (c_proj of attention and MLP) by
// 1/sqrt(2·n_layer). Drawn from the project's seeded PRNG, so a seed gives the same model in the
// browser and in Node.
import { BadOption } from '../errors';
import type { ModelSpec } from '../model/spec';
import { mulberry32 } from '../random';

export interface InitSettings {
  std: number;
  /** GPT-2's residual projections: std / sqrt(2·nLayers). */
  scaledResidual: boolean;
  /** Embedding row kept at 0 (HF nn.Embedding padding_idx), or null. */
  paddingRow: number | null;
}

/** The family's initialisation settings from its config.json. */
export function initSettings(spec: ModelSpec, config: Record<string, unknown>): InitSettings {
  const raw = spec.family === 'opt' ? config.init_std : config.initializer_range;
  const std = raw === undefined ? 0.02 : Number(raw);
  if (!Number.isFinite(std) || std <= 0) throw new BadOption(`The config's ${spec.family === 'opt' ? 'init_std' : 'initializer_range'} must be a positive number to initialise a model; got ${JSON.stringify(raw)}.`);
  const pad = config.pad_token_id;
  const padded = spec.family === 'llama' || spec.family === 'qwen2' || spec.family === 'opt';
  const paddingRow = padded && typeof pad === 'number' && Number.isInteger(pad) && pad >= 0 && pad < spec.vocabSize ? pad : null;
  return { std, scaledResidual: spec.family === 'gpt2', paddingRow };
}

/** A canonical tensor's fresh values (row-major in its shape). */
export function initialTensor(spec: ModelSpec, s: InitSettings, name: string, shape: number[], seed: number): Float32Array<ArrayBuffer> {
  const n = shape.reduce((a, b) => a * b, 1);
  if (/norm\.weight$/.test(name)) return new Float32Array(n).fill(1);
  if (/\.bias$/.test(name)) return new Float32Array(n);
  let std = s.std;
  if (s.scaledResidual && /^layers\.\d+\.(attn\.o|mlp\.down)\.weight$/.test(name)) std /= Math.sqrt(2 * spec.nLayers);
  // One stream per tensor (seed and name), so the values do not depend on the order of tensors.
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const rand = mulberry32(h);
  const out = new Float32Array(n);
  // Box–Muller: pairs of uniforms to pairs of standard normals.
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    const a = 2 * Math.PI * rand();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  if (name === 'embed.tokens' && s.paddingRow !== null) out.fill(0, s.paddingRow * shape[1], (s.paddingRow + 1) * shape[1]);
  return out;
}
