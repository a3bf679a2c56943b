// Random-weight checkpoints with the exact configs of the small models people compress, written
// as a Hugging Face folder in F16 (config.json, model.safetensors, the demo model's tokenizer):
// what `npm run bench -- scale` loads, streams and prunes. The weights are N(0, 1/fan_in)-like
// uniform values, norms 1, biases 0 — shapes, dtypes and bytes as the real checkpoint, not its
// numbers. The file is written tensor by tensor (TinyLlama's is 2.2 GB).
//   npx tsx bench/scale-models.ts tinyllama-1.1b /tmp/tinyllama   (one model into a folder)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigFields } from '../src/core/model/config';
import { f32ToF16 } from '../src/core/model/dtypes';
import { familyFor } from '../src/core/model/families';
import { anyTensorNames } from '../src/core/model/folder';

/** config.json of each model as published on the Hub (the fields the families read, and the dtype). */
export const SCALE_CONFIGS: Record<string, Record<string, unknown>> = {
  // facebook/opt-125m
  'opt-125m': {
    architectures: ['OPTForCausalLM'], model_type: 'opt', hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12,
    ffn_dim: 3072, vocab_size: 50272, max_position_embeddings: 2048, word_embed_proj_dim: 768, do_layer_norm_before: true,
    activation_function: 'relu', enable_bias: true, layer_norm_elementwise_affine: true, bos_token_id: 2, eos_token_id: 2,
    pad_token_id: 1, torch_dtype: 'float16',
  },
  // HuggingFaceTB/SmolLM2-135M
  'smollm2-135m': {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
    num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152, max_position_embeddings: 8192, rms_norm_eps: 1e-5,
    rope_theta: 100000, tie_word_embeddings: true, hidden_act: 'silu', attention_bias: false, mlp_bias: false,
    bos_token_id: 0, eos_token_id: 0, torch_dtype: 'bfloat16',
  },
  // Qwen/Qwen2.5-0.5B
  'qwen2.5-0.5b': {
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
    num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, max_position_embeddings: 32768, rms_norm_eps: 1e-6,
    rope_theta: 1000000, tie_word_embeddings: true, hidden_act: 'silu', use_sliding_window: false, sliding_window: 32768,
    max_window_layers: 24, bos_token_id: 151643, eos_token_id: 151643, torch_dtype: 'bfloat16',
  },
  // TinyLlama/TinyLlama-1.1B-Chat-v1.0
  'tinyllama-1.1b': {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22,
    num_attention_heads: 32, num_key_value_heads: 4, vocab_size: 32000, max_position_embeddings: 2048, rms_norm_eps: 1e-5,
    rope_theta: 10000, tie_word_embeddings: false, hidden_act: 'silu', attention_bias: false, mlp_bias: false,
    bos_token_id: 1, eos_token_id: 2, torch_dtype: 'bfloat16',
  },
};

const DEMO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../public/models/stories260K');

/** The HF tensors a folder with this config holds: name and stored shape, in the family's order. */
export function checkpointTensors(config: Record<string, unknown>): Array<{ name: string; shape: number[]; kind: 'matrix' | 'norm' | 'bias' }> {
  const fam = familyFor(config);
  const names = anyTensorNames();
  const spec = fam.spec(new ConfigFields(config, fam.fields.aliases), names);
  return fam.plan(spec, names).map((p) => ({
    name: p.hf, shape: p.hfShape,
    kind: p.hfShape.length > 1 ? 'matrix' : /norm|ln|layernorm/i.test(p.hf) && p.hf.endsWith('.weight') ? 'norm' : 'bias',
  }));
}

/**
 * Write the folder (F16 weights) unless it is there with the same config and a complete file.
 * Returns the folder and the file's bytes.
 */
export function writeScaleModel(name: string, dir: string): { dir: string; bytes: number } {
  const config = SCALE_CONFIGS[name];
  if (!config) throw new Error(`no scale model "${name}" (${Object.keys(SCALE_CONFIGS).join(', ')})`);
  const tensors = checkpointTensors(config);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: `random weights with ${name}'s config (Prune Studio bench)` } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
    header[t.name] = { dtype: 'F16', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const file = path.join(dir, 'model.safetensors');
  const total = 8 + json.length + offset;
  const cfgText = JSON.stringify(config, null, 2);
  if (fs.existsSync(file) && fs.statSync(file).size === total && fs.readFileSync(path.join(dir, 'config.json'), 'utf8') === cfgText) return { dir, bytes: total };
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) fs.copyFileSync(path.join(DEMO, f), path.join(dir, f));
  const fd = fs.openSync(`${file}.partial`, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    fs.writeSync(fd, len);
    fs.writeSync(fd, json);
    let seed = 1;
    for (const t of tensors) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const out = new Uint16Array(n);
      if (t.kind === 'norm') out.fill(f32ToF16(1));
      else if (t.kind === 'matrix') {
        // Uniform with the variance of N(0, 1/fan_in): ±sqrt(3 / fan_in); f16 of a few levels.
        const s = Math.sqrt(3 / t.shape[t.shape.length - 1]);
        const levels = new Uint16Array(4096);
        for (let i = 0; i < levels.length; i++) levels[i] = f32ToF16(((i + 0.5) / levels.length * 2 - 1) * s);
        let a = seed++ >>> 0;
        for (let i = 0; i < n; i++) {
          a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
          out[i] = levels[a >>> 20];
        }
      }
      fs.writeSync(fd, new Uint8Array(out.buffer));
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.writeFileSync(path.join(dir, 'config.json'), cfgText);
  fs.renameSync(`${file}.partial`, file);
  return { dir, bytes: total };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, dir] = process.argv.slice(2);
  if (!name || !dir) {
    process.stderr.write(`usage: npx tsx bench/scale-models.ts ${Object.keys(SCALE_CONFIGS).join('|')} DIR\n`);
    process.exit(2);
  }
  const r = writeScaleModel(name, dir);
  process.stdout.write(`${r.dir}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB\n`);
}
