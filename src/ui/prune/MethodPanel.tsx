// The Method area: method, target, calibration and SparseGPT settings; Prune / Restore dense /
// Cancel; the sweep settings; progress of the running job.
import { calibrationBytes } from '../../core/calib/windows';
import { METHODS, type PruneMethod } from '../../core/prune/types';
import { weightsLabel } from '../../store/eval-settings';
import { useModel } from '../../store/model';
import { usePerplexity } from '../../store/perplexity';
import { METHOD_LABELS, sweepRemainder, usePrune, type PatternChoice } from '../../store/prune';
import { useJob } from '../../store/job';
import { restoreDense, resumeSweep, runPrune, runSweep } from '../../store/prune-actions';
import { MAX_SPARSITY_PCT, selectedMethods, sweepPointsOf } from '../../store/prune-settings';
import { knownTokens, useTexts } from '../../store/texts';
import { intOrNull, useCalibrationBlocker } from '../blockers';
import { ErrorAlert } from '../ErrorAlert';
import { formatBytes, formatInt } from '../format';
import { DECIMAL, NumberField, SelectField, TextField, fieldsOf } from '../NumberField';
import { JobProgress, RunControls, useJobKind, submitTo } from '../JobControls';

const METHOD_HELP: Record<PruneMethod, string> = {
  magnitude: 'Removes the smallest weights |W|. No calibration statistics are needed, but they are still collected for the error report.',
  wanda: 'Removes weights with the smallest |W| · ‖X‖ per output row (Sun et al., 2023). One pass, no weight update.',
  sparsegpt: 'Removes weights column block by column block and updates the rest to compensate, using the inverse Hessian (Frantar & Alistarh, 2023).',
  sparsellm:
    'SparseGPT for attention; each MLP is pruned as a whole, alternating SparseGPT with closed-form updates of auxiliary activations (Bai et al., 2024), 4 alternations. ReLU (OPT) and SiLU-gated (llama, qwen2) MLPs; slower than SparseGPT, meant for high sparsity.',
};

function CalibrationFacts() {
  const hidden = useModel((s) => s.summary?.hidden ?? null);
  const calib = useTexts((s) => s.calib);
  const seqlen = intOrNull(usePerplexity((s) => s.seqlenInput));
  const samples = intOrNull(usePrune((s) => s.settings.calibSamples));
  const tokens = knownTokens(calib);
  const windows = tokens !== null && seqlen ? Math.floor(tokens / seqlen) : null;
  const bytes = hidden !== null && samples !== null && seqlen ? calibrationBytes(samples, seqlen, hidden) : null;
  return (
    <p className="calib-facts" data-testid="calib-facts" data-windows={windows ?? undefined} data-bytes={bytes ?? undefined}>
      {windows !== null ? (
        <span>
          The calibration text gives <strong>{formatInt(windows)}</strong> window{windows === 1 ? '' : 's'} of {seqlen} tokens.{' '}
        </span>
      ) : (
        <span>Calibration windows: counting tokens… </span>
      )}
      {bytes !== null ? (
        <span>
          Calibration activations: {samples} × {seqlen} × {hidden} × 4 B = <strong>{formatBytes(bytes)}</strong> of GPU memory.
        </span>
      ) : null}
    </p>
  );
}

/** The methods the select offers, in their order. */
const METHOD_CHOICES = Object.fromEntries(METHODS.map((m) => [m, METHOD_LABELS[m]])) as Record<PruneMethod, string>;

function WeightsBadge() {
  const weights = usePrune((s) => s.weights);
  const trained = usePrune((s) => s.trainedRun);
  // A primitive, so progress events do not re-render this.
  const jobState = useJob((s) => {
    const j = s.current;
    if (!j || !(j.kind === 'prune' || j.kind === 'sweep' || j.kind === 'contextual')) return null;
    return j.kind === 'prune' && j.stage === 'eval' ? 'evaluating' : 'pruning';
  });
  const state = jobState ? 'busy' : weights ? 'pruned' : 'dense';
  return (
    <p className={`weights-state weights-${state}`} data-testid="weights-state" data-state={state} aria-live="polite">
      Weights now: <strong>{jobState === 'pruning' ? 'being pruned…' : weightsLabel(weights, trained)}</strong>
    </p>
  );
}

function TargetFields({ disabled }: { disabled: boolean }) {
  const s = usePrune((st) => st.settings);
  const setSettings = usePrune((st) => st.setSettings);
  const pct = Number(s.sparsityPct);
  return (
    <fieldset className="target" disabled={disabled}>
      <legend>Target</legend>
      <label className="radio">
        <input
          type="radio"
          name="target-kind"
          data-testid="target-unstructured"
          checked={s.targetKind === 'unstructured'}
          onChange={() => setSettings({ targetKind: 'unstructured' })}
        />
        <span>Unstructured sparsity</span>
      </label>
      <div className="target-row" aria-disabled={s.targetKind !== 'unstructured'}>
        <input
          type="range"
          min={0}
          max={MAX_SPARSITY_PCT}
          step={1}
          aria-label="Sparsity (%) slider"
          data-testid="sparsity-slider"
          value={Number.isFinite(pct) ? Math.min(MAX_SPARSITY_PCT, Math.max(0, pct)) : 0}
          disabled={s.targetKind !== 'unstructured'}
          onChange={(e) => setSettings({ sparsityPct: e.currentTarget.value })}
        />
        <input
          type="number"
          min={0}
          max={MAX_SPARSITY_PCT}
          step="any"
          inputMode="decimal"
          aria-label="Sparsity (%)"
          data-testid="sparsity-input"
          value={s.sparsityPct}
          disabled={s.targetKind !== 'unstructured'}
          onChange={(e) => setSettings({ sparsityPct: e.currentTarget.value, targetKind: 'unstructured' })}
        />
        <span>%</span>
      </div>
      <label className="radio">
        <input type="radio" name="target-kind" data-testid="target-nm" checked={s.targetKind === 'nm'} onChange={() => setSettings({ targetKind: 'nm' })} />
        <span>N:M pattern (N of every M consecutive weights of a row are zero)</span>
      </label>
      <div className="target-row" aria-disabled={s.targetKind !== 'nm'}>
        <select
          aria-label="N:M pattern"
          data-testid="pattern-input"
          value={s.pattern}
          disabled={s.targetKind !== 'nm'}
          onChange={(e) => setSettings({ pattern: e.currentTarget.value as PatternChoice })}
        >
          <option value="2:4">2:4</option>
          <option value="4:8">4:8</option>
          <option value="custom">Custom…</option>
        </select>
        {s.pattern === 'custom' ? (
          <input
            type="text"
            aria-label="Custom N:M pattern"
            data-testid="pattern-custom"
            placeholder="N:M, e.g. 1:4"
            size={7}
            value={s.customPattern}
            disabled={s.targetKind !== 'nm'}
            onChange={(e) => setSettings({ customPattern: e.currentTarget.value })}
          />
        ) : null}
      </div>
    </fieldset>
  );
}

function SweepSection({ busy, blocker }: { busy: boolean; blocker: string | null }) {
  const sweep = usePrune((s) => s.sweep);
  const setSweep = usePrune((s) => s.setSweep);
  const sweepField = fieldsOf(sweep, setSweep, busy);
  let count: string;
  try {
    const n = sweepPointsOf(sweep).length + (sweep.includeDense ? 1 : 0);
    count = `${n} point${n === 1 ? '' : 's'}`;
  } catch {
    count = selectedMethods(sweep).length ? 'check the lists' : 'no method ticked';
  }
  const onSubmit = submitTo(runSweep);
  return (
    <form className="sweep" onSubmit={onSubmit} aria-labelledby="sweep-heading">
      <h3 id="sweep-heading">Sweep</h3>
      <p className="muted">
        Each point is pruned from the dense weights and measured; it appears in the chart as soon as it is known. Sweeps use the calibration,
        sequence length and SparseGPT settings above (not the layers to skip or the per-layer overrides).
      </p>
      <fieldset className="sweep-methods" data-testid="sweep-methods" disabled={busy}>
        <legend>Methods</legend>
        {METHODS.map((m) => (
          <label key={m} className="check">
            <input
              type="checkbox"
              data-testid={`sweep-method-${m}`}
              value={m}
              checked={sweep.methods[m]}
              onChange={(e) => setSweep({ methods: { ...sweep.methods, [m]: e.currentTarget.checked } })}
            />
            <span>{METHOD_LABELS[m]}</span>
          </label>
        ))}
      </fieldset>
      <div className="form-grid">
        <TextField {...sweepField('sparsities', 'sweep-sparsities')} label="Sparsities" placeholder="0.3, 0.5, 0.7" />
        <TextField {...sweepField('patterns', 'sweep-patterns')} label="N:M patterns" placeholder="2:4, 4:8 (optional)" />
      </div>
      <label className="check">
        <input type="checkbox" data-testid="sweep-dense" checked={sweep.includeDense} disabled={busy} onChange={(e) => setSweep({ includeDense: e.currentTarget.checked })} />
        <span>Measure the dense model first (the chart's reference point)</span>
      </label>
      <RunControls kind="sweep" ids={{ run: 'sweep-run', cancel: 'sweep-cancel', blocker: 'sweep-blocker' }} label="Run sweep" busy={busy} blocker={blocker}>
        <span className="muted" data-testid="sweep-count">
          {count}
        </span>
      </RunControls>
      <ResumeSweep busy={busy} />
      <JobProgress kind="sweep" />
      <SweepNotice />
      <ErrorAlert area="sweep" testId="sweep-error" />
    </form>
  );
}

/** The latest unfinished sweep of this model (reload, crash, cancel), with what is left of it. */
function ResumeSweep({ busy }: { busy: boolean }) {
  const sweeps = usePrune((s) => s.sweeps);
  const runs = usePrune((s) => s.runs);
  const running = useJobKind();
  if (running === 'prune' || running === 'sweep') return null;
  const ids = Object.keys(sweeps).map(Number).sort((a, b) => b - a);
  for (const id of ids) {
    const left = sweepRemainder(sweeps[id], runs);
    if (!left) continue;
    return (
      <p className="resume-sweep" data-testid="sweep-resumable" data-sweep-id={id} data-left={left.total - left.done}>
        Sweep {id} stopped after {left.done} of {left.total} points{sweeps[id].status === 'cancelled' ? ' (cancelled)' : ''}.{' '}
        <button type="button" data-testid="sweep-resume" disabled={busy} onClick={() => void resumeSweep(id)}>
          Resume ({left.total - left.done} left)
        </button>
      </p>
    );
  }
  return null;
}

function SweepNotice() {
  const notice = usePrune((s) => s.notice);
  if (!notice) return null;
  return (
    <p className="notice-inline" role="status" data-testid="sweep-notice">
      {notice}{' '}
      <button type="button" className="link-button" onClick={() => usePrune.getState().set({ notice: null })}>
        Dismiss
      </button>
    </p>
  );
}

export function MethodPanel() {
  const s = usePrune((st) => st.settings);
  const setSettings = usePrune((st) => st.setSettings);
  // The job's kind only (a primitive): progress events re-render JobProgress, not this form.
  const running = useJobKind();
  const jobKind = running === 'prune' || running === 'sweep' ? running : null;
  const weights = usePrune((st) => st.weights);
  const seqlenInput = usePerplexity((st) => st.seqlenInput);
  const setPpl = usePerplexity((st) => st.set);
  const layers = useModel((st) => st.summary?.layers ?? null);
  // Why Prune / Run sweep cannot start now (beyond settings errors, which show on click).
  const blocker = useCalibrationBlocker('method');
  const busy = jobKind !== null;
  const field = fieldsOf(s, setSettings, busy);

  const onSubmit = submitTo(runPrune);

  return (
    <section className="panel panel-method" aria-labelledby="method-heading" data-testid="method-panel">
      <h2 id="method-heading">Method</h2>
      <WeightsBadge />
      <form className="method-form" onSubmit={onSubmit}>
        <div className="form-grid">
          <SelectField id="method-select" label="Method" value={s.method} labels={METHOD_CHOICES} disabled={busy} describedBy="method-help" onChange={(method) => setSettings({ method })} />
          <p id="method-help" className="muted span-all">
            {METHOD_HELP[s.method]}
          </p>
        </div>

        <TargetFields disabled={busy} />

        <div className="form-grid">
          <NumberField {...field('calibSamples', 'calib-samples')} label="Calibration samples" min={1} />
          <NumberField
            {...fieldsOf({ seqlen: seqlenInput }, (p) => setPpl({ seqlenInput: p.seqlen }), busy)('seqlen', 'prune-seqlen')}
            label={
              <>
                Sequence length <span className="muted">(shared with evaluation)</span>
              </>
            }
            title="The same setting as in the Evaluate area"
            min={2}
          />
          <NumberField
            {...field('seed', 'calib-seed')}
            label={
              <>
                Random windows, seed <span className="muted">(optional)</span>
              </>
            }
            min={0}
            placeholder="first windows"
          />
          <TextField
            {...field('skipLayers', 'skip-layers')}
            label={
              <>
                Layers to skip <span className="muted">(optional)</span>
              </>
            }
            placeholder={layers ? `e.g. 0, ${layers - 1}  (0–${layers - 1})` : 'e.g. 0, 3-4'}
          />
          <TextField
            {...field('overrides', 'layer-overrides')}
            label={
              <>
                Per-layer overrides <span className="muted">(optional)</span>
              </>
            }
            title="Sublayer (in every layer, or one layer with layers.N.) = sparsity or N:M pattern"
            placeholder="e.g. mlp.down=30%, layers.0.attn.q=2:4"
          />
        </div>

        <fieldset className="sparsegpt-options" disabled={busy || s.method !== 'sparsegpt'}>
          <legend>SparseGPT {s.method !== 'sparsegpt' ? <span className="muted">(not used by {METHOD_LABELS[s.method]})</span> : null}</legend>
          <div className="form-grid">
            <NumberField {...field('percdamp', 'percdamp')} disabled={undefined} {...DECIMAL} label="Dampening" min={0} />
            <NumberField {...field('blocksize', 'blocksize')} disabled={undefined} label="Block size" min={1} />
          </div>
        </fieldset>

        <CalibrationFacts />

        <RunControls kind="prune" ids={{ run: 'prune-run', cancel: 'prune-cancel', blocker: 'prune-blocker' }} label="Prune" busy={busy} blocker={blocker}>
          <button type="button" data-testid="restore-dense" disabled={busy || weights === null} onClick={() => void restoreDense()}>
            Restore dense
          </button>
        </RunControls>
        <p className="muted small">Prune runs once from the dense weights, then measures the pruned model on the evaluation text.</p>
      </form>
      <JobProgress kind="prune" />
      <ErrorAlert area="prune" testId="prune-error" />
      <SweepSection busy={busy} blocker={blocker} />
    </section>
  );
}
