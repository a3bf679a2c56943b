// The two text slots (calibration and evaluation): the built-in samples, files (checked to be
// UTF-8 text), pasted text, and their token counts with the loaded model's tokenizer (debounced;
// stale answers dropped).
import { BadText, MissingFile } from '../core/errors';
import { baseUrl } from './base-url';
import { getClient } from './client';
import { useEngine } from './engine-status';
import { useErrors, type ErrorArea } from './errors';
import { useModel } from './model';
import { SAMPLE_NAMES, selectedText, useTexts, type TextKind, type TextSlotName, type TokenCount } from './texts';

const MAX_TEXT_BYTES = 64 * 1024 * 1024;
const SLOTS: TextSlotName[] = ['calib', 'eval'];
/** The error area of each text slot (the evaluation text keeps the original "data" area). */
export const TEXT_ERROR_AREA: Record<TextSlotName, ErrorArea> = { eval: 'data', calib: 'calib' };

export async function loadSampleText(slot: TextSlotName = 'eval'): Promise<void> {
  const name = SAMPLE_NAMES[slot];
  const url = new URL(`data/${name}`, baseUrl());
  try {
    const res = await fetch(url);
    if (!res.ok) throw new MissingFile(`Could not fetch the built-in sample text ${url.pathname} (HTTP ${res.status}). Drop or paste a text instead.`);
    const text = await res.text();
    useTexts.getState().setSlot(slot, { sample: { status: 'ready', name, text } });
  } catch (e) {
    useTexts.getState().setSlot(slot, { sample: { status: 'error', name, text: '' } });
    useErrors.getState().setError(TEXT_ERROR_AREA[slot], e);
  }
}

/** Decode a user text file; throws BadText for binary, non-UTF-8, empty or huge files. */
export async function decodeTextFile(file: Blob & { name?: string }): Promise<string> {
  const name = file.name ?? 'the file';
  if (file.size > MAX_TEXT_BYTES) {
    throw new BadText(`${name} is ${(file.size / 1048576).toFixed(1)} MB; texts up to ${MAX_TEXT_BYTES / 1048576} MB are supported. Use a shorter excerpt.`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.subarray(0, 65536).includes(0)) {
    throw new BadText(`${name} looks like a binary file (it contains NUL bytes), not plain text. Choose a UTF-8 .txt file.`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BadText(`${name} is not valid UTF-8 text. Save it as UTF-8 plain text and try again.`);
  }
  if (text.trim().length === 0) throw new BadText(`${name} is empty. Choose a file with some text in it.`);
  return text;
}

export async function loadTextFile(file: File, slot: TextSlotName = 'eval'): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError(TEXT_ERROR_AREA[slot]);
  try {
    const text = await decodeTextFile(file);
    useTexts.getState().setSlot(slot, { file: { name: file.name, bytes: file.size, text }, selected: 'file' });
  } catch (e) {
    errors.setError(TEXT_ERROR_AREA[slot], e);
  }
}

export function selectText(kind: TextKind, slot: TextSlotName = 'eval'): void {
  useErrors.getState().clearError(TEXT_ERROR_AREA[slot]);
  useTexts.getState().setSlot(slot, { selected: kind });
}

export function setPastedText(text: string, slot: TextSlotName = 'eval'): void {
  useTexts.getState().setSlot(slot, { pasted: text, selected: 'pasted' });
}

const countSeq: Record<TextSlotName, number> = { calib: 0, eval: 0 };
const countTimer: Record<TextSlotName, ReturnType<typeof setTimeout> | null> = { calib: null, eval: null };

/** Count tokens of a slot's selected text (debounced; stale answers are dropped). */
export function refreshTokenCount(delayMs = 0, slot?: TextSlotName): Promise<void> {
  if (slot === undefined) return Promise.all(SLOTS.map((s) => refreshTokenCount(delayMs, s))).then(() => undefined);
  const t = countTimer[slot];
  if (t) clearTimeout(t);
  const seq = ++countSeq[slot];
  return new Promise((resolve) => {
    countTimer[slot] = setTimeout(() => {
      countTimer[slot] = null;
      void countNow(slot, seq).finally(resolve);
    }, delayMs);
  });
}

async function countNow(slot: TextSlotName, seq: number): Promise<void> {
  const texts = useTexts.getState();
  const set = (tokens: TokenCount) => {
    if (seq === countSeq[slot]) useTexts.getState().setSlot(slot, { tokens });
  };
  if (useEngine.getState().status !== 'ready') return;
  if (useModel.getState().status !== 'loaded') {
    set({ status: 'unavailable', reason: 'Load a model to count tokens with its tokenizer.' });
    return;
  }
  const text = selectedText(texts[slot]);
  const kind = texts[slot].selected;
  if (!text) {
    set({ status: 'idle' });
    return;
  }
  set({ status: 'counting' });
  try {
    const r = await getClient().call({ type: 'countTokens', text });
    set({ status: 'done', tokens: r.tokens, kind });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    set({ status: 'unavailable', reason: `Could not count tokens: ${reason}` });
  }
}
