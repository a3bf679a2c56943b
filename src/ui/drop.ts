// Turning a drop (or a picker's FileList) into model files with relative paths. A dropped folder is
// walked with DataTransferItem.webkitGetAsEntry(); the entries must be taken synchronously inside
// the drop handler, because the DataTransfer is emptied once the event returns.
import type { ModelFile } from '../worker/protocol';

const MAX_FILES = 10_000;
const MAX_DEPTH = 8;

export interface DropSnapshot {
  entries: FileSystemEntry[];
  /** Items that are files without a filesystem entry (e.g. a DataTransfer built by a script). */
  files: File[];
}

/** Call synchronously in the drop handler. */
export function snapshotDataTransfer(dt: DataTransfer): DropSnapshot {
  const entries: FileSystemEntry[] = [];
  const files: File[] = [];
  for (const item of Array.from(dt.items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) {
      entries.push(entry);
    } else {
      const f = item.getAsFile();
      if (f) files.push(f);
    }
  }
  if (entries.length === 0 && files.length === 0) files.push(...Array.from(dt.files ?? []));
  return { entries, files };
}

function isHidden(name: string): boolean {
  return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const out: FileSystemEntry[] = [];
  // readEntries returns batches (100 in Chromium) until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, depth: number, out: ModelFile[]): Promise<void> {
  if (out.length >= MAX_FILES || isHidden(entry.name)) return;
  const path = entry.fullPath.replace(/^\/+/, '') || entry.name;
  if (entry.isFile) {
    out.push({ file: await fileOf(entry as FileSystemFileEntry), path });
  } else if (entry.isDirectory && depth < MAX_DEPTH) {
    for (const child of await readAllEntries(entry as FileSystemDirectoryEntry)) await walk(child, depth + 1, out);
  }
}

/** All files of a drop snapshot, folders walked recursively, hidden files skipped. */
export async function collectDroppedFiles(snap: DropSnapshot): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  for (const e of snap.entries) await walk(e, 0, out);
  for (const f of snap.files) if (!isHidden(f.name)) out.push({ file: f, path: f.webkitRelativePath || f.name });
  return out;
}

/** Files from an <input type=file> (folder pickers fill webkitRelativePath). */
export function filesFromInput(list: FileList | null): ModelFile[] {
  return Array.from(list ?? [])
    .filter((f) => !isHidden(f.name))
    .map((f) => ({ file: f, path: f.webkitRelativePath || f.name }));
}

/** "stories260K" for files under one top folder, else "3 files". */
export function labelFor(files: ModelFile[]): string {
  const tops = new Set(files.map((f) => (f.path.includes('/') ? f.path.slice(0, f.path.indexOf('/')) : '')));
  if (tops.size === 1) {
    const [top] = [...tops];
    if (top) return `Folder ${top}`;
  }
  return `${files.length} file${files.length === 1 ? '' : 's'}`;
}
