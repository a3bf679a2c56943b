// A training checkpoint as one safetensors file, the same bytes in the CLI (a file) and the page
// (the Origin Private File System): per model tensor NAME, "w.NAME" (F32), and for trainable ones
// "m.NAME", "v.NAME" (F32, AdamW's moments; absent at step 0, when they are zeros) and "mask.NAME"
// (U8, 1 = kept) where a mask applies; the metadata "prune_studio_checkpoint" holds the rest of the
// FinetuneCheckpoint as JSON (step, losses, evaluations, the run's settings and text fingerprints).
import { BadModelFile } from '../errors';
import { writeSafetensors, type AnyTensorToWrite } from '../export/safetensors-write';
import { bytesSource, type FileSource } from '../io/file-source';
import { readSafetensorsHeader, readTensorF32 } from '../model/safetensors';
import type { TrainState } from '../train/trainer';
import type { FinetuneCheckpoint } from './finetune';

const KEY = 'prune_studio_checkpoint';
const FORMAT = 1;

export function encodeCheckpoint(ck: FinetuneCheckpoint): Uint8Array<ArrayBuffer> {
  const tensors: AnyTensorToWrite[] = [];
  for (const t of ck.state.tensors) {
    const shape = [t.w.length];
    tensors.push({ name: `w.${t.name}`, dtype: 'F32', shape, data: t.w });
    if (t.m) tensors.push({ name: `m.${t.name}`, dtype: 'F32', shape, data: t.m });
    if (t.v) tensors.push({ name: `v.${t.name}`, dtype: 'F32', shape, data: t.v });
    if (t.mask) tensors.push({ name: `mask.${t.name}`, dtype: 'U8', shape, bytes: t.mask });
  }
  const { state: _state, ...rest } = ck;
  const meta = { format: FORMAT, ...rest };
  return writeSafetensors(tensors, { [KEY]: JSON.stringify(meta) }) as Uint8Array<ArrayBuffer>;
}

/** Read a checkpoint written by encodeCheckpoint; `what` names the file in errors. */
export async function decodeCheckpoint(file: FileSource | Uint8Array, what = 'the checkpoint'): Promise<FinetuneCheckpoint> {
  const src = file instanceof Uint8Array ? bytesSource(file, 'checkpoint.safetensors') : file;
  let header;
  try {
    header = await readSafetensorsHeader(src);
  } catch (e) {
    throw new BadModelFile(`${what} is not a training checkpoint: ${e instanceof Error ? e.message : String(e)}`);
  }
  const raw = header.metadata[KEY];
  if (!raw) throw new BadModelFile(`${what} is a safetensors file but not a training checkpoint (no "${KEY}" metadata).`);
  let meta: Omit<FinetuneCheckpoint, 'state'> & { format: number };
  try {
    meta = JSON.parse(raw);
  } catch {
    throw new BadModelFile(`${what}: its checkpoint metadata is not valid JSON.`);
  }
  if (meta.format !== FORMAT) throw new BadModelFile(`${what} has checkpoint format ${meta.format}; this version reads format ${FORMAT}.`);
  const names = [...header.tensors.keys()].filter((n) => n.startsWith('w.')).map((n) => n.slice(2));
  const f32 = async (n: string) => {
    const t = header.tensors.get(n);
    return t ? ((await readTensorF32(t)) as Float32Array<ArrayBuffer>) : null;
  };
  const tensors: TrainState['tensors'] = [];
  for (const name of names) {
    const mk = header.tensors.get(`mask.${name}`);
    let mask: Uint8Array<ArrayBuffer> | null = null;
    if (mk) {
      if (mk.dtype !== 'U8') throw new BadModelFile(`${what}: mask.${name} is ${mk.dtype}, not U8.`);
      mask = new Uint8Array(await mk.file.slice(mk.begin, mk.end));
    }
    tensors.push({ name, w: (await f32(`w.${name}`))!, m: await f32(`m.${name}`), v: await f32(`v.${name}`), mask });
  }
  const { format: _format, ...rest } = meta;
  return { ...rest, state: { step: meta.step, tensors } };
}
