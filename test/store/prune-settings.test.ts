// Parsing of the Method and Sweep inputs into engine options, with named errors.
import { describe, expect, it } from 'vitest';
import { BadOption } from '../../src/core/errors';
import { checkOverrides, parseOverrides } from '../../src/core/prune/types';
import { jobFraction, type Job } from '../../src/store/job';
import { DEFAULT_SETTINGS, DEFAULT_SWEEP, selectedRun, type RunRecord } from '../../src/store/prune';
import {
  calibrationShortfall,
  commonOptions,
  parseLayerList,
  parsePatternList,
  parseSparsityList,
  pruneOptionsOf,
  sweepPointsOf,
  targetOf,
} from '../../src/store/prune-settings';
import { exportFolderName } from '../../src/store/prune-actions';

describe('targets', () => {
  it('reads a percent sparsity and N:M patterns', () => {
    expect(targetOf({ ...DEFAULT_SETTINGS, sparsityPct: '50' })).toEqual({ kind: 'unstructured', sparsity: 0.5 });
    expect(targetOf({ ...DEFAULT_SETTINGS, sparsityPct: ' 0 ' })).toEqual({ kind: 'unstructured', sparsity: 0 });
    expect(targetOf({ ...DEFAULT_SETTINGS, targetKind: 'nm', pattern: '2:4' })).toEqual({ kind: 'nm', n: 2, m: 4 });
    expect(targetOf({ ...DEFAULT_SETTINGS, targetKind: 'nm', pattern: '4:8' })).toEqual({ kind: 'nm', n: 4, m: 8 });
    expect(targetOf({ ...DEFAULT_SETTINGS, targetKind: 'nm', pattern: 'custom', customPattern: '1:4' })).toEqual({ kind: 'nm', n: 1, m: 4 });
  });

  it('refuses out-of-range or malformed targets with BadOption', () => {
    for (const sparsityPct of ['96', '-1', '', 'half', '1e9']) {
      expect(() => targetOf({ ...DEFAULT_SETTINGS, sparsityPct }), sparsityPct).toThrow(BadOption);
    }
    for (const customPattern of ['', '4:2', '2:2', '2-4', '1:64']) {
      expect(() => targetOf({ ...DEFAULT_SETTINGS, targetKind: 'nm', pattern: 'custom', customPattern }), customPattern).toThrow(BadOption);
    }
  });
});

describe('options', () => {
  it('builds PruneOptions from the defaults', () => {
    expect(pruneOptionsOf(DEFAULT_SETTINGS, 256, 5)).toEqual({
      method: 'sparsegpt',
      target: { kind: 'unstructured', sparsity: 0.5 },
      seqlen: 256,
      calibSamples: 32,
      percdamp: 0.01,
      blocksize: 128,
    });
  });

  it('adds skipped layers and a seed', () => {
    const o = pruneOptionsOf({ ...DEFAULT_SETTINGS, skipLayers: '0, 3-4', seed: '7' }, 64, 5);
    expect(o.skipLayers).toEqual([0, 3, 4]);
    expect(o.seed).toBe(7);
    expect(() => pruneOptionsOf({ ...DEFAULT_SETTINGS, skipLayers: '0-4' }, 64, 5)).toThrow(/nothing would be pruned/);
  });

  it('checks calibration and SparseGPT numbers', () => {
    expect(() => commonOptions({ ...DEFAULT_SETTINGS, calibSamples: '0' })).toThrow(BadOption);
    expect(() => commonOptions({ ...DEFAULT_SETTINGS, calibSamples: '2.5' })).toThrow(BadOption);
    expect(() => commonOptions({ ...DEFAULT_SETTINGS, percdamp: '0' })).toThrow(/Dampening/);
    expect(() => commonOptions({ ...DEFAULT_SETTINGS, percdamp: 'x' })).toThrow(BadOption);
    expect(() => commonOptions({ ...DEFAULT_SETTINGS, blocksize: '0' })).toThrow(/Block size/);
    expect(() => commonOptions({ ...DEFAULT_SETTINGS, seed: '-1' })).toThrow(/Seed/);
  });

  it('parses layer lists', () => {
    expect(parseLayerList('', 5)).toEqual([]);
    expect(parseLayerList('4 1,1;2-3', 5)).toEqual([1, 2, 3, 4]);
    expect(() => parseLayerList('5', 5)).toThrow(/0 to 4/);
    expect(() => parseLayerList('3-1', 5)).toThrow(/backwards/);
    expect(() => parseLayerList('a', 5)).toThrow(BadOption);
  });
});

describe('sweep lists', () => {
  it('reads fractions and percents, deduplicated', () => {
    expect(parseSparsityList('0.3,0.5, 0.7')).toEqual([0.3, 0.5, 0.7]);
    expect(parseSparsityList('50%, 0.5, 70%')).toEqual([0.5, 0.7]);
    expect(parseSparsityList('')).toEqual([]);
    expect(() => parseSparsityList('50')).toThrow(/50%/);
    expect(() => parseSparsityList('0.99')).toThrow(BadOption);
    expect(() => parseSparsityList('x')).toThrow(BadOption);
  });

  it('reads patterns', () => {
    expect(parsePatternList('2:4, 4:8 2:4')).toEqual([
      [2, 4],
      [4, 8],
    ]);
    expect(() => parsePatternList('2/4')).toThrow(BadOption);
  });

  it('makes the points: methods × (sparsities + patterns)', () => {
    const pts = sweepPointsOf({ ...DEFAULT_SWEEP, methods: { magnitude: true, wanda: true, sparsegpt: false, sparsellm: false }, sparsities: '0.3,0.5,0.7', patterns: '' });
    expect(pts).toHaveLength(6);
    expect(pts.map((p) => p.method)).toEqual(['magnitude', 'magnitude', 'magnitude', 'wanda', 'wanda', 'wanda']);
    expect(sweepPointsOf(DEFAULT_SWEEP)).toHaveLength(12);
    expect(() => sweepPointsOf({ ...DEFAULT_SWEEP, methods: { magnitude: false, wanda: false, sparsegpt: false, sparsellm: false } })).toThrow(/at least one method/);
    expect(() => sweepPointsOf({ ...DEFAULT_SWEEP, sparsities: '', patterns: '' })).toThrow(/at least one/);
  });
});

describe('calibration windows', () => {
  it('says when the text gives fewer windows than samples', () => {
    expect(calibrationShortfall(null, 32, 256, false)).toBeNull();
    expect(calibrationShortfall(256 * 32, 32, 256, false)).toBeNull();
    expect(calibrationShortfall(256 * 31 + 255, 32, 256, false)).toMatch(/31 windows of 256 tokens, fewer than the 32 samples/);
    // With a seed, windows may overlap: one window is enough.
    expect(calibrationShortfall(300, 32, 256, true)).toBeNull();
    expect(calibrationShortfall(100, 1, 256, true)).toMatch(/fewer than one window/);
  });
});

describe('store helpers', () => {
  const run = (id: number, layers = 1): RunRecord => ({
    id,
    source: 'prune',
    method: 'wanda',
    target: { kind: 'unstructured', sparsity: 0.5 },
    label: 'wanda 50%',
    sparsity: 0.5,
    ppl: 10,
    nll: 2,
    seconds: 1,
    pruneSeconds: 1,
    layers: Array.from({ length: layers }, (_, i) => ({ name: `l${i}`, sparsity: 0.5, rel_error: 0.1 })),
    warnings: [],
    evalKey: 'k',
    evalLabel: 'k',
    calibLabel: 'c',
  });

  it('selects the chosen run, else the latest with layers', () => {
    const runs = [run(1), run(2), run(3, 0)];
    expect(selectedRun({ runs, selectedRunId: null })?.id).toBe(2);
    expect(selectedRun({ runs, selectedRunId: 1 })?.id).toBe(1);
    expect(selectedRun({ runs, selectedRunId: 99 })?.id).toBe(2);
    expect(selectedRun({ runs: [], selectedRunId: null })).toBeNull();
  });

  it('estimates the fraction done', () => {
    const job = { id: 1, callId: 1, startedAt: 0, stageStartedAt: 0, label: '', sweep: null, cancelRequested: false };
    const prune: Job = { ...job, kind: 'prune', stage: 'prune', progress: { phase: 'prune', done: 7, total: 35 } };
    expect(jobFraction(prune)).toBeCloseTo(0.85 * 0.2);
    expect(jobFraction({ ...prune, stage: 'eval', progress: { phase: 'perplexity', done: 1, total: 2 } })).toBeCloseTo(0.925);
    const sweep: Job = { ...job, kind: 'sweep', stage: null, progress: null, sweep: { sweepId: 1, pointsDone: 2, pointsTotal: 4 } };
    expect(jobFraction(sweep)).toBe(0.5);
    expect(jobFraction({ ...sweep, progress: { phase: 'prune', done: 35, total: 35, detail: 'point 3/4 (wanda 50%) · layer 5/5' } })).toBeCloseTo((2 + 0.85) / 4);
  });

  it('names the export folder after the model and the run', () => {
    expect(exportFolderName('stories260K', null)).toBe('stories260K-dense');
    expect(exportFolderName('stories260K', { method: 'sparsegpt', target: { kind: 'unstructured', sparsity: 0.5 }, sparsity: 0.5 })).toBe('stories260K-sparsegpt-50pct');
    expect(exportFolderName('my model', { method: 'wanda', target: { kind: 'nm', n: 2, m: 4 }, sparsity: 0.5 })).toBe('my_model-wanda-2of4');
  });
});

describe('per-layer overrides', () => {
  it('parses suffixes and full names, percents, fractions and N:M', () => {
    expect(parseOverrides('mlp.down=30%, layers.0.attn.q=2:4; attn.o=0.6')).toEqual({
      'mlp.down': { kind: 'unstructured', sparsity: 0.3 },
      'layers.0.attn.q': { kind: 'nm', n: 2, m: 4 },
      'attn.o': { kind: 'unstructured', sparsity: 0.6 },
    });
    expect(parseOverrides('  ')).toEqual({});
  });
  it('refuses malformed entries with what to type', () => {
    expect(() => parseOverrides('mlp.down 30%')).toThrow(/should look like "mlp.down=30%"/);
    expect(() => parseOverrides('mlp.down=50')).toThrow(/fractions below 1/);
    expect(() => parseOverrides('mlp.down=4:4')).toThrow(/N < M/);
    expect(() => parseOverrides('mlp.down=x')).toThrow(/not a sparsity/);
    expect(() => parseOverrides('mlp.up=0.1, mlp.up=0.2')).toThrow(/given twice/);
  });
  it('reaches the prune options', () => {
    const o = pruneOptionsOf({ ...DEFAULT_SETTINGS, overrides: 'mlp.down=20%' }, 64, 5);
    expect(o.overrides).toEqual({ 'mlp.down': { kind: 'unstructured', sparsity: 0.2 } });
    expect(pruneOptionsOf(DEFAULT_SETTINGS, 64, 5).overrides).toBeUndefined();
  });
  it('checkOverrides names the sublayers it knows', () => {
    expect(() => checkOverrides({ 'mlp.dwn': { kind: 'unstructured', sparsity: 0.1 } }, ['layers.0.mlp.down', 'layers.0.attn.q'])).toThrow(/matches no pruned sublayer.*mlp\.down, attn\.q/);
    expect(() => checkOverrides({ 'layers.0.mlp.down': { kind: 'unstructured', sparsity: 0.1 } }, ['layers.0.mlp.down'])).not.toThrow();
  });
});
