// Greedy generation with a KV cache: one prefill pass over the prompt, then one token per step.
import { throwIfCancelled } from '../errors';
import type { GpuModel } from '../nn/model';

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < x.length; v++) if (x[v] > x[best]) best = v;
  return best;
}

/** Append up to `maxNew` greedily chosen tokens to `ids`; stops early at `eos`. */
export async function generateGreedy(
  model: GpuModel,
  ids: number[],
  maxNew: number,
  eos: number | null,
  signal?: AbortSignal,
  onToken?: (id: number) => void,
): Promise<number[]> {
  const out = [...ids];
  if (maxNew <= 0) return out;
  const cache = model.createCache(ids.length + maxNew);
  const prefill = model.allocate(ids.length);
  const one = model.allocate(1);
  try {
    let logits = await model.step(prefill, cache, ids, 0);
    for (let n = 0; n < maxNew; n++) {
      throwIfCancelled(signal);
      const next = argmax(logits);
      out.push(next);
      onToken?.(next);
      if (next === eos || n === maxNew - 1) break;
      logits = await model.step(one, cache, [next], out.length - 1);
    }
    return out;
  } finally {
    model.release(prefill);
    model.release(one);
    model.releaseCache(cache);
  }
}
