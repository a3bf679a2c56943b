// Shared by the training tests: a GPU model's canonical weights as float64 copies.
import type { GpuModel } from '../../src/core/nn/model';
import type { RefParams } from '../../src/core/reference/train-model';

export async function canonicalParams(model: GpuModel): Promise<RefParams> {
  const out: RefParams = new Map();
  for (const name of model.weights.keys()) out.set(name, Float64Array.from(await model.read(name)));
  return out;
}
