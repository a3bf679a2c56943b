// Everything a model load checks before any GPU work: the folder (config, weight headers, the
// family's tensor plan) and the tokenizer, and that the tokenizer's ids fit the model's vocab.
// Engine.loadModel starts from this; the bad-file corpus tests it without a GPU.
import { BadModelFile, TooLargeForDevice } from '../errors';
import type { FileSource } from '../io/file-source';
import { loadTokenizer, type TextTokenizer } from '../tokenizer/tokenizer';
import { openModelFolder, type ModelFolder, type OpenFolderOptions } from './folder';
import { formatBytes } from '../units';

/**
 * Tensors are uploaded in pages of whole rows, each page one storage binding: a row larger than
 * the adapter's binding limit cannot be run in pieces, so such a model is refused up front, with
 * the numbers, before anything is read or uploaded.
 */
export function checkFitsDevice(folder: ModelFolder, maxBindingBytes: number): void {
  for (const p of folder.plans) {
    for (const o of p.outputs) {
      const rowBytes = 4 * (o.shape.length > 1 ? o.shape.slice(1).reduce((a, b) => a * b, 1) : o.shape[0] ?? 1);
      if (rowBytes > maxBindingBytes) {
        throw new TooLargeForDevice(
          `${p.hf} has rows of ${formatBytes(rowBytes)} (shape [${o.shape.join(', ')}], computed in f32), but this GPU binds at most ${formatBytes(maxBindingBytes)} per buffer, so it cannot be run even in pieces. A GPU (or browser) with a larger maxStorageBufferBindingSize is needed.`,
        );
      }
    }
  }
}

export async function openModel(files: readonly FileSource[], limits?: { maxBindingBytes: number }, opts?: OpenFolderOptions): Promise<{ folder: ModelFolder; tokenizer: TextTokenizer }> {
  const folder = await openModelFolder(files, opts);
  if (limits) checkFitsDevice(folder, limits.maxBindingBytes);
  const tokenizer = await loadTokenizer(folder.files);
  if (tokenizer.size > folder.spec.vocabSize) {
    throw new BadModelFile(
      `The tokenizer can produce ids up to ${tokenizer.size - 1}, but the model's vocab_size is ${folder.spec.vocabSize}: the tokenizer does not belong to this model.`,
    );
  }
  return { folder, tokenizer };
}
