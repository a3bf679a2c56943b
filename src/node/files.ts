// Node adapters at the edge of the engine: files on disk as FileSources, shaders from shaders/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingFile } from '../core/errors';
import type { FileSource } from '../core/io/file-source';

/** A file on disk, read by range (never whole). */
export function pathSource(p: string, name = path.basename(p)): FileSource {
  const size = fs.statSync(p).size;
  return {
    name,
    size,
    async slice(start, end) {
      const s = Math.max(0, Math.min(start, size));
      const e = Math.max(s, Math.min(end, size));
      const buf = Buffer.alloc(e - s);
      const fh = await fs.promises.open(p, 'r');
      try {
        let off = 0;
        while (off < buf.length) {
          const { bytesRead } = await fh.read(buf, off, buf.length - off, s + off);
          if (bytesRead === 0) break;
          off += bytesRead;
        }
        return buf.buffer.slice(buf.byteOffset, buf.byteOffset + off) as ArrayBuffer;
      } finally {
        await fh.close();
      }
    },
  };
}

/** Every regular file directly in a model folder (symbolic links followed, as in the Hugging Face cache's snapshots). */
export function folderSources(dir: string): FileSource[] {
  if (!fs.existsSync(dir)) throw new MissingFile(`Model folder not found: ${dir}`);
  if (!fs.statSync(dir).isDirectory()) throw new MissingFile(`${dir} is not a folder; give the model's folder (with config.json).`);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() || (d.isSymbolicLink() && fs.statSync(path.join(dir, d.name), { throwIfNoEntry: false })?.isFile()))
    .map((d) => pathSource(path.join(dir, d.name), d.name));
}

const here = path.dirname(fileURLToPath(import.meta.url));
const SHADER_DIR = path.resolve(here, '../../shaders');

/** ShaderLoader reading shaders/<name>.wgsl from the repository (<name> may have a folder: common/x). */
export function nodeShaders(name: string): string {
  return fs.readFileSync(path.join(SHADER_DIR, `${name}.wgsl`), 'utf8');
}
