// Test helper: loads a Hugging Face model folder from disk for the float64 reference, using the
// reference's own safetensors parser (never the engine's reader).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import type { HfConfig, RefTensor } from '../../../src/core/reference/hf-model.ts';
import { parseSafetensorsRef } from '../../../src/core/reference/safetensors-ref.ts';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const FIXTURES = join(REPO, 'test/fixtures/models');
export const STORIES = join(REPO, 'public/models/stories260K');

export interface HfFolder {
  dir: string;
  config: HfConfig;
  tensors: Map<string, RefTensor>;
  /** Tensor name -> stored dtype. */
  dtypes: Map<string, string>;
}

 
export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function loadHfFolder(dir: string): HfFolder {
  const config = readJson(join(dir, 'config.json'));
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
  const tensors = new Map<string, RefTensor>();
  const dtypes = new Map<string, string>();
  for (const f of files) {
    const bytes = readFileSync(join(dir, f));
    const parsed = parseSafetensorsRef(bytes);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, parsed.dataStart))) as Record<string, { dtype: string }>;
    for (const [k, v] of parsed.tensors) {
      tensors.set(k, v);
      dtypes.set(k, header[k].dtype);
    }
  }
  return { dir, config, tensors, dtypes };
}

export function loadTokenizer(dir: string): Tokenizer | null {
  if (!existsSync(join(dir, 'tokenizer.json'))) return null;
  const cfgPath = join(dir, 'tokenizer_config.json');
  return new Tokenizer(readJson(join(dir, 'tokenizer.json')), existsSync(cfgPath) ? readJson(cfgPath) : {});
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((n) => existsSync(join(FIXTURES, n, 'config.json')))
    .sort();
}
