// Opening the model a CLI command names: a folder on disk. What the load noticed (config fields
// transformers ignores, unused tensors) goes to stderr, so a --json stdout stays one object.
import type { Engine } from '../core/engine';
import type { ModelSummary } from '../core/types';
import { loadNodeModel } from '../node/engine';

export async function loadModelForCli(engine: Engine, model: string): Promise<ModelSummary> {
  const summary = await loadNodeModel(engine, model);
  for (const note of summary.notes) process.stderr.write(`note: ${note}\n`);
  return summary;
}
