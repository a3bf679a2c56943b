// `export`: the model as it is (dense, or a pruned folder loaded back) in the format a tool reads:
//   --format gguf  llama.cpp / Ollama (one .gguf file, F32 or F16, streamed to disk)
//   --format hf    a Hugging Face folder (transformers, vLLM)
import fs from 'node:fs';
import { formatBytes } from '../core/units';
import path from 'node:path';
import { BadOption } from '../core/errors';
import { ggufChunks, ggufSize } from '../core/export/gguf-writer';
import { type CliValues, flag, need, printer, writeFolder } from './common';
import { loadOptions, withModel } from './load';

export async function runExportCli(values: CliValues): Promise<number> {
  const format = need(values, 'format');
  if (format !== 'gguf' && format !== 'hf') throw new BadOption(`--format must be gguf (llama.cpp, Ollama) or hf (a Hugging Face folder); got "${format}".`);
  const dtype = (flag(values, 'dtype') ?? 'f32').toLowerCase();
  if (format === 'gguf' && dtype !== 'f32' && dtype !== 'f16') throw new BadOption(`--dtype must be f32 or f16 for GGUF; got "${flag(values, 'dtype')}".`);
  if (format === 'hf' && flag(values, 'dtype') !== undefined) throw new BadOption('--dtype applies to --format gguf only: a Hugging Face folder keeps each tensor in the dtype of its checkpoint.');
  const out = need(values, 'out');
  const modelArg = need(values, 'model');
  const print = printer(values);
  return withModel(modelArg, async (engine, m) => {
    if (format === 'hf') {
      const files = await engine.exportModel();
      writeFolder(out, files);
      print({ format, path: out, files: files.map((f) => f.name), bytes: files.reduce((s, f) => s + f.bytes.length, 0) }, `wrote ${files.length} files to ${out}`);
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
    print(
      { format, dtype, path: file, bytes, architecture: g.architecture, tensors: g.tensors.length, notes: g.notes },
      `wrote ${file} (${formatBytes(bytes)}, llama.cpp architecture "${g.architecture}", ${g.tensors.length} tensors, ${dtype.toUpperCase()})`,
    );
    return 0;
  }, loadOptions(values));
}
