// The CLI's progress on stderr (cli/common.ts progressLine): a live line on a terminal; in a log
// or a pipe one line per layer or phase, at most one a second, with the time left from the
// work-weighted fraction.
import { expect, test } from 'vitest';
import { progressLine } from '../../src/cli/common';

function recorder(tty: boolean) {
  const out: string[] = [];
  let t = 0;
  const p = progressLine({}, { tty, write: (s) => void out.push(s), clock: () => t });
  return { out, p, at: (s: number) => (t = s * 1000) };
}

test('not a terminal: one line when the layer changes (not per sublayer), throttled to one a second, with the time left', () => {
  const { out, p, at } = recorder(false);
  at(0.5);
  p.update({ phase: 'prune', done: 0, total: 14, detail: 'layer 1/2 · collecting statistics', fraction: 0.01 });
  at(2);
  p.update({ phase: 'prune', done: 1, total: 14, detail: 'layer 1/2 · attn.q', fraction: 0.1 });
  at(10);
  p.update({ phase: 'prune', done: 7, total: 14, detail: 'layer 2/2 · collecting statistics', fraction: 0.5 });
  at(10.5);
  p.update({ phase: 'perplexity', done: 1, total: 4, detail: 'window 1/4' });
  at(12);
  p.update({ phase: 'perplexity', done: 2, total: 4, detail: 'window 2/4' });
  p.end();
  expect(out).toEqual([
    'layer 1/2 · collecting statistics · 1 % · 0.5 s\n',
    'layer 2/2 · collecting statistics · 50 % · 10.0 s, about 10.0 s left\n',
    'window 2/4 · 50 % · 12.0 s, about 12.0 s left\n',
  ]);
});

test('a terminal: every update rewrites one live line, ended by a newline', () => {
  const { out, p, at } = recorder(true);
  at(30);
  p.update({ phase: 'prune', done: 3, total: 14, detail: 'layer 1/2 · attn.v', fraction: 0.2 });
  at(200);
  p.update({ phase: 'prune', done: 4, total: 14, detail: 'layer 1/2 · attn.o', fraction: 0.4 });
  p.end();
  expect(out.map((s) => s.trimEnd())).toEqual([
    '\rlayer 1/2 · attn.v · 20 % · 30.0 s, about 2 min 00 s left',
    '\rlayer 1/2 · attn.o · 40 % · 3 min 20 s, about 5 min 00 s left',
    '',
  ]);
});
