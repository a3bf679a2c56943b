// Opening the model a CLI command names: a folder on disk, or `hf:org/name[@revision]`, a model
// on the Hugging Face Hub, downloaded into (or found in) the Hugging Face cache. What the load
// noticed (config fields transformers ignores, unused tensors, an offline fallback) and the
// download's progress go to stderr, so a --json stdout stays one object.
import path from 'node:path';
import type { FileSource } from '../core/io/file-source';
import { parseHubRef } from '../core/hub/client';
import type { DownloadProgress } from '../core/hub/download';
import type { Engine, LoadOptions } from '../core/engine';
import { parseGpuBudget } from '../core/options';
import { type CliValues, flag } from './common';
import type { ModelSummary } from '../core/types';
import { formatBytes } from '../core/units';
import { createNodeEngine, loadNodeModel } from '../node/engine';
import { folderSources } from '../node/files';
import { openHubModel } from '../node/hub-cache';

function progressPrinter(): (p: DownloadProgress) => void {
  let last = 0;
  return (p) => {
    const t = Date.now();
    const end = p.done === p.total;
    if (!end && t - last < (process.stderr.isTTY ? 200 : 2000)) return;
    last = t;
    const line = `downloading ${p.file}: ${formatBytes(p.done)} of ${formatBytes(p.total)} (${((100 * p.done) / Math.max(1, p.total)).toFixed(0)} %)${p.bytesPerSecond > 0 ? `, ${formatBytes(p.bytesPerSecond)}/s` : ''}`;
    process.stderr.write(process.stderr.isTTY ? `\r${line.padEnd(100)}${end ? '\n' : ''}` : `${line}\n`);
  };
}

/** The folder a --model (or --teacher) names: itself, or the Hub model's folder in the HF cache. */
async function resolveFolder(model: string, signal?: AbortSignal): Promise<{ dir: string; name?: string }> {
  if (!model.startsWith('hf:')) return { dir: model };
  const ref = parseHubRef(model);
  const r = await openHubModel(ref, { onProgress: progressPrinter(), signal });
  for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
  return { dir: r.dir, name: ref.repo.split('/')[1] };
}

/** The files of the folder a --model names (a Hub model: its folder in the cache). */
export async function folderFilesForCli(model: string): Promise<FileSource[]> {
  const { dir, name } = await resolveFolder(model);
  const base = name ?? path.basename(path.resolve(dir));
  return folderSources(dir).map((f) => ({ ...f, name: `${base}/${f.name}` }));
}

/** Load `--teacher` beside the loaded model (distillation). */
export async function loadTeacherForCli(engine: Engine, model: string): Promise<void> {
  const { dir } = await resolveFolder(model);
  await engine.loadTeacher(folderSources(dir));
}

export async function loadModelForCli(engine: Engine, model: string, signal?: AbortSignal, opts?: LoadOptions): Promise<ModelSummary> {
  const { dir, name } = await resolveFolder(model, signal);
  const summary = await loadNodeModel(engine, dir, name, opts);
  for (const note of summary.notes) process.stderr.write(`note: ${note}\n`);
  return summary;
}

/** A GPU engine for one command, released whatever happens. */
export async function withEngine<T>(work: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await createNodeEngine();
  try {
    return await work(engine);
  } finally {
    engine.dispose();
  }
}

/** How the command loads its model: --gpu-budget. */
export function loadOptions(values: CliValues): LoadOptions {
  const budget = flag(values, 'gpu-budget');
  return budget === undefined ? {} : { gpuBudget: parseGpuBudget(budget) };
}

/** An engine with the command's model loaded. */
export function withModel<T>(model: string, work: (engine: Engine, summary: ModelSummary) => Promise<T>, opts?: LoadOptions): Promise<T> {
  return withEngine(async (engine) => work(engine, await loadModelForCli(engine, model, undefined, opts)));
}
