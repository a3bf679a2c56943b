// `--model hf:org/name[@rev]`: the CLI downloads into the Hugging Face cache (HF_HOME,
// HF_ENDPOINT) from a local server with the Hub's layout, gives the same perplexity as the
// folder, reads the cache again offline (HF_HUB_OFFLINE=1), and names a Hub refusal.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cliAsync } from '../helpers/cli';
import { DEMO_MODEL, SAMPLE_EVAL } from '../helpers/fixtures';
import { folderFiles, startMockHub, type MockHub } from '../helpers/mock-hub';

let hub: MockHub;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-hf-home-'));

beforeAll(async () => {
  hub = await startMockHub();
  hub.addRepo('karpathy/stories260K', { files: folderFiles(DEMO_MODEL) });
  hub.addRepo('org/gated', { files: folderFiles(DEMO_MODEL), access: 'gated' });
});
afterAll(async () => {
  await hub?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const cli = (env: Record<string, string>, ...args: string[]) => cliAsync({ HF_TOKEN: '', HF_HUB_OFFLINE: '', ...env }, ...args);

const evalArgs = ['--text', SAMPLE_EVAL, '--seqlen', '64', '--max-windows', '2', '--json'];

test('eval of hf:karpathy/stories260K equals the folder, online then offline', async () => {
  const env = { HF_HOME: home, HF_ENDPOINT: hub.hubUrl };
  const folder = await cli({}, 'eval', '--model', DEMO_MODEL, ...evalArgs);
  const online = await cli(env, 'eval', '--model', 'hf:karpathy/stories260K', ...evalArgs);
  expect(online.stderr).toMatch(/downloading model\.safetensors: 1\.0 MiB of 1\.0 MiB \(100 %\)/);
  expect(online.code).toBe(0);
  expect(JSON.parse(online.stdout).ppl).toBe(JSON.parse(folder.stdout).ppl);
  const snap = path.join(home, 'hub', 'models--karpathy--stories260K', 'snapshots', hub.repos.get('karpathy/stories260K')!.sha);
  expect(fs.readdirSync(snap).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);

  hub.log.length = 0;
  const offline = await cli({ ...env, HF_HUB_OFFLINE: '1' }, 'eval', '--model', 'hf:karpathy/stories260K', ...evalArgs);
  expect(offline.code).toBe(0);
  expect(JSON.parse(offline.stdout).ppl).toBe(JSON.parse(folder.stdout).ppl);
  expect(hub.log).toEqual([]);

  const info = await cli({ ...env, HF_HUB_OFFLINE: '1' }, 'info', '--model', 'hf:karpathy/stories260K', '--json');
  expect(JSON.parse(info.stdout).name).toBe('stories260K');
}, 120_000);

test('a gated model without a token: exit 1 and what to do', async () => {
  const r = await cli({ HF_HOME: home, HF_ENDPOINT: hub.hubUrl }, 'eval', '--model', 'hf:org/gated', ...evalArgs);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/"org\/gated" is a gated model: accept its conditions on http:\/\/127\.0\.0\.1:\d+\/org\/gated, then give an access token of that account\./);
}, 60_000);
