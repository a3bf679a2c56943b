// Long runs do not leak: a 20-point sweep on the demo model (every method, unstructured and N:M,
// each point pruned from dense and evaluated) ends with the engine holding exactly the GPU
// buffers it held before (count and bytes, from GpuContext's accounting of every buffer it
// creates and destroys), and with the JS heap grown by less than a stated bound.
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Engine } from '../../../src/core/engine';
import { runSweep, sweepPoints } from '../../../src/core/jobs/sweep';
import { createNodeEngine, loadNodeModel } from '../../../src/node/engine';
import { CALIB_TEXT as calib, DEMO_MODEL, EVAL_TEXT as evalText } from '../../helpers/fixtures';

/** Heap growth allowed over the sweep (the run reports it keeps are a few hundred KB). */
const HEAP_BOUND_BYTES = 32 * 2 ** 20;

let engine: Engine;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

beforeAll(async () => {
  engine = await createNodeEngine();
  await loadNodeModel(engine, DEMO_MODEL);
});
afterAll(() => engine?.dispose());

test('a 20-point sweep returns GPU buffers and bytes to their starting level; heap growth is bounded', async () => {
  // Warm-up point: pipelines and caches that live for the engine's lifetime are created here.
  await runSweep(engine, { calibText: calib, evalText, spec: { points: sweepPoints(['magnitude'], [0.5]), includeDense: false, calibSamples: 2, seqlen: 32, maxWindows: 1 } }, { onPoint: () => {} });
  engine.restoreDense();
  const gpu0 = engine.ctx.stats();
  const heap0 = heap();

  const points = sweepPoints(['magnitude', 'wanda', 'sparsegpt'], [0.1, 0.3, 0.5, 0.7, 0.9], [[2, 4]]);
  const extra = sweepPoints(['magnitude'], [], [[1, 4]]);
  const all = [...points, ...extra];
  expect(all.length + 1).toBe(20); // + the dense point
  const seen: number[] = [];
  await runSweep(engine, { calibText: calib, evalText, spec: { points: all, includeDense: true, calibSamples: 2, seqlen: 32, maxWindows: 1 } }, { onPoint: (p) => seen.push(p.ppl) });
  expect(seen.length).toBe(20);
  expect(seen.every(Number.isFinite)).toBe(true);

  // Back to dense: the pruned state's backup copies are dropped too.
  engine.restoreDense();
  const gpu1 = engine.ctx.stats();
  const grown = heap() - heap0;
  console.log(`GPU before ${gpu0.buffers} buffers / ${gpu0.bytes} B, after ${gpu1.buffers} / ${gpu1.bytes} B; heap growth ${(grown / 2 ** 20).toFixed(2)} MiB`);
  expect({ buffers: gpu1.buffers, bytes: gpu1.bytes }).toEqual({ buffers: gpu0.buffers, bytes: gpu0.bytes });
  expect(grown).toBeLessThan(HEAP_BOUND_BYTES);
});
