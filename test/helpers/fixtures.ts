// Paths (and the sample texts) of the fixtures the project ships (no test reads ../shared).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
