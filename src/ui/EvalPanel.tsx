import { type FormEvent } from 'react';
import { cancelMeasure, measurePerplexity } from '../store/actions';
import { useEngine } from '../store/engine';
import { useModel } from '../store/model';
import { usePerplexity } from '../store/perplexity';
import { usePrune } from '../store/prune';
import { selectedText, useTexts } from '../store/texts';
import { ErrorAlert } from './ErrorAlert';
import { formatInt, formatMetric, formatSeconds } from './format';
import { useNow } from './hooks';
import { NumberField } from './NumberField';

function RunProgress() {
  const run = usePerplexity((s) => s.run);
  const running = run.status === 'running';
  const now = useNow(running);
  if (run.status !== 'running') return null;
  const p = run.progress;
  const elapsed = Math.max(0, (now - run.startedAt) / 1000);
  const what = !p ? 'Starting…' : p.phase === 'perplexity' ? `Window ${p.done}/${p.total}` : `${p.phase} ${p.done}/${p.total}`;
  return (
    <div className="progress-block" data-testid="ppl-progress">
      <label>
        <span>
          {what} · {formatSeconds(elapsed)}
        </span>
        <progress max={p?.total || 1} value={p ? p.done : undefined} aria-label="Perplexity progress" />
      </label>
    </div>
  );
}

function Result() {
  const run = usePerplexity((s) => s.run);
  if (run.status === 'cancelled') {
    return (
      <p role="status" className="muted" data-testid="ppl-cancelled">
        Cancelled after {formatSeconds(run.elapsed)}.
      </p>
    );
  }
  if (run.status !== 'done') return null;
  const r = run.result;
  const s = run.settings;
  return (
    <div className="result" data-testid="ppl-result" data-call-id={run.callId} aria-live="polite">
      <p className="result-headline">
        Perplexity{' '}
        <span className="big" data-testid="ppl-value" data-value={String(r.ppl)}>
          {formatMetric(r.ppl, 6)}
        </span>
      </p>
      <dl className="facts">
        <div className="fact">
          <dt>Mean NLL</dt>
          <dd data-testid="nll-value" data-value={String(r.nll)}>
            {formatMetric(r.nll, 6)} nats/token
          </dd>
        </div>
        <div className="fact">
          <dt>Windows</dt>
          <dd>{formatInt(r.windows)}</dd>
        </div>
        <div className="fact">
          <dt>Predicted tokens</dt>
          <dd>{formatInt(r.tokens)}</dd>
        </div>
        <div className="fact">
          <dt>Time</dt>
          <dd>{formatSeconds(r.seconds)}</dd>
        </div>
        <div className="fact">
          <dt>Adapter</dt>
          <dd>{r.adapter}</dd>
        </div>
        <div className="fact">
          <dt>Weights</dt>
          <dd data-testid="ppl-weights">{s.weights}</dd>
        </div>
        <div className="fact">
          <dt>Settings</dt>
          <dd>
            {s.modelName}, {s.textLabel}, seqlen {s.seqlen}
            {s.maxWindows !== undefined ? `, max ${s.maxWindows} windows` : ''}
          </dd>
        </div>
      </dl>
    </div>
  );
}

export function EvalPanel() {
  const { seqlenInput, maxWindowsInput, run, set } = usePerplexity();
  const engineReady = useEngine((s) => s.status === 'ready');
  const modelLoaded = useModel((s) => s.status === 'loaded');
  const hasText = useTexts((s) => selectedText(s.eval).length > 0);
  const pruning = usePrune((s) => s.job !== null);
  const running = run.status === 'running';
  const blocker = !engineReady
    ? 'Needs WebGPU.'
    : !modelLoaded
      ? 'Load a model first.'
      : !hasText
        ? 'Choose an evaluation text first.'
        : pruning
          ? 'Busy: a pruning run is in progress.'
          : null;

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void measurePerplexity();
  };

  return (
    <section className="panel panel-eval" aria-labelledby="eval-heading">
      <h2 id="eval-heading">Evaluate</h2>
      <p className="muted">
        Perplexity of the evaluation text with the weights as they are now (dense or pruned): the text is tokenized once and cut
        into non-overlapping windows of the sequence length.
      </p>
      <form className="eval-form" onSubmit={onSubmit}>
        <NumberField
          id="seqlen"
          testId="seqlen"
          label={
            <>
              Sequence length <span className="muted">(evaluation and calibration)</span>
            </>
          }
          title="One setting for evaluation windows and calibration windows (also shown in the Method area)"
          min={2}
          value={seqlenInput}
          onChange={(v) => set({ seqlenInput: v })}
          disabled={running}
        />
        <NumberField
          id="max-windows"
          testId="max-windows"
          label="Max windows (optional)"
          min={1}
          placeholder="all"
          value={maxWindowsInput}
          onChange={(v) => set({ maxWindowsInput: v })}
          disabled={running}
        />
        <div className="button-row">
          <button type="submit" className="primary" data-testid="measure-ppl" disabled={running || blocker !== null} aria-describedby={blocker ? 'measure-blocker' : undefined}>
            Measure perplexity
          </button>
          <button type="button" data-testid="cancel" disabled={!running} onClick={cancelMeasure}>
            Cancel
          </button>
        </div>
        {blocker && !running ? (
          <p id="measure-blocker" className="muted">
            {blocker}
          </p>
        ) : null}
      </form>
      <RunProgress />
      <ErrorAlert area="eval" testId="eval-error" />
      <Result />
    </section>
  );
}
