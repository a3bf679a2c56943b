// `export`: the model as it is (dense, or a pruned folder loaded back) in the format a tool reads:
//   --format gguf  llama.cpp / Ollama (one .gguf file, F32 or F16, streamed to disk)
//   --format hf    a Hugging Face folder (transformers, vLLM)
import fs from 'node:fs';
import path from 'node:path';
import { BadOption } from '../core/errors';
import { ggufChunks, ggufSize } from '../core/export/gguf-writer';
import type { ExportFile } from '../core/export/hf';
import { createNodeEngine } from '../node/engine';
import { loadModelForCli } from './load';

export interface ExportCliValues {
  model?: string;
  format?: string;
  dtype?: string;
  out?: string;
  json?: boolean;
}

export interface ExportCliHelpers {
  need(v: string | undefined, name: string): string;
  writeFolder(dir: string, files: ExportFile[]): void;
  print(obj: Record<string, unknown>, human: string): void;
}

export async function runExportCli(values: ExportCliValues, h: ExportCliHelpers): Promise<number> {
  const format = h.need(values.format, 'format');
  if (format !== 'gguf' && format !== 'hf') throw new BadOption(`--format must be gguf (llama.cpp, Ollama) or hf (a Hugging Face folder); got "${format}".`);
  const dtype = (values.dtype ?? 'f32').toLowerCase();
  if (format === 'gguf' && dtype !== 'f32' && dtype !== 'f16') throw new BadOption(`--dtype must be f32 or f16 for GGUF; got "${values.dtype}".`);
  if (format === 'hf' && values.dtype !== undefined) throw new BadOption('--dtype applies to --format gguf only: a Hugging Face folder keeps each tensor in the dtype of its checkpoint.');
  const out = h.need(values.out, 'out');
  const modelArg = h.need(values.model, 'model');
  const engine = await createNodeEngine();
  try {
    const m = await loadModelForCli(engine, modelArg);
    if (format === 'hf') {
      const files = await engine.exportModel();
      h.writeFolder(out, files);
      h.print({ format, path: out, files: files.map((f) => f.name), bytes: files.reduce((s, f) => s + f.bytes.length, 0) }, `wrote ${files.length} files to ${out}`);
      return 0;
    }
    const g = await engine.gguf(dtype === 'f16' ? 'F16' : 'F32');
    const file = out.endsWith('/') || (fs.existsSync(out) && fs.statSync(out).isDirectory()) ? path.join(out, `${m.name}-${dtype}.gguf`) : out;
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const part = `${file}.partial`;
    const fd = fs.openSync(part, 'w');
    try {
      for await (const chunk of ggufChunks(g.meta, g.tensors)) fs.writeSync(fd, chunk);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(part, file);
    const bytes = fs.statSync(file).size;
    if (bytes !== ggufSize(g.meta, g.tensors)) throw new Error(`internal: wrote ${bytes} bytes of GGUF, expected ${ggufSize(g.meta, g.tensors)}`);
    for (const n of g.notes) process.stderr.write(`note: ${n}\n`);
    h.print(
      { format, dtype, path: file, bytes, architecture: g.architecture, tensors: g.tensors.length, notes: g.notes },
      `wrote ${file} (${(bytes / 2 ** 20).toFixed(1)} MiB, llama.cpp architecture "${g.architecture}", ${g.tensors.length} tensors, ${dtype.toUpperCase()})`,
    );
    return 0;
  } finally {
    engine.dispose();
  }
}
