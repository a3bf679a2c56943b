// The options module: one parser per option for the CLI and the page, with one message, its range
// and its default, and no default written anywhere else in the source.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BadOption } from '../../src/core/errors';
import { OPTIONS, checkOption, parseOption } from '../../src/core/options';
import { ROOT } from '../helpers/fixtures';

describe('parseOption', () => {
  test('empty gives the default (or nothing); values in range pass', () => {
    expect(parseOption(OPTIONS.seqlen, '')).toBe(256);
    expect(parseOption(OPTIONS.seqlen, undefined)).toBe(256);
    expect(parseOption(OPTIONS.seed, ' ')).toBeUndefined();
    expect(parseOption(OPTIONS.percdamp, '0.1')).toBe(0.1);
    expect(parseOption(OPTIONS.percdamp, '1e-3')).toBe(0.001);
    expect(parseOption(OPTIONS.blocksize, '64')).toBe(64);
  });
  test.each([
    [OPTIONS.seqlen, 'abc', 'Sequence length: --seqlen must be a positive integer from 2 to 1048576; got "abc".'],
    [OPTIONS.seqlen, '1', 'Sequence length: --seqlen must be a positive integer from 2 to 1048576; got 1.'],
    [OPTIONS.calibSamples, '2.5', 'Calibration samples: --calib-samples must be a positive integer up to 100000; got "2.5".'],
    [OPTIONS.percdamp, '0', 'Dampening: --percdamp must be above 0 and at most 10 (a fraction of the mean Hessian diagonal, usually 0.01); got 0.'],
    [OPTIONS.seed, '-1', 'Seed: --seed must be a whole number from 0 to 4294967295; got "-1".'],
    [OPTIONS.blocksize, '70000', 'Block size: --blocksize must be a positive integer up to 65536; got 70000.'],
  ])('%o %s', (o, raw, message) => {
    expect(() => parseOption(o, raw)).toThrow(BadOption);
    expect(() => parseOption(o, raw)).toThrow(message);
  });
  test('core checks parsed values with the same ranges', () => {
    expect(() => checkOption(OPTIONS.blocksize, 0)).toThrow(/Block size: --blocksize must be/);
    expect(checkOption(OPTIONS.percdamp, 10)).toBe(10);
  });
});

test('each default is written once: nowhere in src/ but core/options.ts', () => {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.tsx?$/.test(e.name) && !p.endsWith(path.join('core', 'options.ts')) && !p.includes(`${path.sep}reference${path.sep}`)) files.push(p);
    }
  };
  walk(path.join(ROOT, 'src'));
  const found: string[] = [];
  for (const [key, o] of Object.entries(OPTIONS)) {
    if (!('default' in o)) continue;
    const names = [key, o.flag].map((n) => n.replace(/[-]/g, '[-_]?'));
    // "percdamp ?? 0.01", "percdamp: '0.01'", "--percdamp 0.01", "blocksize = 128" …
    const re = new RegExp(`(${names.join('|')})['"]?\\s*(\\?\\?|:|=|\\s)\\s*['"]?${String(o.default).replace('.', '\\.')}\\b`, 'i');
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      text.split('\n').forEach((line, i) => {
        // Code only: examples in comments may name a value.
        if (!/^\s*(\/\/|\/?\*)/.test(line) && re.test(line)) found.push(`${path.relative(ROOT, f)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  expect(found).toEqual([]);
});
