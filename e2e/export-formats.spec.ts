// Every export of the Results area through the normal-download fallback (the File System Access
// pickers are removed, as in browsers without them): prune the demo model (Wanda 50 %, the small
// SwiftShader settings), then download the runs as CSV and JSON, the chart as SVG and PNG, the
// run's llm-compressor recipe, and the compressed sparse-bitmask model folder, and check what
// each file holds.
import type { Download, Page, TestInfo } from '@playwright/test';
import { expect, test } from './fixtures';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SMALL, collectDownloads, measurePerplexity, openStudio, safetensorsHeader, saveJson, useDownloads, watchConsole } from './helpers';

/** Click and save the one download it starts; returns its name and bytes. */
async function downloadOne(page: Page, testInfo: TestInfo, testId: string, nth = 0): Promise<{ name: string; bytes: Buffer }> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId(testId).nth(nth).click()]);
  return save(d, testInfo);
}

async function save(d: Download, testInfo: TestInfo): Promise<{ name: string; bytes: Buffer }> {
  const name = d.suggestedFilename();
  const path = testInfo.outputPath('downloads', name);
  await d.saveAs(path);
  return { name, bytes: readFileSync(path) };
}

test('results CSV / JSON, chart SVG / PNG, recipe YAML and the compressed model download and hold the run', async ({ page }, testInfo) => {
  test.setTimeout(420_000);
  await useDownloads(page);
  const consoleErrors = watchConsole(page);
  await openStudio(page);
  expect(await page.evaluate(() => typeof (window as unknown as Record<string, unknown>).showSaveFilePicker)).toBe('undefined');

  // Nothing to export yet.
  await expect(page.getByTestId('export-csv')).toBeDisabled();
  await expect(page.getByTestId('chart-save-svg')).toBeDisabled();

  // The dense reference, then Wanda 50 %.
  const dense = await measurePerplexity(page);
  await page.getByTestId('method-select').selectOption('wanda');
  await page.getByTestId('target-unstructured').check();
  await page.getByTestId('sparsity-input').fill('50');
  await page.getByTestId('prune-run').click();
  const result = page.getByTestId('prune-result');
  await expect(result).toHaveAttribute('data-run-id', /^\d+$/, { timeout: 240_000 });
  await expect(page.getByTestId('prune-error')).toHaveCount(0);
  const ppl = Number(await result.getAttribute('data-ppl'));
  const sparsity = Number(await result.getAttribute('data-sparsity'));
  await expect(page.getByTestId('sweep-chart').getByTestId('sweep-point')).toHaveCount(2);

  // CSV: the header and one row for the run.
  const csv = await downloadOne(page, testInfo, 'export-csv');
  expect(csv.name).toBe('stories260K-results.csv');
  const lines = csv.bytes.toString('utf8').split('\r\n');
  expect(lines.pop()).toBe('');
  expect(lines[0]).toBe('run,source,method,target,target_sparsity,pattern,achieved_sparsity,perplexity,nll,dense_perplexity,eval,calibration,prune_seconds,total_seconds,warnings');
  expect(lines).toHaveLength(2);
  const row = lines[1];
  expect(row).toMatch(/^\d+,prune,wanda,50%,0\.5,,/);
  expect(row).toContain(`,${ppl},`);
  expect(row).toContain(`,${dense},`);
  await expect(page.getByTestId('file-export-status')).toHaveAttribute('data-kind', 'csv');

  // JSON: the run with its 35 sublayers, the dense perplexity, model and app.
  const json = await downloadOne(page, testInfo, 'export-json');
  const doc = JSON.parse(json.bytes.toString('utf8'));
  expect(doc.model).toBe('stories260K');
  expect(doc.app.name).toBe('Prune Studio');
  expect(typeof doc.app.version).toBe('string');
  expect(Number.isNaN(Date.parse(doc.date))).toBe(false);
  expect(doc.runs).toHaveLength(1);
  expect(doc.runs[0]).toMatchObject({ method: 'wanda', perplexity: ppl, achieved_sparsity: sparsity, dense_perplexity: dense });
  expect(doc.runs[0].layers).toHaveLength(35);
  expect(doc.runs[0].layers[0].hf).toMatch(/^model\.layers\.0\./);
  expect(doc.runs[0].options).toMatchObject({ calibSamples: SMALL.calibSamples, seqlen: SMALL.seqlen, recorded: true });
  expect(doc.dense.map((d: { perplexity: number }) => d.perplexity)).toContain(dense);

  // SVG: a standalone image with both points (a circle for Wanda, a square for dense) and paths.
  const svg = await downloadOne(page, testInfo, 'chart-save-svg');
  expect(svg.name).toBe('stories260K-sparsity-vs-perplexity.svg');
  const svgText = svg.bytes.toString('utf8');
  expect(svgText.startsWith('<svg')).toBe(true);
  expect(svgText).toContain('xmlns="http://www.w3.org/2000/svg"');
  expect(svgText).toMatch(/^<svg[^>]* width="\d+"[^>]* height="\d+"/);
  expect(svgText).not.toContain('var(--');
  expect(svgText.match(/data-testid="sweep-point"/g)).toHaveLength(2);
  expect(svgText).toMatch(/<circle[^>]*fill="#d4691c"/);
  expect(svgText).toMatch(/<path /);
  expect(svgText).toContain('Wanda');

  // PNG: the signature, twice the SVG's size, and real content.
  const png = await downloadOne(page, testInfo, 'chart-save-png');
  expect(png.name).toBe('stories260K-sparsity-vs-perplexity.png');
  expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const svgW = Number(/width="(\d+)"/.exec(svgText)![1]);
  const svgH = Number(/height="(\d+)"/.exec(svgText)![1]);
  expect(png.bytes.readUInt32BE(16)).toBe(2 * svgW);
  expect(png.bytes.readUInt32BE(20)).toBe(2 * svgH);
  expect(png.bytes.byteLength).toBeGreaterThan(10_000);

  // Recipe: WandaPruningModifier at 50 %, unstructured, with the calibration settings.
  const recipe = await downloadOne(page, testInfo, 'run-recipe');
  expect(recipe.name).toMatch(/^stories260K-wanda-50pct-recipe\.yaml$/);
  const yamlText = recipe.bytes.toString('utf8');
  const r = parseYaml(yamlText);
  expect(r.sparsity_stage.sparsity_modifiers.WandaPruningModifier).toEqual({ sparsity: 0.5, mask_structure: '0:0', targets: ['Linear'], ignore: ['re:.*lm_head'] });
  expect(r.args).toMatchObject({ num_calibration_samples: SMALL.calibSamples, max_seq_length: SMALL.seqlen });
  expect(yamlText).toContain(`num_calibration_samples=${SMALL.calibSamples},`);

  // GGUF for llama.cpp: one file, version 3, llama architecture, F16 tensors.
  const gguf = await downloadOne(page, testInfo, 'export-gguf-f16');
  expect(gguf.name).toMatch(/^stories260K-wanda-50pct.*-f16\.gguf$/);
  expect(gguf.bytes.subarray(0, 4).toString('latin1')).toBe('GGUF');
  expect(gguf.bytes.readUInt32LE(4)).toBe(3);
  expect(gguf.bytes.includes(Buffer.from('general.architecture'))).toBe(true);
  expect(gguf.bytes.byteLength).toBeGreaterThan(500_000); // 260K parameters, mostly F16

  // The compressed model (legacy, behind its own heading): one download per file, bitmask tensors for the 35 pruned weights.
  await expect(page.getByTestId('sparse-bitmask-legacy')).toBeHidden();
  await page.getByText('Legacy: compressed-tensors sparse-bitmask').click();
  await expect(page.getByTestId('sparse-bitmask-legacy')).toContainText('compressed-tensors 0.14 or older');
  const { downloads, settled } = collectDownloads(page, testInfo, 'downloads');
  await page.getByTestId('export-compressed').click();
  const status = page.getByTestId('export-status');
  await expect(status).toBeVisible({ timeout: 60_000 });
  const expected = (await status.getAttribute('data-files'))!.split(',');
  await settled(expected.length);
  const files = downloads.map((d) => ({ name: d.name, bytes: readFileSync(d.path) }));
  expect(files.map((f) => f.name).sort()).toEqual([...expected].sort());
  for (const f of ['config.json', 'tokenizer.json', 'model.safetensors', 'prune_studio.json']) expect(expected).toContain(f);
  const config = JSON.parse(files.find((f) => f.name === 'config.json')!.bytes.toString('utf8'));
  expect(config.model_type).toBe('llama');
  expect(config.quantization_config.quant_method).toBe('compressed-tensors');
  expect(config.quantization_config.sparsity_config).toMatchObject({ format: 'sparse-bitmask', sparsity_structure: 'unstructured', ignore: [] });
  expect(config.quantization_config.sparsity_config.targets).toHaveLength(35);
  const st = files.find((f) => f.name === 'model.safetensors')!.bytes;
  const { header, dataStart } = safetensorsHeader(st);
  expect(Object.keys(header).filter((k) => k.endsWith('.bitmask'))).toHaveLength(35);
  expect(header['model.layers.0.mlp.down_proj.weight']).toBeUndefined();
  expect(header['model.embed_tokens.weight'].dtype).toBe('F32');
  const p = 'model.layers.0.mlp.down_proj';
  expect(header[`${p}.shape`]).toMatchObject({ dtype: 'I64', shape: [2] });
  expect(header[`${p}.row_offsets`].dtype).toBe('I64');
  expect(header[`${p}.bitmask`].dtype).toBe('U8');
  expect(header[`${p}.compressed`].dtype).toBe('F32');
  const at = (name: string) => st.subarray(dataStart + header[name].data_offsets[0], dataStart + header[name].data_offsets[1]);
  const [N, K] = [Number(at(`${p}.shape`).readBigInt64LE(0)), Number(at(`${p}.shape`).readBigInt64LE(8))];
  expect(header[`${p}.bitmask`].shape).toEqual([N, Math.ceil(K / 8)]);
  // Wanda keeps exactly half of every row: the bitmask has N·K/2 bits set, as many values.
  const bits = [...at(`${p}.bitmask`)].reduce((s, b) => s + (b.toString(2).match(/1/g)?.length ?? 0), 0);
  expect(bits).toBe((N * K) / 2);
  expect(header[`${p}.compressed`].shape).toEqual([bits]);
  const info = JSON.parse(files.find((f) => f.name === 'prune_studio.json')!.bytes.toString('utf8'));
  expect(info.compressed.compressed_tensor_bytes).toBeLessThan(info.compressed.dense_tensor_bytes);

  await saveJson(testInfo, 'export-formats', {
    dense_ppl: dense,
    pruned_ppl: ppl,
    sparsity,
    csv_bytes: csv.bytes.byteLength,
    json_bytes: json.bytes.byteLength,
    svg_bytes: svg.bytes.byteLength,
    png_bytes: png.bytes.byteLength,
    png_size: [png.bytes.readUInt32BE(16), png.bytes.readUInt32BE(20)],
    compressed_file_bytes: st.byteLength,
    compressed_tensor_bytes: info.compressed.compressed_tensor_bytes,
    dense_tensor_bytes: info.compressed.dense_tensor_bytes,
  });
  expect(consoleErrors).toEqual([]);
});
