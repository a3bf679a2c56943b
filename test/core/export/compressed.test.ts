// The compressed-tensors sparse-bitmask export. (1) Tiny fixture models pruned on the GPU (Dawn):
// every compressed weight, decoded here with an independent reading of compressed-tensors'
// layout (numpy.unpackbits little bit order, values in row-major order, int64 row_offsets), equals
// the dense-with-zeros export byte for byte, every other tensor is the same bytes, and config.json
// carries the sparsity_config. (2) The file size of a 50%-sparse f16 model whose weights are
// dominated by wide linear layers, against the dense file (pure CPU: the folder holds pruned
// weights already, as a model pruned elsewhere would).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { BadOption } from '../../../src/core/errors';
import { bytesSource, type FileSource } from '../../../src/core/io/file-source';
import type { ExportFile } from '../../../src/core/export/hf';
import { exportCompressed, modulePathName } from '../../../src/core/export/compressed';
import { openModelFolder } from '../../../src/core/model/folder';
import { readSafetensorsHeader, readTensorF32, type TensorInfo } from '../../../src/core/model/safetensors';
import { writeSafetensors, type TensorToWrite } from '../../../src/core/export/safetensors-write';
import type { PruneOptions } from '../../../src/core/prune/types';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { CALIB_TEXT as calib, FIXTURE_MODELS } from '../../helpers/fixtures';


interface Parsed {
  tensors: Map<string, TensorInfo>;
  bytes(name: string): Promise<Uint8Array>;
  /** Bytes of the data section (everything after the header). */
  dataBytes: number;
}

async function parse(file: ExportFile): Promise<Parsed> {
  const src = bytesSource(file.bytes, file.name);
  const h = await readSafetensorsHeader(src);
  return {
    tensors: h.tensors,
    bytes: async (name) => {
      const t = h.tensors.get(name);
      if (!t) throw new Error(`no tensor ${name}`);
      return new Uint8Array(await src.slice(t.begin, t.end));
    },
    dataBytes: src.size - h.dataStart,
  };
}

const file = (files: ExportFile[], name: string) => {
  const f = files.find((x) => x.name === name);
  if (!f) throw new Error(`no ${name} in [${files.map((x) => x.name).join(', ')}]`);
  return f;
};

const ELEMENT: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * Rebuild the dense stored bytes of `<prefix>.weight` from its four compressed tensors, reading
 * the layout as compressed-tensors' bitmask_decompress does: bit k of a row is bit (k & 7) of byte
 * k >> 3 of that row's ceil(K/8) bytes; set bits take the next value of `compressed` in row-major
 * order. Also checks row_offsets against the per-row counts.
 */
async function decodeBitmask(p: Parsed, prefix: string): Promise<{ dtype: string; shape: number[]; bytes: Uint8Array; nnz: number }> {
  const shapeT = p.tensors.get(`${prefix}.shape`)!;
  const valuesT = p.tensors.get(`${prefix}.compressed`)!;
  const maskT = p.tensors.get(`${prefix}.bitmask`)!;
  const offT = p.tensors.get(`${prefix}.row_offsets`)!;
  expect(shapeT.dtype).toBe('I64');
  expect(shapeT.shape).toEqual([2]);
  expect(maskT.dtype).toBe('U8');
  expect(offT.dtype).toBe('I64');
  const shape = Array.from(new BigInt64Array((await p.bytes(`${prefix}.shape`)).slice().buffer), Number);
  const [N, K] = shape;
  const bpr = Math.ceil(K / 8);
  expect(maskT.shape).toEqual([N, bpr]);
  expect(offT.shape).toEqual([N]);
  const mask = await p.bytes(`${prefix}.bitmask`);
  const offsets = Array.from(new BigInt64Array((await p.bytes(`${prefix}.row_offsets`)).slice().buffer), Number);
  const values = await p.bytes(`${prefix}.compressed`);
  const eb = ELEMENT[valuesT.dtype];
  const out = new Uint8Array(N * K * eb);
  let v = 0;
  for (let r = 0; r < N; r++) {
    expect(offsets[r]).toBe(v);
    for (let k = 0; k < K; k++) {
      if ((mask[r * bpr + (k >> 3)] >> (k & 7)) & 1) {
        out.set(values.subarray(v * eb, (v + 1) * eb), (r * K + k) * eb);
        v++;
      }
    }
    // Padding bits past K in a row's last byte are zero (numpy.packbits pads with zeros).
    if (K % 8) expect(mask[r * bpr + bpr - 1] >> (K % 8)).toBe(0);
  }
  expect(v).toBe(valuesT.shape[0]);
  return { dtype: valuesT.dtype, shape, bytes: out, nnz: v };
}

/** Compare a compressed export with the dense export of the same weights, tensor by tensor. */
async function compareWithDense(family: string, dense: ExportFile[], compressed: ExportFile[], expectCompressed: number) {
  const d = await parse(file(dense, 'model.safetensors'));
  const c = await parse(file(compressed, 'model.safetensors'));
  const used = new Set<string>();
  let compressedCount = 0;
  let zeroValues = 0;
  for (const [name, t] of d.tensors) {
    const cname = modulePathName(family, name);
    const want = await d.bytes(name);
    if (c.tensors.has(cname)) {
      expect(c.tensors.get(cname)!.dtype, name).toBe(t.dtype);
      expect(Buffer.from(await c.bytes(cname)).equals(Buffer.from(want)), `${name} copied unchanged`).toBe(true);
      used.add(cname);
      continue;
    }
    const prefix = cname.replace(/\.weight$/, '');
    expect(c.tensors.has(`${prefix}.bitmask`), `${name} is neither dense nor compressed`).toBe(true);
    const got = await decodeBitmask(c, prefix);
    expect(got.dtype, name).toBe(t.dtype);
    expect(got.shape, name).toEqual(t.shape);
    expect(Buffer.from(got.bytes).equals(Buffer.from(want)), `${name} decodes to the dense export bit for bit`).toBe(true);
    // The dense weight really is sparse, and every stored value is nonzero.
    const values = await readTensorF32(c.tensors.get(`${prefix}.compressed`)!);
    zeroValues += values.filter((x) => x === 0).length;
    for (const s of ['shape', 'compressed', 'bitmask', 'row_offsets']) used.add(`${prefix}.${s}`);
    compressedCount++;
  }
  expect(zeroValues).toBe(0);
  expect(compressedCount).toBe(expectCompressed);
  expect([...c.tensors.keys()].filter((n) => !used.has(n))).toEqual([]);
  return { dense: d, compressed: c };
}

describe('compressed export of pruned fixture models (GPU)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createNodeEngine();
  });
  afterAll(() => engine?.dispose());

  const cases: Array<{ model: string; family: string; options: PruneOptions; structure: string; compressed: number }> = [
    // F16 Qwen2 (q/k/v biases stay dense), Wanda 50 %: 2 layers × 7 linear weights.
    { model: 'tiny-qwen2', family: 'qwen2', options: { method: 'wanda', target: { kind: 'unstructured', sparsity: 0.5 }, calibSamples: 4, seqlen: 64 }, structure: 'unstructured', compressed: 14 },
    // F16 Qwen2, SparseGPT 2:4 with layer 1 skipped: only layer 0's 7 weights are compressed.
    { model: 'tiny-qwen2', family: 'qwen2', options: { method: 'sparsegpt', target: { kind: 'nm', n: 2, m: 4 }, calibSamples: 4, seqlen: 64, skipLayers: [1] }, structure: '2:4', compressed: 7 },
    // F32 GPT-2 without the "transformer." prefix: Conv1D weights stored (in, out), fused c_attn
    // (its q, k, v parts pruned separately, stored as one tensor), names get the prefix.
    { model: 'tiny-gpt2', family: 'gpt2', options: { method: 'magnitude', target: { kind: 'unstructured', sparsity: 0.6 }, calibSamples: 4, seqlen: 32 }, structure: 'unstructured', compressed: 8 },
  ];

  test.each(cases)('$model $options.method $structure', async ({ model, family, options, structure, compressed }) => {
    await loadNodeModel(engine, path.join(FIXTURE_MODELS, model));
    await expect(engine.exportCompressed()).rejects.toThrow(BadOption);
    const report = await engine.prune(calib, options);
    const dense = await engine.exportModel();
    const { files, stats } = await engine.exportCompressed();
    expect(files.map((f) => f.name).sort()).toEqual(dense.map((f) => f.name).sort());

    const { dense: d, compressed: c } = await compareWithDense(family, dense, files, compressed);

    const config = JSON.parse(new TextDecoder().decode(file(files, 'config.json').bytes));
    const source = JSON.parse(new TextDecoder().decode(file(dense, 'config.json').bytes));
    expect({ ...config, quantization_config: undefined }).toEqual({ ...source, quantization_config: undefined });
    const q = config.quantization_config;
    expect(q.quant_method).toBe('compressed-tensors');
    expect(q.sparsity_config.format).toBe('sparse-bitmask');
    expect(q.sparsity_config.sparsity_structure).toBe(structure);
    expect(q.sparsity_config.ignore).toEqual([]);
    expect(q.sparsity_config.targets).toHaveLength(compressed);
    for (const t of q.sparsity_config.targets) expect(c.tensors.has(`${t}.bitmask`), t).toBe(true);
    // Every HF module of the prune report is a target (fused parts share one module).
    const hfModules = new Set(report.layers.map((l) => modulePathName(family, l.hf!.replace(/\[.*\]$/, ''))));
    expect(new Set(q.sparsity_config.targets)).toEqual(hfModules);
    expect(q.sparsity_config.global_sparsity).toBeCloseTo(stats.globalSparsity, 12);
    expect(stats.globalSparsity).toBeGreaterThan(0.05);
    expect(stats.denseTensorBytes).toBe(d.dataBytes);
    expect(stats.compressedTensorBytes).toBe(c.dataBytes);
    for (const name of ['tokenizer.json', 'tokenizer_config.json']) {
      if (dense.some((f) => f.name === name)) expect(Buffer.from(file(files, name).bytes).equals(Buffer.from(file(dense, name).bytes))).toBe(true);
    }
    const info = JSON.parse(new TextDecoder().decode(file(files, 'prune_studio.json').bytes));
    expect(info.pruned.method).toBe(options.method);
    expect(info.compressed.sparsity_structure).toBe(structure);
    console.log(`${model} ${options.method} ${structure}: compressed file ${file(files, 'model.safetensors').bytes.byteLength} B vs dense ${file(dense, 'model.safetensors').bytes.byteLength} B`);
  });
});

/** mulberry32 stream in [-1, 1). */
function uniform(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Zero the smaller half (by |w|) of every row: exactly 50 % per row, as Wanda with equal norms. */
function pruneRows(w: Float32Array, N: number, K: number): Float32Array {
  for (let r = 0; r < N; r++) {
    const row = w.subarray(r * K, (r + 1) * K);
    const order = Array.from(row.keys()).sort((a, b) => Math.abs(row[a]) - Math.abs(row[b]));
    for (let i = 0; i < K / 2; i++) row[order[i]] = 0;
  }
  return w;
}

test('a 50%-sparse f16 model: the compressed file is at most 57% of the dense one', async () => {
  // Llama shapes with wide linear layers and a tiny vocabulary, so the weights are nearly all
  // linear (as in real models, where the embeddings are a few percent): hidden 1024, MLP 2048.
  const H = 1024;
  const F = 2048;
  const V = 16;
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: H,
    intermediate_size: F,
    num_hidden_layers: 1,
    num_attention_heads: 8,
    num_key_value_heads: 8,
    vocab_size: V,
    max_position_embeddings: 64,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    hidden_act: 'silu',
    torch_dtype: 'float16',
  };
  const linear: Array<[string, number, number]> = [
    ['model.layers.0.self_attn.q_proj.weight', H, H],
    ['model.layers.0.self_attn.k_proj.weight', H, H],
    ['model.layers.0.self_attn.v_proj.weight', H, H],
    ['model.layers.0.self_attn.o_proj.weight', H, H],
    ['model.layers.0.mlp.gate_proj.weight', F, H],
    ['model.layers.0.mlp.up_proj.weight', F, H],
    ['model.layers.0.mlp.down_proj.weight', H, F],
  ];
  const tensors: TensorToWrite[] = [
    { name: 'model.embed_tokens.weight', dtype: 'F16', shape: [V, H], data: uniform(V * H, 1) },
    { name: 'model.layers.0.input_layernorm.weight', dtype: 'F16', shape: [H], data: new Float32Array(H).fill(1) },
    { name: 'model.layers.0.post_attention_layernorm.weight', dtype: 'F16', shape: [H], data: new Float32Array(H).fill(1) },
    ...linear.map(([name, N, K], i): TensorToWrite => ({ name, dtype: 'F16', shape: [N, K], data: pruneRows(uniform(N * K, 10 + i), N, K) })),
    { name: 'model.norm.weight', dtype: 'F16', shape: [H], data: new Float32Array(H).fill(1) },
  ];
  const weights = writeSafetensors(tensors, { format: 'pt' });
  const sources: FileSource[] = [
    bytesSource(new TextEncoder().encode(JSON.stringify(config)), 'wide/config.json'),
    bytesSource(weights, 'wide/model.safetensors'),
  ];
  const folder = await openModelFolder(sources);
  const { files, stats } = await exportCompressed(folder, readTensorF32, {
    compress: new Set(linear.map(([name]) => name)),
    sparsityStructure: 'unstructured',
    info: { producer: 'test' },
  });
  const out = file(files, 'model.safetensors');
  const ratio = out.bytes.byteLength / weights.byteLength;
  const tensorRatio = stats.compressedTensorBytes / stats.denseTensorBytes;
  console.log(`50% f16 model: compressed ${out.bytes.byteLength} B / dense ${weights.byteLength} B = ${ratio.toFixed(4)} (tensor data ${tensorRatio.toFixed(4)})`);
  expect(ratio).toBeLessThanOrEqual(0.57);
  // The linear weights are exactly half zeros; the norms and embeddings add none.
  expect(stats.globalSparsity).toBeCloseTo(0.5 * (1 - (V * H + 3 * H) / (4 * H * H + 3 * H * F + V * H + 3 * H)), 9);
  // And it decodes back to the same model.
  const c = await parse(out);
  for (const [name, N, K] of linear) {
    const got = await decodeBitmask(c, name.replace(/\.weight$/, ''));
    expect(got.shape).toEqual([N, K]);
    expect(got.nnz).toBe((N * K) / 2);
    const want = folder.tensors.get(name)!;
    const wantBytes = new Uint8Array(await want.file.slice(want.begin, want.end));
    expect(Buffer.from(got.bytes).equals(Buffer.from(wantBytes)), name).toBe(true);
  }
});
