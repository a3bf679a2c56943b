// Engine construction for Node (CLI, tests, benchmarks).
import { Engine } from '../core/engine';
import { folderSources, nodeShaders } from './files';
import { nodeGpu } from './gpu';

export async function createNodeEngine(opts: { pageBytesOverride?: number } = {}): Promise<Engine> {
  return Engine.create({ gpu: await nodeGpu(), shaders: nodeShaders, ...opts });
}

export async function loadNodeModel(engine: Engine, dir: string) {
  return engine.loadModel(folderSources(dir));
}
