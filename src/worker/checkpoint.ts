// The page's training checkpoint: one file in the Origin Private File System, written by the worker
// (the bytes never cross to the page) every N steps of a run, read back when the run resumes after a
// reload, a pause or a lost device, and removed when the run ends. createWritable() commits on close, so a
// reload mid-write leaves the previous checkpoint whole.
import { decodeCheckpoint, encodeCheckpoint } from '../core/jobs/checkpoint';
import type { FinetuneCheckpoint } from '../core/jobs/finetune';
import { blobSource } from '../core/io/file-source';

const NAME = 'prune-studio-train-checkpoint.safetensors';

/** The last checkpoint of this worker's life: a pause resumes from it even where OPFS cannot keep one. */
let memory: FinetuneCheckpoint | null = null;

async function root(): Promise<FileSystemDirectoryHandle | null> {
  if (!navigator.storage?.getDirectory) return null;
  try {
    return await navigator.storage.getDirectory();
  } catch {
    return null;
  }
}

/**
 * Keep `c` (in memory, and in OPFS to outlive a reload); false when this browser cannot write it
 * (no OPFS, no createWritable, storage full): the run goes on, resumable only in this page's life.
 */
export async function saveCheckpoint(c: FinetuneCheckpoint): Promise<boolean> {
  memory = c;
  const dir = await root();
  if (!dir) return false;
  try {
    const handle = await dir.getFileHandle(NAME, { create: true });
    if (!('createWritable' in handle)) return false;
    const w = await handle.createWritable();
    await w.write(encodeCheckpoint(c));
    await w.close();
    return true;
  } catch {
    return false;
  }
}

/** The saved checkpoint, or null when there is none. */
export async function loadCheckpoint(): Promise<FinetuneCheckpoint | null> {
  if (memory) return memory;
  const dir = await root();
  if (!dir) return null;
  let file: File;
  try {
    file = await (await dir.getFileHandle(NAME)).getFile();
  } catch {
    return null;
  }
  return decodeCheckpoint(blobSource(file, NAME), 'The saved training checkpoint');
}

export async function dropCheckpoint(): Promise<void> {
  memory = null;
  const dir = await root();
  await dir?.removeEntry(NAME).catch(() => undefined);
}
