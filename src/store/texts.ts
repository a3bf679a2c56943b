// The two texts of the studio, each in its own slot:
//   calib: calibration text for pruning (built-in sample-calib.txt by default),
//   eval:  evaluation text for perplexity (built-in sample-eval.txt by default).
// Each slot can be the built-in sample, a text file the user dropped or picked, or pasted text.
// The texts themselves are plain strings; only the selected one is sent to the worker.
import { create } from 'zustand';

export type TextKind = 'sample' | 'file' | 'pasted';
export type TextSlotName = 'calib' | 'eval';

export interface SampleText {
  status: 'loading' | 'ready' | 'error';
  name: string;
  text: string;
}

export interface FileText {
  name: string;
  bytes: number;
  text: string;
}

export type TokenCount =
  | { status: 'idle' }
  | { status: 'counting' }
  | { status: 'done'; tokens: number; kind: TextKind }
  /** No tokenizer yet (no model, or no WebGPU). */
  | { status: 'unavailable'; reason: string };

export interface TextSlot {
  selected: TextKind;
  sample: SampleText;
  file: FileText | null;
  pasted: string;
  tokens: TokenCount;
}

interface TextsState {
  eval: TextSlot;
  calib: TextSlot;
  setSlot(slot: TextSlotName, patch: Partial<TextSlot>): void;
}

export const SAMPLE_EVAL_NAME = 'sample-eval.txt';
export const SAMPLE_CALIB_NAME = 'sample-calib.txt';
export const SAMPLE_NAMES: Record<TextSlotName, string> = { eval: SAMPLE_EVAL_NAME, calib: SAMPLE_CALIB_NAME };
export const SLOT_TITLES: Record<TextSlotName, string> = { calib: 'Calibration text', eval: 'Evaluation text' };

function emptySlot(sampleName: string): TextSlot {
  return { selected: 'sample', sample: { status: 'loading', name: sampleName, text: '' }, file: null, pasted: '', tokens: { status: 'idle' } };
}

export const useTexts = create<TextsState>()((set) => ({
  eval: emptySlot(SAMPLE_EVAL_NAME),
  calib: emptySlot(SAMPLE_CALIB_NAME),
  setSlot: (slot, patch) => set((s) => ({ [slot]: { ...s[slot], ...patch } }) as Partial<TextsState>),
}));

/** The text the user selected in a slot, or '' when that source is empty or not loaded yet. */
export function selectedText(s: Pick<TextSlot, 'selected' | 'sample' | 'file' | 'pasted'>): string {
  switch (s.selected) {
    case 'sample':
      return s.sample.status === 'ready' ? s.sample.text : '';
    case 'file':
      return s.file?.text ?? '';
    case 'pasted':
      return s.pasted;
  }
}

export function selectedTextLabel(s: Pick<TextSlot, 'selected' | 'sample' | 'file'>): string {
  switch (s.selected) {
    case 'sample':
      return `built-in sample (${s.sample.name})`;
    case 'file':
      return s.file ? `file ${s.file.name}` : 'file (none chosen)';
    case 'pasted':
      return 'pasted text';
  }
}

/** Token count of a slot's selected text, when known. */
export function knownTokens(s: TextSlot): number | null {
  return s.tokens.status === 'done' && s.tokens.kind === s.selected ? s.tokens.tokens : null;
}
