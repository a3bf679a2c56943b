// The engine reads files only through this interface, so the same code serves browser Files
// (drag and drop, pickers, OPFS, fetch) and Node paths. `slice` reads a byte range on demand:
// nothing ever needs a whole weight file in memory.

export interface FileSource {
  /** File name relative to the model folder, e.g. "model-00001-of-00002.safetensors". */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** Bytes [start, end) of the file. */
  slice(start: number, end: number): Promise<ArrayBuffer>;
}

/** A browser Blob/File as a FileSource (also works in Node, where Blob exists). */
export function blobSource(blob: Blob, name: string): FileSource {
  return {
    name,
    size: blob.size,
    slice: (start, end) => blob.slice(start, end).arrayBuffer(),
  };
}

/** In-memory bytes as a FileSource (tests, fetched demo files). */
export function bytesSource(bytes: Uint8Array | ArrayBuffer, name: string): FileSource {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return {
    name,
    size: u8.byteLength,
    slice: async (start, end) => {
      const s = Math.max(0, Math.min(start, u8.byteLength));
      const e = Math.max(s, Math.min(end, u8.byteLength));
      // Uint8Array.prototype.slice copies (Node's Buffer#slice would return a view of a pool).
      return Uint8Array.prototype.slice.call(u8, s, e).buffer as ArrayBuffer;
    },
  };
}

export async function readText(f: FileSource): Promise<string> {
  return new TextDecoder('utf-8').decode(await f.slice(0, f.size));
}

/** Base name of a path-like file name ("dir/sub/config.json" -> "config.json"). */
export function baseName(name: string): string {
  const i = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  return i >= 0 ? name.slice(i + 1) : name;
}

/** Index a list of sources by base name (a dropped folder arrives with path prefixes). */
export function byBaseName(files: readonly FileSource[]): Map<string, FileSource> {
  const m = new Map<string, FileSource>();
  for (const f of files) m.set(baseName(f.name), f);
  return m;
}
