// Real-size models on this device: random-weight F16 checkpoints with the exact configs of
// opt-125m, SmolLM2-135M, Qwen2.5-0.5B and TinyLlama-1.1B (bench/scale-models.ts) are loaded with
// a GPU budget (layer streaming past it), measured on one window, and pruned by SparseGPT on their
// first decoder layers with a few calibration windows. Per model: seconds per phase, SparseGPT's
// factorisation alone at each distinct width on the GPU (f32) and the CPU (float64) paths, the peak
// GPU bytes of the prune against the streaming design's minimum (one layer's weights + the layer's
// Hessians + the calibration activations and one workspace), and the weights' bytes in F16 (the
// file) and F32 (what the GPU computes with).
import os from 'node:os';
import path from 'node:path';
import type { Engine } from '../src/core/engine';
import { loadNodeModel } from '../src/node/engine';
import { streamGroups } from '../src/core/nn/stream';
import { capturePointOf } from '../src/core/nn/model';
import { linearNames, linearShape } from '../src/core/model/spec';
import { factorTimes } from './prune';
import { SCALE_CONFIGS, writeScaleModel } from './scale-models';

export interface ScaleOptions {
  models: string[];
  /** Decoder layers pruned (the first ones). */
  layers: number;
  samples: number;
  seqlen: number;
  budget: number;
  /** Where the checkpoints are written (kept between runs). */
  dir: string;
  factor: boolean;
  calibText: string;
  evalText: string;
  log: (s: string) => void;
}

export async function scaleBench(engine: Engine, o: ScaleOptions) {
  const out: Record<string, unknown>[] = [];
  for (const name of o.models) {
    if (!SCALE_CONFIGS[name]) throw new Error(`no scale model "${name}" (${Object.keys(SCALE_CONFIGS).join(', ')})`);
    const t0 = performance.now();
    const { dir, bytes: fileBytes } = writeScaleModel(name, path.join(o.dir, name));
    const written = (performance.now() - t0) / 1000;
    const ctx = engine.ctx;
    let t = performance.now();
    const summary = await loadNodeModel(engine, dir, name, { gpuBudget: o.budget });
    const load = (performance.now() - t) / 1000;
    const model = engine.gpuModel!;
    const spec = model.spec;
    o.log(`${name}: ${summary.parameters.toLocaleString('en-US')} parameters, F16 file ${mib(fileBytes)}, F32 weights ${mib(summary.gpuBytes)}; budget ${mib(o.budget)} → ${summary.streamed ? 'streamed' : 'resident'}; loaded in ${load.toFixed(1)} s`);

    // Perplexity of one window (every layer goes through the GPU once).
    ctx.resetPeak();
    t = performance.now();
    const ppl = await engine.perplexity(o.evalText, { seqlen: o.seqlen, maxWindows: 1 });
    const pplSeconds = (performance.now() - t) / 1000;
    const pplPeak = ctx.stats().peakBytes;
    o.log(`  perplexity, one window of ${o.seqlen} tokens: ${ppl.ppl.toFixed(1)} in ${pplSeconds.toFixed(1)} s, peak GPU ${mib(pplPeak)}`);

    // SparseGPT 50 % on the first `layers` decoder layers.
    ctx.resetPeak();
    const skipLayers = Array.from({ length: spec.nLayers - o.layers }, (_, i) => i + o.layers);
    t = performance.now();
    const r = await engine.prune(o.calibText, { method: 'sparsegpt', target: { kind: 'unstructured', sparsity: 0.5 }, calibSamples: o.samples, seqlen: o.seqlen, skipLayers });
    const pruneSeconds = (performance.now() - t) / 1000;
    const prunePeak = ctx.stats().peakBytes;
    const sum = (k: 'statistics' | 'factorisation' | 'sweep' | 'reforward') => r.phases.reduce((s, p) => s + p[k], 0);
    const phases = { statistics: sum('statistics'), factorisation: sum('factorisation'), sweep: sum('sweep'), reforward: sum('reforward') };
    const other = pruneSeconds - Object.values(phases).reduce((a, b) => a + b, 0);
    // The streaming design's minimum: one layer + its Hessians + calibration activations (+ one workspace).
    const groups = streamGroups(shapesOf(engine), ctx.pageBytes);
    const layerBytes = Math.max(...[...groups].filter(([k]) => k.startsWith('layers.')).map(([, g]) => g.bytes));
    const hessianBytes = distinctInputs(spec).reduce((s, C) => s + C * C * 4, 0);
    const activationBytes = o.samples * o.seqlen * spec.hidden * 4 + model.workspaceBytes(o.seqlen);
    const minimum = layerBytes + hessianBytes + activationBytes;
    o.log(`  SparseGPT 50 %, ${o.layers} layer(s), ${o.samples} × ${o.seqlen} tokens: ${pruneSeconds.toFixed(1)} s (statistics ${phases.statistics.toFixed(1)}, factorisation ${phases.factorisation.toFixed(1)}, sweep ${phases.sweep.toFixed(1)}, reforward ${phases.reforward.toFixed(1)}, other ${other.toFixed(1)})`);
    o.log(`  peak GPU ${mib(prunePeak)} vs the streaming minimum ${mib(minimum)} (layer ${mib(layerBytes)} + Hessians ${mib(hessianBytes)} + activations ${mib(activationBytes)}): ${(prunePeak / minimum).toFixed(2)}×`);

    const factorisation = [];
    if (o.factor) {
      for (const d of [...new Set(distinctInputs(spec))].sort((a, b) => a - b)) {
        const f = await factorTimes(ctx, d);
        factorisation.push({ d: f.d, gpu_s: f.gpu_s, cpu_s: f.cpu_s });
        o.log(`  factorisation d=${d}: GPU (f32) ${f.gpu_s.toFixed(3)} s, CPU (float64) ${f.cpu_s.toFixed(3)} s`);
      }
    }
    out.push({
      model: name, config: SCALE_CONFIGS[name], parameters: summary.parameters, streamed: summary.streamed, budget_bytes: o.budget,
      f16_bytes: fileBytes, f32_bytes: summary.gpuBytes, written_s: written, load_s: load,
      perplexity: { seqlen: o.seqlen, windows: 1, seconds: pplSeconds, peak_gpu_bytes: pplPeak },
      prune: {
        method: 'sparsegpt', sparsity: 0.5, layers: o.layers, samples: o.samples, seqlen: o.seqlen, seconds: pruneSeconds, phases: { ...phases, other },
        peak_gpu_bytes: prunePeak, peak_resident_weight_bytes: model.stream?.peakResidentBytes ?? summary.gpuBytes,
        streaming_minimum_bytes: minimum, minimum_parts: { layer: layerBytes, hessians: hessianBytes, activations: activationBytes },
        rel_error_median: median(r.layers.map((l) => l.rel_error)),
      },
      factorisation,
    });
    engine.unload();
  }
  return { cpus: os.cpus().length, models: out };
}

/** Every canonical tensor's shape (resident or streamed). */
function shapesOf(engine: Engine): Array<readonly [string, number[]]> {
  const m = engine.gpuModel!;
  const names = new Set<string>([...m.weights.keys()]);
  const s = m.stream;
  const out: Array<readonly [string, number[]]> = [];
  if (s) for (const n of s.names()) names.add(n);
  for (const n of names) out.push([n, m.shapeOf(n)!] as const);
  return out;
}

/** The width of each distinct Hessian of a decoder layer (q/k/v share one, gate/up one). */
function distinctInputs(spec: Parameters<typeof linearNames>[0]): number[] {
  const seen = new Map<string, number>();
  for (const n of linearNames(spec, 0)) seen.set(capturePointOf(n), linearShape(spec, n)[1]);
  return [...seen.values()];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
