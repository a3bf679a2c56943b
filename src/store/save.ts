// Saving files from the page: the File System Access API where the browser has it (a save dialog
// for one file, a folder picker for a model folder), else ordinary downloads (an <a download> on
// an object URL, revoked afterwards; a folder becomes one download per file).
//
// The pickers only open during a user gesture, so the picker comes first and the content is made
// afterwards: callers pass a function that builds the bytes (rendering a PNG, asking the worker
// for an export) and it runs once the user has chosen where to save. Closing the picker is a
// choice, not an error: the result is { status: 'cancelled' } and nothing is built.

export interface FileToSave {
  name: string;
  data: Blob | Uint8Array<ArrayBuffer> | string;
}

export interface SaveFileOptions {
  /** Suggested file name. */
  name: string;
  /** MIME type of the content. */
  type: string;
  /** What the save dialog calls this kind of file ("CSV table"). */
  description: string;
  /** Extensions for the save dialog's filter, with the dot: [".csv"]. */
  extensions: string[];
}

export type SaveResult =
  | { status: 'saved'; how: 'picker'; where: string; files: string[] }
  | { status: 'saved'; how: 'download'; files: string[] }
  | { status: 'cancelled' };

/** The parts of the File System Access API used here (Chromium-based browsers). */
interface WritableLike {
  write(data: Blob | BufferSource | string): Promise<void>;
  close(): Promise<void>;
}
interface FileHandleLike {
  name: string;
  createWritable(): Promise<WritableLike>;
}
interface DirectoryHandleLike {
  name: string;
  getDirectoryHandle(name: string, opts: { create: boolean }): Promise<DirectoryHandleLike>;
  getFileHandle(name: string, opts: { create: boolean }): Promise<FileHandleLike>;
}
interface PickerWindow {
  showSaveFilePicker?: (opts: {
    suggestedName?: string;
    id?: string;
    types?: Array<{ description: string; accept: Record<string, string[]> }>;
  }) => Promise<FileHandleLike>;
  showDirectoryPicker?: (opts?: { id?: string; mode?: 'read' | 'readwrite' }) => Promise<DirectoryHandleLike>;
}

const pickers = (): PickerWindow => (typeof window === 'undefined' ? {} : (window as unknown as PickerWindow));

const isAbort = (e: unknown) => e instanceof DOMException && e.name === 'AbortError';

function toBlob(data: FileToSave['data'], type = 'application/octet-stream'): Blob {
  return data instanceof Blob ? data : new Blob([data], { type });
}

/** One ordinary download of a blob; the object URL is revoked once the download has started. */
export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function writeHandle(handle: FileHandleLike, blob: Blob): Promise<void> {
  const w = await handle.createWritable();
  await w.write(blob);
  await w.close();
}

/**
 * Save one file: the save dialog where available, else a download. `make` builds the content
 * after the dialog closed (or at once for a download).
 */
export async function saveFile(opts: SaveFileOptions, make: () => Promise<FileToSave['data']> | FileToSave['data']): Promise<SaveResult> {
  const picker = pickers().showSaveFilePicker;
  let handle: FileHandleLike | null = null;
  if (typeof picker === 'function') {
    try {
      handle = await picker.call(window, {
        suggestedName: opts.name,
        types: [{ description: opts.description, accept: { [opts.type]: opts.extensions } }],
      });
    } catch (e) {
      if (isAbort(e)) return { status: 'cancelled' };
      // Refused for another reason (no user gesture, a blocked type): download instead.
      handle = null;
    }
  }
  const blob = toBlob(await make(), opts.type);
  if (handle) {
    await writeHandle(handle, blob);
    return { status: 'saved', how: 'picker', where: handle.name, files: [handle.name] };
  }
  downloadBlob(opts.name, blob);
  return { status: 'saved', how: 'download', files: [opts.name] };
}

/**
 * Save several files as one folder named `folder`: inside a directory the user picks where
 * available, else one download per file (spaced out: browsers drop downloads started in the same
 * instant). `make` builds the files after the picker closed.
 */
export async function saveFolder(folder: string, make: () => Promise<FileToSave[]>, opts: { id?: string } = {}): Promise<SaveResult> {
  const picker = pickers().showDirectoryPicker;
  let dir: DirectoryHandleLike | null = null;
  if (typeof picker === 'function') {
    try {
      dir = await picker.call(window, { id: opts.id, mode: 'readwrite' });
    } catch (e) {
      if (isAbort(e)) return { status: 'cancelled' };
      dir = null;
    }
  }
  const files = await make();
  const names = files.map((f) => f.name);
  if (dir) {
    const sub = await dir.getDirectoryHandle(folder, { create: true });
    for (const f of files) await writeHandle(await sub.getFileHandle(f.name, { create: true }), toBlob(f.data));
    return { status: 'saved', how: 'picker', where: `${dir.name}/${folder}/`, files: names };
  }
  for (const f of files) {
    downloadBlob(f.name, toBlob(f.data));
    await new Promise((r) => setTimeout(r, 120));
  }
  return { status: 'saved', how: 'download', files: names };
}
