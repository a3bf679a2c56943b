// Results as CSV (RFC 4180) and JSON, and the per-run settings the recipe and the JSON use.
// The CSV is read back with an independent RFC 4180 parser written here.
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvField, resultsCsv, resultsJson } from '../../src/store/results-export';
import { parseCalibLabel, runOptions } from '../../src/store/run-options';
import { runFactory } from '../helpers/runs';

// A SparseGPT 50 % prune run measured on the sample texts.
const run = runFactory({
  source: 'prune', method: 'sparsegpt', label: 'sparsegpt 50%', sparsity: 0.50018, ppl: 24.1248, nll: Math.log(24.1248), seconds: 12.5, pruneSeconds: 10.25,
  layers: [{ name: 'layers.0.attn.q', hf: 'model.layers.0.self_attn.q_proj', sparsity: 0.5, rel_error: 0.01, damp: 0.002 }],
  evalKey: 'E', evalLabel: 'seqlen 64, max 2 windows, sample-eval.txt', calibLabel: '4 × 64 tokens of sample-calib.txt',
});

/** RFC 4180: records end with CRLF; quoted fields may hold commas, CRLF/LF and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else {
      // A bare CR or LF outside quotes is not allowed by RFC 4180.
      expect(c === '\n' || c === '\r', `bare line break at ${i}`).toBe(false);
      field += c;
      i++;
    }
  }
  expect(field === '' && row.length === 0, 'the last record ends with CRLF').toBe(true);
  return rows;
}

describe('csvField', () => {
  it('quotes fields with commas, quotes and line breaks, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField('')).toBe('');
  });
  it('writes numbers in full precision and missing values as empty fields', () => {
    expect(csvField(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(csvField(24.1248)).toBe('24.1248');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(NaN)).toBe('');
    expect(csvField(Infinity)).toBe('');
  });
});

describe('resultsCsv', () => {
  const runs = [
    run({ method: 'dense', target: null, label: 'dense', sparsity: 0, ppl: 5.737, nll: 1.747, source: 'sweep', sweepId: 1, layers: [], calibLabel: '—' }),
    run({ source: 'sweep', sweepId: 1, method: 'wanda', target: { kind: 'nm', n: 2, m: 4 }, label: 'wanda 2:4', sparsity: 0.5, ppl: 77.1194 }),
    run({ warnings: ['layers.0.attn.q: Cholesky failed; retried with 10× dampening', 'a "quoted", comma'], calibLabel: '4 × 64 tokens of my, "odd" file.txt' }),
    run({ ppl: null, nll: null }),
  ];
  const text = resultsCsv(runs, { E: 5.737 });
  const rows = parseCsv(text);

  it('has the header and one row per run, CRLF line ends', () => {
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(runs.length + 1);
    for (const r of rows) expect(r).toHaveLength(CSV_COLUMNS.length);
    expect(text.endsWith('\r\n')).toBe(true);
  });

  it('round-trips every field, escaped ones included', () => {
    const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    const [dense, nm, warned, unmeasured] = rows.slice(1);
    expect(dense[col('method')]).toBe('dense');
    expect(dense[col('target')]).toBe('');
    expect(dense[col('source')]).toBe('sweep 1');
    expect(dense[col('dense_perplexity')]).toBe('5.737');
    expect(nm[col('target')]).toBe('2:4');
    expect(nm[col('pattern')]).toBe('2:4');
    expect(nm[col('target_sparsity')]).toBe('0.5');
    expect(Number(nm[col('perplexity')])).toBe(77.1194);
    expect(warned[col('calibration')]).toBe('4 × 64 tokens of my, "odd" file.txt');
    expect(warned[col('warnings')].split('\n')).toEqual(['layers.0.attn.q: Cholesky failed; retried with 10× dampening', 'a "quoted", comma']);
    expect(warned[col('target')]).toBe('50%');
    expect(warned[col('target_sparsity')]).toBe('0.5');
    expect(Number(warned[col('achieved_sparsity')])).toBe(0.50018);
    expect(Number(warned[col('nll')])).toBe(Math.log(24.1248));
    expect(Number(warned[col('prune_seconds')])).toBe(10.25);
    expect(Number(warned[col('total_seconds')])).toBe(12.5);
    expect(warned[col('eval')]).toBe('seqlen 64, max 2 windows, sample-eval.txt');
    expect(warned[col('dense_perplexity')]).toBe('5.737');
    expect(unmeasured[col('perplexity')]).toBe('');
    expect(unmeasured[col('nll')]).toBe('');
  });
});

describe('resultsJson', () => {
  it('holds the runs with their sublayers, the dense perplexities, model, app version and date', () => {
    const runs = [run({}), run({ layers: [{ name: 'layers.1.mlp.down', sparsity: 0.5, rel_error: 0.2 }], ppl: null, nll: null })];
    const doc = JSON.parse(
      resultsJson(runs, {
        model: 'stories260K',
        appVersion: '9.9.9',
        date: '2025-01-02T03:04:05.000Z',
        dense: { E: 5.737 },
        hfNames: { 'layers.1.mlp.down': 'model.layers.1.mlp.down_proj' },
        options: (rid) => (rid === runs[0].id ? { calibSamples: 4, seqlen: 64, percdamp: 0.01, blocksize: 128, skipLayers: [], recorded: true } : null),
      }),
    );
    expect(doc.model).toBe('stories260K');
    expect(doc.app).toEqual({ name: 'Prune Studio', version: '9.9.9' });
    expect(doc.date).toBe('2025-01-02T03:04:05.000Z');
    expect(doc.dense).toEqual([{ eval_key: 'E', eval: 'seqlen 64, max 2 windows, sample-eval.txt', perplexity: 5.737 }]);
    expect(doc.runs).toHaveLength(2);
    expect(doc.runs[0]).toMatchObject({ run: runs[0].id, method: 'sparsegpt', target: '50%', perplexity: 24.1248, dense_perplexity: 5.737, prune_seconds: 10.25, total_seconds: 12.5 });
    expect(doc.runs[0].options).toMatchObject({ calibSamples: 4, seqlen: 64 });
    expect(doc.runs[0].layers).toEqual([{ name: 'layers.0.attn.q', hf: 'model.layers.0.self_attn.q_proj', sparsity: 0.5, rel_error: 0.01, damp: 0.002 }]);
    // A layer without its HF name gets it from the map.
    expect(doc.runs[1].layers[0].hf).toBe('model.layers.1.mlp.down_proj');
    expect(doc.runs[1].perplexity).toBeNull();
    expect(doc.runs[1].options).toBeNull();
  });
});

describe('run options', () => {
  it('parses calibration labels, with and without a seed', () => {
    expect(parseCalibLabel('32 × 256 tokens of sample-calib.txt')).toEqual({ calibSamples: 32, seqlen: 256 });
    expect(parseCalibLabel('4 × 64 tokens of my, file.txt, seed 7')).toEqual({ calibSamples: 4, seqlen: 64, seed: 7 });
    expect(parseCalibLabel('—')).toBeNull();
  });

  it('uses the settings recorded on a run; runs without them fall back to their label', () => {
    const mine = run({ calibLabel: '16 × 128 tokens of x, seed 3', options: { calibSamples: 16, seqlen: 128, seed: 3, percdamp: 0.05, blocksize: 64, skipLayers: [1] } });
    const restored = run({ calibLabel: '8 × 32 tokens of y' });
    expect(runOptions(mine)).toEqual({ calibSamples: 16, seqlen: 128, seed: 3, percdamp: 0.05, blocksize: 64, skipLayers: [1], recorded: true });
    expect(runOptions(restored)).toEqual({ calibSamples: 8, seqlen: 32, percdamp: 0.01, blocksize: 128, skipLayers: [], recorded: false });
  });
});
