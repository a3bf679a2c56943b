// Paths (and the sample texts) of the fixtures the project ships (no test reads ../shared).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RefTensors } from '../../src/core/reference/hf-model';
import { parseSafetensorsRef } from '../../src/core/reference/safetensors-ref';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO_MODEL = path.join(ROOT, 'public/models/stories260K');
export const SAMPLE_EVAL = path.join(ROOT, 'public/data/sample-eval.txt');
export const SAMPLE_CALIB = path.join(ROOT, 'public/data/sample-calib.txt');
/** The page's sample texts (TinyStories-like): calibration and evaluation. */
export const CALIB_TEXT = fs.readFileSync(SAMPLE_CALIB, 'utf8');
export const EVAL_TEXT = fs.readFileSync(SAMPLE_EVAL, 'utf8');
export const FIXTURE_MODELS = path.join(ROOT, 'test/fixtures/models');

export function json<T = any>(p: string): T {
  return JSON.parse(fs.readFileSync(p, 'utf8')) as T;
}

/** All HF tensors of a fixture folder (single file or shards), parsed by the reference parser. */
export function refTensors(dir: string): RefTensors {
  const all: RefTensors = new Map();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.safetensors'))) {
    for (const [k, v] of parseSafetensorsRef(new Uint8Array(fs.readFileSync(path.join(dir, f)))).tensors) all.set(k, v);
  }
  return all;
}
