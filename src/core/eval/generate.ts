// Greedy generation. For now the whole prefix is re-run for each new token (no KV cache yet; the
// sparse-kernel work adds one); fine for the short continuations the tests and the demo need.
import { throwIfCancelled } from '../errors';
import type { GpuModel } from '../nn/model';

/** Append up to `maxNew` greedily chosen tokens to `ids`; stops early at `eos`. */
export async function generateGreedy(
  model: GpuModel,
  ids: number[],
  maxNew: number,
  eos: number | null,
  signal?: AbortSignal,
): Promise<number[]> {
  const out = [...ids];
  const V = model.spec.vocabSize;
  for (let n = 0; n < maxNew; n++) {
    throwIfCancelled(signal);
    const logits = await model.logits(out);
    const last = logits.subarray((out.length - 1) * V, out.length * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
    out.push(best);
    if (best === eos) break;
  }
  return out;
}
