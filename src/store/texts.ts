// Evaluation texts: the built-in sample (default), a text file the user dropped or picked, or
// pasted text. The texts themselves are plain strings; only the selected one is sent to the
// worker when counting tokens or measuring.
import { create } from 'zustand';

export type TextKind = 'sample' | 'file' | 'pasted';

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

interface TextsState {
  selected: TextKind;
  sample: SampleText;
  file: FileText | null;
  pasted: string;
  tokens: TokenCount;
  set(patch: Partial<Omit<TextsState, 'set'>>): void;
}

export const SAMPLE_EVAL_NAME = 'sample-eval.txt';

export const useTexts = create<TextsState>()((set) => ({
  selected: 'sample',
  sample: { status: 'loading', name: SAMPLE_EVAL_NAME, text: '' },
  file: null,
  pasted: '',
  tokens: { status: 'idle' },
  set: (patch) => set(patch),
}));

/** The text the user selected, or '' when that source is empty or not loaded yet. */
export function selectedText(s: Pick<TextsState, 'selected' | 'sample' | 'file' | 'pasted'>): string {
  switch (s.selected) {
    case 'sample':
      return s.sample.status === 'ready' ? s.sample.text : '';
    case 'file':
      return s.file?.text ?? '';
    case 'pasted':
      return s.pasted;
  }
}

export function selectedTextLabel(s: Pick<TextsState, 'selected' | 'sample' | 'file'>): string {
  switch (s.selected) {
    case 'sample':
      return `built-in sample (${s.sample.name})`;
    case 'file':
      return s.file ? `file ${s.file.name}` : 'file (none chosen)';
    case 'pasted':
      return 'pasted text';
  }
}
