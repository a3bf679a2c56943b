// Start-up: the sample texts (no GPU needed), the engine, then the demo model; the subscriptions
// that keep the stores consistent (token counts follow the selected texts, a different model
// resets the pruning state) and the saved history.
import { startEngine } from './engine-actions';
import { initHistory, modelIdentity } from './history';
import { loadDemoModel } from './model-actions';
import { usePrune } from './prune';
import { resetPruneState } from './prune-actions';
import { useModel } from './model';
import { loadSampleText, refreshTokenCount } from './text-actions';
import { useTexts } from './texts';

let booted = false;

/** Start everything: sample text (no GPU needed), engine, then the demo model. */
export async function bootstrap(): Promise<void> {
  if (booted) return;
  booted = true;
  // Re-count tokens whenever a slot's selected text changes.
  useTexts.subscribe((s, prev) => {
    for (const slot of ['calib', 'eval'] as const) {
      const a = s[slot];
      const b = prev[slot];
      if (a.selected !== b.selected || a.sample !== b.sample || a.file !== b.file || a.pasted !== b.pasted) {
        const typing = a.pasted !== b.pasted;
        // Mark the count stale at once (the Method area uses the calibration count).
        if (typing && a.tokens.status === 'done') useTexts.getState().setSlot(slot, { tokens: { status: 'counting' } });
        void refreshTokenCount(typing ? 400 : 0, slot);
      }
    }
  });
  // A different model: the runs, charts and weight state of the previous one no longer apply.
  // The same model loaded again (a restarted engine after a lost device, the demo dropped as a
  // folder) keeps its runs; only its weights are dense again.
  let lastModelKey: string | null = null;
  useModel.subscribe((s, prev) => {
    if (s.summary === prev.summary || !s.summary) return;
    const key = modelIdentity(s.summary).key;
    if (key !== lastModelKey) resetPruneState();
    else usePrune.getState().set({ weights: null });
    lastModelKey = key;
  });
  // Saved settings come back now; each loaded model's runs come back after the reset above.
  // A sweep that loses its GPU device restarts the engine and resumes by itself.
  void initHistory();
  void loadSampleText('calib');
  void loadSampleText('eval');
  if (await startEngine()) await loadDemoModel();
}
