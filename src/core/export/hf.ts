// Export the model in memory as a Hugging Face folder: config and tokenizer files copied as they
// were, model.safetensors with the original tensor names, order and dtypes, pruned weights with
// their zeros in place (dense layout), and prune_studio.json describing what was done. Tensors
// the engine did not change are copied value for value from the source file.
import { isSupportedDType, type DType } from '../model/dtypes';
import type { ModelFolder } from '../model/folder';
import { readTensorF32, type TensorInfo } from '../model/safetensors';
import { writeSafetensors, type TensorToWrite } from './safetensors-write';
import type { GpuModel } from '../nn/model';

export interface ExportFile {
  name: string;
  bytes: Uint8Array;
}

/** Files copied from the source folder besides the weights. */
const COPIED = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|vocab\.json|merges\.txt|tokenizer\.model|added_tokens\.json)$/;

/** The config, generation config and tokenizer files of the source folder, byte for byte. */
export async function copiedFiles(folder: ModelFolder): Promise<ExportFile[]> {
  const files: ExportFile[] = [];
  for (const [name, f] of folder.files) {
    if (COPIED.test(name)) files.push({ name, bytes: new Uint8Array(await f.slice(0, f.size)) });
  }
  return files;
}

/**
 * The current values of an HF tensor (f32, row-major in its stored shape): read back from the GPU
 * and merged into the HF layout when one of its canonical parts is in `changed`, else read from
 * the source file.
 */
export function currentValues(folder: ModelFolder, model: GpuModel, changed: ReadonlySet<string>): (t: TensorInfo) => Promise<Float32Array> {
  const planOf = new Map(folder.plans.map((p) => [p.hf, p]));
  return async (t) => {
    const plan = planOf.get(t.name);
    // A config-only folder has no file to read: its tensors live on the GPU only.
    if (plan && (folder.fresh || plan.outputs.some((o) => changed.has(o.name)))) {
      return plan.merge(await Promise.all(plan.outputs.map((o) => model.read(o.name))));
    }
    return readTensorF32(t);
  };
}

export async function exportHF(
  folder: ModelFolder,
  model: GpuModel,
  changed: ReadonlySet<string>,
  info: Record<string, unknown>,
): Promise<ExportFile[]> {
  const files = await copiedFiles(folder);
  const read = currentValues(folder, model, changed);
  const tensors: TensorToWrite[] = [];
  for (const t of folder.tensors.values()) {
    if (!isSupportedDType(t.dtype)) continue; // integer buffers (masks, position ids) are not weights
    tensors.push({ name: t.name, dtype: t.dtype as DType, shape: t.shape, data: await read(t) });
  }
  files.push({ name: 'model.safetensors', bytes: writeSafetensors(tensors, { format: 'pt', producer: 'prune-studio' }) });
  files.push({ name: 'prune_studio.json', bytes: new TextEncoder().encode(`${JSON.stringify(info, null, 2)}\n`) });
  return files;
}
