// GGUF export read back with @huggingface/gguf (a reader independent of our writer): the header,
// llama.cpp's metadata keys per architecture, the tensor table (names, ggml shapes, types,
// offsets), and the data itself against the canonical tensors, llama's q/k row permutation and
// the fused q|k|v included; pruned zeros kept; OPT refused with the reason.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gguf } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { permuteRotary } from '../../../src/core/export/gguf';
import { ggufBytes } from '../../../src/core/export/gguf-writer';
import { byteLevelPre } from '../../../src/core/export/gguf-tokenizer';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { DEMO_MODEL, FIXTURE_MODELS, ROOT } from '../../helpers/fixtures';

let engine: Engine;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-test-'));
beforeAll(async () => {
  engine = await createNodeEngine();
});
afterAll(() => {
  engine?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function exportAndRead(dir: string, type: 'F32' | 'F16') {
  await loadNodeModel(engine, dir);
  const g = await engine.gguf(type);
  const bytes = await ggufBytes(g.meta, g.tensors);
  const file = path.join(tmp, `${path.basename(dir)}-${type}.gguf`);
  fs.writeFileSync(file, bytes);
  const parsed = await gguf(file, { allowLocalFile: true });
  return { g, bytes, parsed };
}

/** A tensor's values from the file, as f32. */
function tensorData(bytes: Uint8Array, dataOffset: number, info: { offset: bigint; shape: bigint[]; dtype: number }): Float32Array {
  const n = info.shape.reduce((a, b) => a * Number(b), 1);
  const at = dataOffset + Number(info.offset);
  if (info.dtype === 0) return new Float32Array(bytes.slice(at, at + 4 * n).buffer);
  const h = new Uint16Array(bytes.slice(at, at + 2 * n).buffer);
  return Float32Array.from(h, (x) => {
    const s = x & 0x8000 ? -1 : 1, e = (x >> 10) & 0x1f, f = x & 0x3ff;
    return e === 0 ? s * 2 ** -14 * (f / 1024) : e === 31 ? (f ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + f / 1024);
  });
}

const model = () => engine.gpuModel!;

const CASES: Array<[string, string, string]> = [
  ['stories260K', DEMO_MODEL, 'llama'],
  ['tiny-llama-tied-bf16', path.join(FIXTURE_MODELS, 'tiny-llama-tied-bf16'), 'llama'],
  ['tiny-qwen2', path.join(FIXTURE_MODELS, 'tiny-qwen2'), 'qwen2'],
  ['tiny-gpt2', path.join(FIXTURE_MODELS, 'tiny-gpt2'), 'gpt2'],
  ['tiny-gpt-neox', path.join(FIXTURE_MODELS, 'tiny-gpt-neox'), 'gptneox'],
  ['tiny-phi', path.join(FIXTURE_MODELS, 'tiny-phi'), 'phi2'],
];

describe.each(CASES)('%s', (_name, dir, arch) => {
  test('the header and metadata @huggingface/gguf reads back', async () => {
    const { parsed, g } = await exportAndRead(dir, 'F32');
    const m = parsed.metadata as Record<string, unknown>;
    const s = engine.gpuModel!.spec;
    expect(m.version).toBe(3);
    expect(m['general.architecture']).toBe(arch);
    expect(Number(m.tensor_count)).toBe(g.tensors.length);
    expect(m[`${arch}.block_count`]).toBe(s.nLayers);
    expect(m[`${arch}.embedding_length`]).toBe(s.hidden);
    expect(m[`${arch}.feed_forward_length`]).toBe(s.ffn);
    expect(m[`${arch}.attention.head_count`]).toBe(s.nHeads);
    expect(m[`${arch}.attention.head_count_kv`]).toBe(s.nKvHeads);
    expect(m[`${arch}.context_length`]).toBe(s.maxPositions);
    expect(m[s.norm === 'rms' ? `${arch}.attention.layer_norm_rms_epsilon` : `${arch}.attention.layer_norm_epsilon`]).toBeCloseTo(s.normEps, 10);
    if (s.rope) {
      expect(m[`${arch}.rope.dimension_count`]).toBe(s.rotaryDim);
      expect(m[`${arch}.rope.freq_base`]).toBeCloseTo(s.rope.theta, 0);
    }
    const tokens = m['tokenizer.ggml.tokens'] as string[];
    expect(tokens.length).toBe(s.vocabSize); // llama.cpp sizes its vocabulary from this list
    expect(m['tokenizer.ggml.model']).toBe(arch === 'llama' || arch === 'qwen2' ? 'llama' : 'gpt2');
    if (m['tokenizer.ggml.model'] === 'gpt2') {
      expect(m['tokenizer.ggml.pre']).toBe('gpt-2');
      expect((m['tokenizer.ggml.merges'] as string[]).length).toBeGreaterThan(0);
    }
    // Offsets: the running sum of padded sizes (llama.cpp checks it exactly).
    let offset = 0n;
    for (const t of parsed.tensorInfos) {
      expect(t.offset).toBe(offset);
      const n = t.shape.reduce((a, b) => a * b, 1n) * (t.dtype === 1 ? 2n : 4n);
      offset += ((n + 31n) / 32n) * 32n;
    }
    expect(parsed.tensorDataOffset % 32n).toBe(0n);
  });

  test('tensor data equals the canonical tensors, in llama.cpp layout', async () => {
    const { parsed, bytes } = await exportAndRead(dir, 'F32');
    const s = engine.gpuModel!.spec;
    const byName = new Map(parsed.tensorInfos.map((t) => [t.name, t]));
    const get = (n: string) => tensorData(bytes, Number(parsed.tensorDataOffset), byName.get(n)! as never);
    expect(byName.get('token_embd.weight')!.shape.map(Number)).toEqual([s.embedDim, s.vocabSize]); // ggml order
    expect([...get('token_embd.weight')]).toEqual([...(await model().read('embed.tokens'))]);
    const q = await model().read('layers.0.attn.q.weight');
    const k = await model().read('layers.0.attn.k.weight');
    const v = await model().read('layers.0.attn.v.weight');
    if (arch === 'llama') {
      expect([...get('blk.0.attn_q.weight')]).toEqual([...permuteRotary(q, s.nHeads, s.hidden)]);
      expect([...get('blk.0.attn_k.weight')]).toEqual([...permuteRotary(k, s.nKvHeads, s.hidden)]);
    } else if (arch === 'gpt2' || arch === 'gptneox') {
      expect([...get('blk.0.attn_qkv.weight')]).toEqual([...q, ...k, ...v]);
    } else {
      expect([...get('blk.0.attn_q.weight')]).toEqual([...q]);
    }
    expect([...get(`blk.${s.nLayers - 1}.ffn_down.weight`)]).toEqual([...(await model().read(`layers.${s.nLayers - 1}.mlp.down.weight`))]);
    if (s.rope?.type === 'llama3') expect(byName.has('rope_freqs.weight')).toBe(true);
  });

  test('F16: 2-D tensors F16, norms, biases and positions F32', async () => {
    const { parsed } = await exportAndRead(dir, 'F16');
    for (const t of parsed.tensorInfos) {
      const oneD = t.shape.length === 1 || t.name === 'position_embd.weight';
      expect(t.dtype, t.name).toBe(oneD ? 0 : 1);
    }
  });
});

test('pruned zeros are written as zeros', async () => {
  await loadNodeModel(engine, DEMO_MODEL);
  await engine.prune(fs.readFileSync(path.join(ROOT, 'public/data/sample-calib.txt'), 'utf8'), { method: 'magnitude', target: { kind: 'unstructured', sparsity: 0.5 }, calibSamples: 2, seqlen: 64 });
  const g = await engine.gguf('F16');
  const file = path.join(tmp, 'pruned.gguf');
  const bytes = await ggufBytes(g.meta, g.tensors);
  fs.writeFileSync(file, bytes);
  const parsed = await gguf(file, { allowLocalFile: true });
  for (const t of parsed.tensorInfos.filter((x) => /^blk\.\d+\.(attn_(q|k|v|output)|ffn_(gate|up|down))\.weight$/.test(x.name))) {
    const d = tensorData(bytes, Number(parsed.tensorDataOffset), t as never);
    const zeros = d.reduce((n, x) => n + (x === 0 ? 1 : 0), 0);
    expect(zeros / d.length, t.name).toBeGreaterThanOrEqual(0.5);
  }
});

test('OPT is refused with the reason', async () => {
  await loadNodeModel(engine, path.join(FIXTURE_MODELS, 'tiny-opt'));
  await expect(engine.gguf('F32')).rejects.toThrow(/llama\.cpp has no OPT architecture/);
});

describe('byte-level pre-tokenizers llama.cpp knows by name', () => {
  test.each([
    [{ type: 'ByteLevel', add_prefix_space: false, use_regex: true }, 'gpt-2'],
    [{ type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, { type: 'ByteLevel', use_regex: true }] }, 'smollm'],
    [{ type: 'ByteLevel', use_regex: false }, null],
    [{ type: 'Whitespace' }, null],
  ])('%j → %s', (pre, name) => expect(byteLevelPre(pre)).toBe(name));
});
