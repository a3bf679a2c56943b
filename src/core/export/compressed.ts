// Export the model in compressed-tensors' `sparse-bitmask` format (the layout transformers and
// vLLM load through the compressed-tensors package), for users who take the pruned model further.
//
// Folder: config.json with a `quantization_config` block, the tokenizer and generation files as
// they were, model.safetensors, and prune_studio.json. In model.safetensors every pruned weight
// `<m>.weight` (2-D, as stored in the checkpoint, so GPT-2's Conv1D weights stay (in, out)) is
// replaced by the four tensors compressed-tensors' BitmaskCompressor writes for it:
//   <m>.shape        I64 [2]              the dense shape [N, K]
//   <m>.compressed   dtype of the weight   [nnz] the nonzero values in row-major order
//   <m>.bitmask      U8 [N, ceil(K/8)]     numpy.packbits(W != 0, axis=-1, bitorder="little")
//   <m>.row_offsets  I64 [N]               index in `compressed` of each row's first value
// (src/core/sparse/formats.ts, `bitmask`, holds the same layout). "Zero" means `w == 0`, as
// compressed-tensors' `tensor != 0`: a stored -0 comes back as +0. Every other tensor is written
// dense, unchanged. Tensors are ordered by element size (8-byte ones first, bytes last), as the
// reference safetensors writer does, so that each one starts aligned to its element size.
//
// config.json gets, as compressed-tensors' ModelCompressor.update_config writes it:
//   quantization_config: { quant_method: "compressed-tensors",
//     sparsity_config: { format: "sparse-bitmask", global_sparsity, sparsity_structure,
//                        targets: [module names], ignore: [] } }
// global_sparsity = zeros / parameters over the whole model (llm-compressor's
// SparsityConfigMetadata.infer_global_sparsity); sparsity_structure = "unstructured" or the
// run's "N:M". Targets are the exact module names of the compressed weights. compressed-tensors
// decompresses by walking the checkpoint's keys to module paths, so tensor names must be the
// model's own module paths: GPT-2 and OPT checkpoints stored without the base-model prefix
// ("h.0…", "decoder.…", as the Hub's gpt2 is) get "transformer." / "model." added.
import { BadOption } from '../errors';
import { countNonzeros, encodeBitmask } from '../model/sparse-formats';
import { decodeToF32, encodeFromF32, isSupportedDType, type DType } from '../model/dtypes';
import { copiedFiles, type ExportFile } from './hf';
import type { ModelFolder } from '../model/folder';
import type { TensorInfo } from '../model/safetensors';
import { writeSafetensors, RAW_DTYPE_BYTES, type RawTensorToWrite } from './safetensors-write';

export interface CompressedExportOptions {
  /** HF tensor names (as in the source checkpoint) to store in the bitmask layout. */
  compress: ReadonlySet<string>;
  /** "unstructured", or the N:M pattern of the prune run ("2:4"). */
  sparsityStructure: string;
  /** Written as prune_studio.json, with a `compressed` block added. */
  info: Record<string, unknown>;
}

export interface CompressedExportStats {
  /** Bytes of the tensor data if every tensor were stored dense (the dense export's data). */
  denseTensorBytes: number;
  /** Bytes of the tensor data of the compressed file. */
  compressedTensorBytes: number;
  /** Zeros / parameters over every float tensor of the model. */
  globalSparsity: number;
  /** Module names of the compressed weights (sparsity_config.targets). */
  targets: string[];
}

export interface CompressedExport {
  files: ExportFile[];
  stats: CompressedExportStats;
}

/** Module-path prefix of the causal-LM class where checkpoints may leave it out. */
const BASE_PREFIX: Partial<Record<string, { prefix: string; bare: RegExp }>> = {
  gpt2: { prefix: 'transformer.', bare: /^(wte|wpe|h|ln_f)\./ },
  opt: { prefix: 'model.', bare: /^decoder\./ },
};

/** The tensor's name as a module path of the transformers model. */
export function modulePathName(family: string, name: string): string {
  const p = BASE_PREFIX[family];
  return p && p.bare.test(name) ? p.prefix + name : name;
}

function i64Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]);
  return new Uint8Array(out.buffer);
}

function elementBytes(t: { dtype: string }): number {
  return RAW_DTYPE_BYTES[t.dtype as keyof typeof RAW_DTYPE_BYTES];
}

/**
 * Build the folder. `read` gives the current values of a source tensor (f32, row-major in its
 * stored shape): the engine reads pruned weights back from the GPU, tests read a folder's own.
 */
export async function exportCompressed(
  folder: ModelFolder,
  read: (t: TensorInfo) => Promise<Float32Array>,
  opts: CompressedExportOptions,
): Promise<CompressedExport> {
  for (const name of opts.compress) {
    const t = folder.tensors.get(name);
    if (!t) throw new BadOption(`Cannot compress ${name}: the model has no such tensor.`);
    if (t.shape.length !== 2) throw new BadOption(`Cannot compress ${name}: the bitmask format stores 2-D weights, and its shape is [${t.shape.join(', ')}].`);
    if (!isSupportedDType(t.dtype)) throw new BadOption(`Cannot compress ${name}: dtype ${t.dtype} is not a float dtype.`);
  }
  const family = folder.spec.family;
  const tensors: RawTensorToWrite[] = [];
  const targets: string[] = [];
  let denseTensorBytes = 0;
  let params = 0;
  let zeros = 0;
  for (const t of folder.tensors.values()) {
    if (!isSupportedDType(t.dtype)) continue; // integer buffers, as in the dense export
    const dtype = t.dtype as DType;
    // Round to the stored dtype first: the mask is taken on exactly the values a dense export stores.
    const stored = encodeFromF32(await read(t), dtype);
    const values = decodeToF32(stored.slice().buffer, dtype);
    const name = modulePathName(family, t.name);
    denseTensorBytes += stored.byteLength;
    params += values.length;
    zeros += values.length - countNonzeros(values);
    if (!opts.compress.has(t.name)) {
      tensors.push({ name, dtype, shape: t.shape, bytes: stored });
      continue;
    }
    const [N, K] = t.shape;
    const m = encodeBitmask(values, N, K, 'f32');
    const prefix = name.replace(/\.weight$/, '');
    targets.push(prefix);
    tensors.push(
      { name: `${prefix}.shape`, dtype: 'I64', shape: [2], bytes: i64Bytes([N, K]) },
      { name: `${prefix}.compressed`, dtype, shape: [m.values.length], bytes: encodeFromF32(m.values as Float32Array, dtype) },
      { name: `${prefix}.bitmask`, dtype: 'U8', shape: [N, Math.ceil(K / 8)], bytes: m.bitmask },
      { name: `${prefix}.row_offsets`, dtype: 'I64', shape: [N], bytes: i64Bytes(m.rowOffsets) },
    );
  }
  // Widest elements first (stable within a width): every tensor starts aligned to its element.
  const ordered = tensors.map((t, i) => ({ t, i })).sort((a, b) => elementBytes(b.t) - elementBytes(a.t) || a.i - b.i).map((x) => x.t);
  const compressedTensorBytes = ordered.reduce((s, t) => s + t.bytes.byteLength, 0);
  const globalSparsity = params > 0 ? zeros / params : 0;

  const files: ExportFile[] = [];
  for (const f of await copiedFiles(folder)) {
    if (f.name !== 'config.json') {
      files.push(f);
      continue;
    }
    const config = JSON.parse(new TextDecoder().decode(f.bytes)) as Record<string, unknown>;
    config.quantization_config = {
      quant_method: 'compressed-tensors',
      sparsity_config: {
        format: 'sparse-bitmask',
        global_sparsity: globalSparsity,
        sparsity_structure: opts.sparsityStructure,
        targets,
        ignore: [],
      },
    };
    files.push({ name: 'config.json', bytes: new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`) });
  }
  files.push({ name: 'model.safetensors', bytes: writeSafetensors(ordered, { format: 'pt', producer: 'prune-studio' }) });
  const stats: CompressedExportStats = { denseTensorBytes, compressedTensorBytes, globalSparsity, targets };
  const info = {
    ...opts.info,
    compressed: {
      format: 'compressed-tensors sparse-bitmask',
      sparsity_structure: opts.sparsityStructure,
      global_sparsity: globalSparsity,
      dense_tensor_bytes: denseTensorBytes,
      compressed_tensor_bytes: compressedTensorBytes,
      compressed_modules: targets.length,
    },
  };
  files.push({ name: 'prune_studio.json', bytes: new TextEncoder().encode(`${JSON.stringify(info, null, 2)}\n`) });
  return { files, stats };
}
