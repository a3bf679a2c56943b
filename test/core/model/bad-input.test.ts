// Bad input gets a specific, named error: truncated or hostile safetensors, broken folders,
// unsupported architectures, missing tokenizers, unusable text. No crash, no hang.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BadModelFile, BadOption, BadText, MissingFile, UnsupportedArchitecture } from '../../../src/core/errors';
import { makeWindows } from '../../../src/core/eval/perplexity';
import { decodeTextFile } from '../../../src/core/eval/text';
import { bytesSource, type FileSource } from '../../../src/core/io/file-source';
import { openModelFolder } from '../../../src/core/model/folder';
import { readSafetensorsHeader, readTensorF32 } from '../../../src/core/model/safetensors';
import { writeSafetensors } from '../../../src/core/export/safetensors-write';
import { loadTokenizer } from '../../../src/core/tokenizer/tokenizer';
import { DEMO_MODEL } from '../../helpers/fixtures';

const demo = (name: string) => bytesSource(fs.readFileSync(path.join(DEMO_MODEL, name)), name);
const demoFolder = () => fs.readdirSync(DEMO_MODEL).filter((n) => !n.endsWith('.md')).map(demo);
const text = (s: string, name: string) => bytesSource(new TextEncoder().encode(s), name);

/** A safetensors file with a hand-written header (data region of `dataLen` zero bytes). */
function rawSafetensors(header: unknown, dataLen: number): FileSource {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + dataLen);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  return bytesSource(out, 'model.safetensors');
}

describe('safetensors reader', () => {
  test('a header that is not 8-byte aligned still works', async () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const bytes = writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2, 3], data }], undefined, { alignHeader: false });
    const h = await readSafetensorsHeader(bytesSource(bytes, 'x.safetensors'));
    expect(h.dataStart % 8).not.toBe(0);
    expect(Array.from(await readTensorF32(h.tensors.get('w')!))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('F16 and BF16 are decoded to f32', async () => {
    const data = Float32Array.from([0.5, -2, 65504, 1 / 3]);
    for (const dtype of ['F16', 'BF16'] as const) {
      const h = await readSafetensorsHeader(bytesSource(writeSafetensors([{ name: 'w', dtype, shape: [4], data }]), 'x'));
      const got = await readTensorF32(h.tensors.get('w')!);
      got.forEach((v, i) => expect(Math.abs(v - data[i])).toBeLessThan(Math.abs(data[i]) * (dtype === 'F16' ? 1e-3 : 8e-3)));
    }
  });

  test('a truncated file', async () => {
    const full = fs.readFileSync(path.join(DEMO_MODEL, 'model.safetensors'));
    const cut = bytesSource(full.subarray(0, Math.floor(full.length / 2)), 'model.safetensors');
    await expect(readSafetensorsHeader(cut)).rejects.toThrow(BadModelFile);
    await expect(readSafetensorsHeader(cut)).rejects.toThrow(/run past the end of the data .* truncated/);
    await expect(readSafetensorsHeader(bytesSource(full.subarray(0, 5), 'm.safetensors'))).rejects.toThrow(/too short/);
    await expect(readSafetensorsHeader(bytesSource(full.subarray(0, 100), 'm.safetensors'))).rejects.toThrow(/truncated/);
  });

  test('overlapping offsets', async () => {
    const f = rawSafetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, 24);
    await expect(readSafetensorsHeader(f)).rejects.toThrow(/"a" and "b" have overlapping data_offsets/);
  });

  test('offsets past the end', async () => {
    const f = rawSafetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8);
    await expect(readSafetensorsHeader(f)).rejects.toThrow(/run past the end/);
  });

  test('offsets that do not match the shape', async () => {
    const f = rawSafetensors({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, 16);
    await expect(readSafetensorsHeader(f)).rejects.toThrow(/needs 12 bytes but data_offsets give 16/);
  });

  test('an unknown dtype', async () => {
    const f = rawSafetensors({ a: { dtype: 'F99', shape: [4], data_offsets: [0, 16] } }, 16);
    await expect(readSafetensorsHeader(f)).rejects.toThrow(/unknown dtype "F99"/);
  });

  test('a known dtype the engine does not compute with', async () => {
    const h = await readSafetensorsHeader(rawSafetensors({ a: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, 16));
    await expect(readTensorF32(h.tensors.get('a')!)).rejects.toThrow(/dtype I64; Prune Studio reads F32, F16 and BF16/);
  });

  test('a hostile header length and a header that is not JSON', async () => {
    const big = new Uint8Array(16);
    new DataView(big.buffer).setUint32(4, 0x10, true); // 2^36 bytes
    await expect(readSafetensorsHeader(bytesSource(big, 'm.safetensors'))).rejects.toThrow(/exceeds the .*-byte limit/);
    const junk = new Uint8Array(20);
    new DataView(junk.buffer).setUint32(0, 12, true);
    junk.set(new TextEncoder().encode('{not json!!}'), 8);
    await expect(readSafetensorsHeader(bytesSource(junk, 'm.safetensors'))).rejects.toThrow(/not valid UTF-8 JSON/);
  });
});

describe('model folder', () => {
  test('the demo folder opens', async () => {
    const f = await openModelFolder(demoFolder());
    expect(f.spec.family).toBe('llama');
    expect(f.unused).toEqual([]);
  });

  test('missing config.json', async () => {
    await expect(openModelFolder(demoFolder().filter((f) => f.name !== 'config.json'))).rejects.toThrow(MissingFile);
    await expect(openModelFolder(demoFolder().filter((f) => f.name !== 'config.json'))).rejects.toThrow(/no config.json/);
  });

  test('an unsupported architecture names the supported ones', async () => {
    const files = demoFolder().map((f) => (f.name === 'config.json' ? text('{"model_type": "mamba"}', 'config.json') : f));
    await expect(openModelFolder(files)).rejects.toThrow(UnsupportedArchitecture);
    await expect(openModelFolder(files)).rejects.toThrow(/"mamba" is not supported. Supported model types: llama, qwen2, gpt2, opt, gpt_neox, phi/);
  });

  test('weights that do not match config.json', async () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(DEMO_MODEL, 'config.json'), 'utf8'));
    const files = demoFolder().map((f) => (f.name === 'config.json' ? text(JSON.stringify({ ...cfg, hidden_size: 128 }), 'config.json') : f));
    await expect(openModelFolder(files)).rejects.toThrow(/has shape \[512, 64\] .* implies \[512, 128\]/);
  });

  test('no weights, or only a PyTorch .bin', async () => {
    const noWeights = demoFolder().filter((f) => !f.name.endsWith('.safetensors'));
    await expect(openModelFolder(noWeights)).rejects.toThrow(/No .safetensors weights/);
    await expect(openModelFolder([...noWeights, text('x', 'pytorch_model.bin')])).rejects.toThrow(/pytorch_model.bin, which Prune Studio does not read/);
  });

  test('a shard listed in the index is missing', async () => {
    const index = text(JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }), 'model.safetensors.index.json');
    const files = [...demoFolder().filter((f) => !f.name.endsWith('.safetensors')), index, demo('model.safetensors')];
    await expect(openModelFolder(files)).rejects.toThrow(/missing from the folder: "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"/);
  });

  test('a missing tokenizer', async () => {
    const files = new Map(demoFolder().filter((f) => !f.name.startsWith('tokenizer')).map((f) => [f.name, f]));
    await expect(loadTokenizer(files)).rejects.toThrow(MissingFile);
    await expect(loadTokenizer(files)).rejects.toThrow(/No tokenizer found/);
  });
});

describe('text', () => {
  test('a binary file is refused', () => {
    const bin = fs.readFileSync(path.join(DEMO_MODEL, 'model.safetensors'));
    expect(() => decodeTextFile(bin, 'model.safetensors')).toThrow(BadText);
    expect(() => decodeTextFile(bin, 'model.safetensors')).toThrow(/is not a text file/);
    expect(() => decodeTextFile(Uint8Array.from([0xff, 0xfe, 0x41, 0x42]), 'x.txt')).toThrow(/not valid UTF-8/);
    expect(() => decodeTextFile(new Uint8Array(0), 'empty.txt')).toThrow(/is empty/);
  });

  test('a text shorter than one window', () => {
    expect(() => makeWindows([1, 2, 3], 256)).toThrow(BadText);
    expect(() => makeWindows([1, 2, 3], 256)).toThrow(/has 3 tokens, fewer than one window of 256/);
  });

  test('windows: floor(n / seqlen), tail dropped, max windows kept first', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => i);
    const w = makeWindows(ids, 256);
    expect(w.windows.length).toBe(3);
    expect(w.windows[1][0]).toBe(256);
    expect(makeWindows(ids, 256, 2).windows.length).toBe(2);
    expect(() => makeWindows(ids, 1)).toThrow(BadOption);
    expect(() => makeWindows(ids, 256, 0)).toThrow(BadOption);
  });
});
