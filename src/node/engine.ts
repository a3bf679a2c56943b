// Engine construction for Node (CLI, tests, benchmarks).
import path from 'node:path';
import { Engine, type LoadOptions } from '../core/engine';
import { folderSources, nodeShaders } from './files';
import { nodeGpu } from './gpu';

export async function createNodeEngine(opts: { pageBytesOverride?: number } = {}): Promise<Engine> {
  return Engine.create({ gpu: await nodeGpu(), shaders: nodeShaders, ...opts });
}

/** Load a model folder; the model is named after the folder (or `name`, e.g. a Hub repository's). */
export async function loadNodeModel(engine: Engine, dir: string, name = path.basename(path.resolve(dir)), opts?: LoadOptions) {
  return engine.loadModel(folderSources(dir).map((f) => ({ ...f, name: `${name}/${f.name}` })), undefined, undefined, opts);
}
